//! The provider's workspace in the browser: a pending booking confirmed from
//! the agenda, a service added, a day off set, a client's card (tallies, block) with visit
//! history and notes — each checked back through the API.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, spawn_app};

const SLUG: &str = "oleg-barber";
const PROVIDER_TG_ID: i64 = 9100;

#[actix_web::test]
async fn a_provider_works_the_agenda_services_hours_and_client_book() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Oleg", "business_name": "Oleg's Barbershop", "requires_confirmation": true,
        "min_notice_min": 0 });
    let (provider_token, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let tomorrow = berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date");
    let slots =
        app.get(&format!("/api/providers/{SLUG}/slots?service={service}&from={tomorrow}&to={tomorrow}"), None).await;
    let start = slots.ok()["slots"][1]["start"].as_str().expect("a slot").to_owned();
    let client_token = app.dev_sign_in(8400, "Pavel").await;
    let booking = app.book(&client_token, SLUG, &service, &start).await;
    assert_eq!(booking.ok()["status"], "pending", "the provider confirms each booking");

    let oleg = TgUser::new(PROVIDER_TG_ID, "Oleg");
    let Some(phone) = TelegramPhone::open(&app, oleg, Theme::LIGHT, Launch::Menu).await else { return };
    phone.click("#workspace").await;

    // Agenda: the week shows the pending booking; confirm it.
    phone.click("[data-range=\"week\"]").await;
    phone.click("#agenda [data-booking][data-status=\"pending\"] [data-action=\"confirm\"]").await;
    phone.wait_for("#agenda [data-booking][data-status=\"confirmed\"]").await;
    let mine = app.get("/api/bookings", Some(&client_token)).await;
    assert_eq!(mine.ok()[0]["status"], "confirmed");

    // Services: add one.
    phone.click("[data-tab=\"services\"]").await;
    phone.click("#add-service").await;
    phone.fill("[name=\"name\"]", "Beard trim").await;
    phone.fill("[name=\"duration_min\"]", "30").await;
    phone.fill("[name=\"price_minor\"]", "15").await;
    phone.press_main_button().await;
    phone
        .wait_until(
            "[...document.querySelectorAll('[data-service]')].some((b) => b.textContent.includes('Beard trim'))",
        )
        .await;
    phone.screenshot("provider-services-light").await;
    phone.check_screen().await;
    let services = app.get("/api/provider/services", Some(&provider_token)).await;
    let trim = services.ok().as_array().expect("list").iter().find(|s| s["name"] == "Beard trim").cloned();
    let trim = trim.expect("the new service");
    assert_eq!((trim["duration_min"].as_u64(), trim["price_minor"].as_i64()), (Some(30), Some(1500)));

    // Hours: a day off on New Year's Eve.
    phone.click("[data-tab=\"schedule\"]").await;
    phone.click(".override-add").await;
    phone.eval("const d = document.querySelector('[name=override-date]'); d.value = '2027-12-31'; return null").await;
    phone.screenshot("provider-hours-light").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_until("document.getElementById('toast').classList.contains('shown')").await;
    let schedule = app.get("/api/provider/schedule", Some(&provider_token)).await;
    assert_eq!(schedule.ok()["overrides"], json!([{ "date": "2027-12-31", "closed": true, "intervals": [] }]));
    assert_eq!(schedule.ok()["weekly"].as_array().map(Vec::len), Some(7), "the weekly hours are kept");

    // Client book: find Pavel, see the visit, write a note.
    phone.click("[data-tab=\"clients\"]").await;
    phone.fill("[name=\"search\"]", "pav").await;
    phone.click("#clients [data-client]").await;
    phone.wait_for("main[data-screen=\"client\"] .badge.confirmed").await;
    phone.fill("[name=\"notes\"]", "Prefers a short fade").await;
    phone.screenshot("provider-client-card-light").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_for("main[data-screen=\"workspace\"] #clients").await;
    let clients = app.get("/api/provider/clients?search=Pavel", Some(&provider_token)).await;
    assert_eq!(clients.ok()[0]["notes"], "Prefers a short fade");

    // The card tallies the visits and blocks: Pavel's one visit is still to come.
    phone.click("#clients [data-client]").await;
    phone.wait_for("#client-tally").await;
    assert_eq!(phone.text("#client-tally").await, "0 visits · 0 no-shows");
    phone.click("#toggle-block").await;
    assert!(phone.popup_text().await.contains("Pavel will no longer be able to book"), "the popup says what follows");
    phone.answer_popup("ok").await;
    phone.wait_for("#client-blocked").await;
    let clients = app.get("/api/provider/clients?search=Pavel", Some(&provider_token)).await;
    assert_eq!(clients.ok()[0]["blocked"], true);
    phone.screenshot("provider-client-blocked-light").await;
    phone.check_screen().await;
    phone.click("#toggle-block").await;
    phone.wait_gone("#client-blocked").await;
    let clients = app.get("/api/provider/clients?search=Pavel", Some(&provider_token)).await;
    assert_eq!(clients.ok()[0]["blocked"], false, "unblocking asks nothing");
    phone.close().await;
}
