//! The provider books in the browser (issue 13): a client who phoned, from
//! their card, into a free slot; and a walk-in typed in from the agenda at a
//! time outside the hours — each checked back through the API.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, spawn_app};

const SLUG: &str = "vera-tutor";
const PROVIDER_TG_ID: i64 = 9300;

#[actix_web::test]
async fn a_provider_books_a_phoned_in_client_from_the_card_and_a_walk_in_after_hours() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Vera", "min_notice_min": 0 });
    let (vera, _) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let phoned = json!({ "name": "Pavel Phone", "contacts": "+49 30 555 0100" });
    let pavel = app.request("POST", "/api/provider/clients", Some(&vera), Some(phoned)).await;
    let pavel_id = pavel.ok()["id"].as_str().expect("id").to_owned();
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let tomorrow = berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date");

    let Some(phone) = TelegramPhone::open(&app, TgUser::new(PROVIDER_TG_ID, "Vera"), Theme::LIGHT, Launch::Menu).await
    else {
        return;
    };
    phone.click("#workspace").await;

    // From Pavel's card: tomorrow, the free 11:00.
    phone.click("[data-tab=\"clients\"]").await;
    phone.click("#clients [data-client]").await;
    phone.click("#book-for-client").await;
    phone.wait_for("main[data-screen=\"book-for\"] [name=\"date\"]").await;
    let pick_day = format!(
        "const d = document.querySelector('[name=date]'); d.value = '{tomorrow}'; \
         d.dispatchEvent(new Event('change')); return null"
    );
    phone.eval(&pick_day).await;
    phone
        .wait_until("[...document.querySelectorAll('[name=start] option')].some((o) => o.textContent === '11:00')")
        .await;
    phone
        .eval("const s = document.querySelector('[name=start]'); s.value = [...s.options].find((o) => o.textContent === '11:00').value; return null")
        .await;
    phone.screenshot("provider-books-client-light").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_for("main[data-screen=\"client\"] .badge.confirmed").await;
    let card = app.get(&format!("/api/provider/clients/{pavel_id}"), Some(&vera)).await;
    let visit = card.ok()["visits"][0].clone();
    assert_eq!(visit["status"], "confirmed");
    assert!(visit["start"].as_str().unwrap().starts_with(&format!("{tomorrow}T11:00:00+")), "{visit}");

    // From the agenda: a walk-in typed in, at 19:30, after the hours.
    phone.press_back().await;
    phone.click("[data-tab=\"agenda\"]").await;
    phone.click("#book-someone").await;
    phone.wait_for("main[data-screen=\"book-for\"] [name=\"client.name\"]").await;
    phone.fill("[name=\"client.name\"]", "Walk-in Wanda").await;
    phone.eval(&pick_day).await;
    assert!(
        !phone.eval("return document.querySelector('[name=time]').checkVisibility()").await.as_bool().unwrap_or(true)
    );
    phone.click("[name=\"outside_hours\"]").await;
    assert!(
        phone.eval("return document.querySelector('[name=time]').checkVisibility()").await.as_bool().unwrap_or(false)
    );
    phone.eval("const t = document.querySelector('[name=time]'); t.value = '19:30'; return null").await;
    phone.screenshot("provider-books-walk-in-light").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_for("main[data-screen=\"workspace\"] #agenda").await;
    let agenda = app.get(&format!("/api/provider/bookings?from={tomorrow}&to={tomorrow}"), Some(&vera)).await;
    let wanda =
        agenda.ok().as_array().expect("a list").iter().find(|b| b["client"]["name"] == "Walk-in Wanda").cloned();
    let wanda = wanda.expect("Wanda's booking");
    // The Mini App wrote Berlin's offset for that evening, whatever the season.
    let instant = berlin.to_ambiguous_timestamp(tomorrow.at(19, 30, 0, 0)).compatible().expect("a time");
    let hours = berlin.to_offset(instant).seconds() / 3600;
    assert_eq!(wanda["start"], format!("{tomorrow}T19:30:00+{hours:02}:00"), "{wanda}");
    phone.close().await;
}

/// The bot's "Book again" button opens the Mini App straight on that
/// service's live slots; back from there is the provider's page, not the
/// slots again.
#[actix_web::test]
async fn book_again_opens_the_same_services_slots() {
    let app = spawn_app(Backend::Sqlite).await;
    let (vera, _) =
        app.provider(PROVIDER_TG_ID, SLUG, json!({ "display_name": "Vera" }), every_day("09:00", "18:00")).await;
    let second = json!({ "name": "Exam prep", "duration_min": 60 });
    let exam = app.request("POST", "/api/provider/services", Some(&vera), Some(second)).await;
    let exam = exam.ok()["id"].as_str().expect("id").to_owned();
    let launch = Launch::BookAgain { slug: SLUG, service: &exam };
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(9301, "Pavel"), Theme::LIGHT, launch).await else { return };
    phone.wait_for("main[data-screen=\"slots\"] #slots").await;
    assert_eq!(phone.text("main[data-screen=\"slots\"] h1").await, "Exam prep");
    phone.press_back().await;
    phone.wait_for("main[data-screen=\"provider\"] [data-service]").await;
    assert_eq!(phone.eval("return document.getElementById('app').dataset.screen").await, "provider");
    phone.close().await;
}

/// A reminder's "Reschedule" button opens that booking's move at once; back
/// from there is the list of my bookings.
#[actix_web::test]
async fn a_reminders_reschedule_button_opens_the_move() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Vera", "min_notice_min": 0, "cancel_cutoff_min": 0 });
    let (_, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let tomorrow = berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date");
    let slots =
        app.get(&format!("/api/providers/{SLUG}/slots?service={service}&from={tomorrow}&to={tomorrow}"), None).await;
    let start = slots.ok()["slots"][2]["start"].as_str().expect("a slot").to_owned();
    let pavel = app.dev_sign_in(9302, "Pavel").await;
    let booking = app.book(&pavel, SLUG, &service, &start).await.ok()["id"].as_str().expect("id").to_owned();
    let launch = Launch::Reschedule { slug: SLUG, booking: &booking };
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(9302, "Pavel"), Theme::LIGHT, launch).await else { return };
    phone.wait_for("main[data-screen=\"slots\"] #slots").await;
    assert_eq!(phone.text("main[data-screen=\"slots\"] h1").await, "Reschedule");
    phone.press_back().await;
    phone.wait_for(&format!("main[data-screen=\"my-bookings\"] [data-booking=\"{booking}\"]")).await;
    assert_eq!(phone.eval("return document.getElementById('app').dataset.screen").await, "my-bookings");
    phone.close().await;
}
