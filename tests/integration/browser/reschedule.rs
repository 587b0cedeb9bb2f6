//! Moving a booking: the client from "my bookings", then the provider from
//! the agenda — both pick the new time on the live slots screen and confirm
//! with the MainButton.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, spawn_app};

const SLUG: &str = "lena-yoga";

#[actix_web::test]
async fn the_client_and_then_the_provider_reschedule_a_booking() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Lena", "slot_step_min": 30, "min_notice_min": 0 });
    let (_, service) = app.provider(9300, SLUG, profile, every_day("09:00", "18:00")).await;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let day = berlin.to_datetime(Timestamp::now()).date().checked_add(2.days()).expect("a date");
    let slots = app.get(&format!("/api/providers/{SLUG}/slots?service={service}&from={day}&to={day}"), None).await;
    let ten = slots.ok()["slots"][2]["start"].as_str().expect("a slot").to_owned();
    assert!(ten.contains("T10:00"), "{ten}");
    let client_token = app.dev_sign_in(8500, "Olga").await;
    let booking = app.book(&client_token, SLUG, &service, &ten).await.ok()["id"].clone();

    // The client: my bookings → Reschedule → 10:30 (overlapping the booking's
    // own time, offered only because it is the one moving) → MainButton.
    let olga = TgUser::new(8500, "Olga");
    let Some(client) = TelegramPhone::open(&app, olga, Theme::LIGHT, Launch::Link(SLUG)).await else { return };
    client.click("main[data-screen=\"provider\"] #my-bookings").await;
    client.click("[data-booking] [data-action=\"reschedule\"]").await;
    client.wait_for(&format!("[data-date=\"{day}\"][aria-pressed=\"true\"]")).await;
    client.click(&format!("[data-slot^=\"{day}T10:30\"]")).await;
    let button = client.main_button().await.expect("the MainButton offers the move");
    assert!(button.text.contains("10:30"), "{}", button.text);
    client.screenshot("client-reschedule-light").await;
    client.check_screen().await;
    client.press_main_button().await;
    client.wait_until("document.querySelector('[data-booking]')?.textContent.includes('10:30')").await;
    client.close().await;
    let mine = app.get("/api/bookings", Some(&client_token)).await;
    assert_eq!(mine.ok()[0]["id"], booking);
    assert!(mine.ok()[0]["start"].as_str().unwrap_or_default().contains("T10:30"), "{}", mine.ok());

    // The provider: agenda → Reschedule → 15:00 → MainButton → back on the agenda.
    let lena = TgUser::new(9300, "Lena");
    let Some(provider) = TelegramPhone::open(&app, lena, Theme::DARK, Launch::Menu).await else { return };
    provider.click("#workspace").await;
    provider.click("[data-range=\"week\"]").await;
    provider.click("#agenda [data-booking] [data-action=\"reschedule\"]").await;
    provider.click(&format!("[data-slot^=\"{day}T15:00\"]")).await;
    provider.press_main_button().await;
    provider.wait_until("document.querySelector('#agenda [data-booking]')?.textContent.includes('15:00')").await;
    provider.close().await;
    let mine = app.get("/api/bookings", Some(&client_token)).await;
    assert!(mine.ok()[0]["start"].as_str().unwrap_or_default().contains("T15:00"), "{}", mine.ok());
}
