//! Requests answered (issue 13): the provider proposes another time from the
//! agenda, the client accepts it from the bot's button and the agenda moves
//! the booking live; "I'm coming" under a reminder shows on the agenda live;
//! and the client's side of both in "my bookings".

use std::time::Duration;

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use serde_json::{Value, json};

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::{
    fake_telegram::{Call, FakeTelegram, button_press},
    helpers::{Backend, TestApp, every_day, spawn_app_with},
};

const SLUG: &str = "irina-brows";
const PROVIDER_TG_ID: i64 = 9400;
const CLIENT_TG_ID: i64 = 9401;

/// A server whose bot talks to `fake`.
async fn app_with_bot(fake: &FakeTelegram) -> TestApp {
    spawn_app_with(Backend::Sqlite, &[("TELEGRAM_API_URL", &fake.url)]).await
}

/// Today + `days` in the provider's zone.
fn day(days: i64) -> Date {
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    berlin.to_datetime(Timestamp::now()).date().checked_add(days.days()).expect("a date")
}

async fn slot_at(app: &TestApp, service: &str, day: Date, time: &str) -> String {
    let slots = app.get(&format!("/api/providers/{SLUG}/slots?service={service}&from={day}&to={day}"), None).await;
    let found = slots.ok()["slots"].as_array().expect("slots").iter().find_map(|s| {
        let start = s["start"].as_str()?;
        start.contains(&format!("T{time}")).then(|| start.to_owned())
    });
    found.unwrap_or_else(|| panic!("a free {time} on {day}"))
}

/// The callback data of every inline button under `call`'s message.
fn buttons(call: &Call) -> Vec<String> {
    let rows = call.body["reply_markup"]["inline_keyboard"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// The client's booking `id`, as "my bookings" lists it.
async fn my_booking(app: &TestApp, token: &str, id: &str) -> Value {
    let mine = app.get("/api/bookings", Some(token)).await;
    let found = mine.ok().as_array().expect("a list").iter().find(|b| b["id"] == id).cloned();
    found.expect("the booking")
}

/// The agenda's day heading above the card of `booking`.
fn day_of_card(booking: &str) -> String {
    format!(
        "let el = document.querySelector('#agenda [data-booking=\"{booking}\"]');
         while (el && el.tagName !== 'H2') el = el.previousElementSibling;
         return el ? el.dataset.day : null;"
    )
}

#[actix_web::test]
async fn a_proposal_accepted_from_the_bot_button_moves_the_booking_on_the_agenda_live() {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(&fake).await;
    let profile = json!({ "display_name": "Irina", "requires_confirmation": true, "confirm_within_min": 240 });
    let (irina, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let (tomorrow, after) = (day(1), day(2));
    // Olga asks for tomorrow 10:00; a confirmed 09:00 keeps tomorrow on the agenda.
    let olga = app.dev_sign_in(CLIENT_TG_ID, "Olga").await;
    let asked = app.book(&olga, SLUG, &service, &slot_at(&app, &service, tomorrow, "10:00").await).await;
    assert_eq!(asked.ok()["status"], "pending");
    assert!(asked.ok()["confirm_by"].is_string(), "{}", asked.body);
    let id = asked.ok()["id"].as_str().expect("id").to_owned();
    let walk_in = json!({ "service": service, "start": slot_at(&app, &service, tomorrow, "09:00").await,
        "client": { "name": "Walk-in Wanda" } });
    app.request("POST", "/api/provider/bookings", Some(&irina), Some(walk_in)).await.ok();

    let Some(phone) = TelegramPhone::open(&app, TgUser::new(PROVIDER_TG_ID, "Irina"), Theme::LIGHT, Launch::Menu).await
    else {
        return;
    };
    phone.click("#workspace").await;
    phone.click("[data-range=\"week\"]").await;
    let card = format!("#agenda [data-booking=\"{id}\"]");
    phone.wait_for(&format!("{card}[data-status=\"pending\"] .state.deadline")).await;
    assert!(phone.text(&format!("{card} .state.deadline")).await.starts_with("Answer by "));
    phone.screenshot("requests-agenda-pending-light").await;
    phone.check_screen().await;

    // Propose: the live slots of the service; the day after at 14:00.
    phone.click(&format!("{card} [data-action=\"propose\"]")).await;
    phone.wait_for("main[data-screen=\"slots\"] #slots").await;
    assert_eq!(phone.text("main[data-screen=\"slots\"] h1").await, "Propose another time");
    phone.click(&format!("[data-date=\"{after}\"]")).await;
    phone.click(&format!("[data-slot^=\"{after}T14:00\"]")).await;
    let button = phone.main_button().await.expect("the MainButton offers the proposal");
    assert!(button.text.starts_with("Propose ") && button.text.contains("14:00"), "{}", button.text);
    phone.screenshot("requests-propose-light").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_for(&format!("{card} .state.proposed")).await;
    let waiting = phone.text(&format!("{card} .state.proposed")).await;
    assert!(waiting.contains("14:00") && waiting.contains("waiting for the client"), "{waiting}");
    assert_eq!(phone.eval(&day_of_card(&id)).await, json!(tomorrow.to_string()), "still asked for tomorrow");
    phone.screenshot("requests-agenda-proposed-light").await;

    // The client hears of it in the chat, with Accept and Decline.
    let told = fake.wait_for_messages(CLIENT_TG_ID, 1, Duration::from_secs(10)).await;
    let proposed = told.last().expect("the client was told of the proposal");
    assert!(proposed.body["text"].as_str().unwrap_or_default().contains("14:00"), "{}", proposed.body);
    // Accept names the proposed time (a press under an outdated proposal accepts nothing).
    let pressed = buttons(proposed);
    assert_eq!(pressed.len(), 2, "{pressed:?}");
    assert!(pressed[0].starts_with(&format!("accept-proposal:{id}:")), "{pressed:?}");
    assert_eq!(pressed[1], format!("decline-proposal:{id}"));
    let accept = pressed[0].clone();

    // A marker a reload would wipe out; then the client presses Accept.
    phone.eval("window.__sameDocument = true; return null").await;
    fake.push_update("callback_query", button_press(CLIENT_TG_ID, &accept, "accept"));
    phone.wait_for(&format!("{card}[data-status=\"confirmed\"]")).await;
    phone.wait_gone(&format!("{card} .state")).await;
    assert!(phone.text(&format!("{card} .row")).await.starts_with("14:00"));
    assert_eq!(phone.eval(&day_of_card(&id)).await, json!(after.to_string()), "moved under its new day");
    assert_eq!(phone.eval("return window.__sameDocument === true").await, true, "no reload happened");
    let order = phone.eval("return [...document.querySelectorAll('#agenda h2')].map((h) => h.dataset.day)").await;
    assert_eq!(order, json!([tomorrow.to_string(), after.to_string()]), "days in order");
    phone.screenshot("requests-agenda-accepted-light").await;
    phone.check_screen().await;
    phone.close().await;

    let booking = my_booking(&app, &olga, &id).await;
    assert_eq!((booking["status"].as_str(), booking["proposed_start"].as_str()), (Some("confirmed"), None));
    assert!(booking["start"].as_str().unwrap_or_default().starts_with(&format!("{after}T14:00")), "{booking}");
}

#[actix_web::test]
async fn im_coming_from_a_reminder_shows_on_the_agenda_live() {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(&fake).await;
    let profile = json!({ "display_name": "Irina", "reminder_offsets_min": [60] });
    let (irina, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let olga = app.dev_sign_in(CLIENT_TG_ID, "Olga").await;
    let booked = app.book(&olga, SLUG, &service, &slot_at(&app, &service, day(1), "11:00").await).await;
    let id = booked.ok()["id"].as_str().expect("id").to_owned();
    assert_eq!(booked.ok()["attendance"], "unknown");

    let Some(phone) = TelegramPhone::open(&app, TgUser::new(PROVIDER_TG_ID, "Irina"), Theme::DARK, Launch::Menu).await
    else {
        return;
    };
    phone.click("#workspace").await;
    phone.click("[data-range=\"week\"]").await;
    let card = format!("#agenda [data-booking=\"{id}\"]");
    phone.wait_for(&format!("{card}[data-status=\"confirmed\"][data-attendance=\"unknown\"]")).await;
    phone.eval("window.__sameDocument = true; return null").await;

    // The reminder falls due now (as if the visit were an hour away).
    let pool = sqlx::SqlitePool::connect(&app.database_url()).await.expect("the database");
    sqlx::query("UPDATE outbox SET due_at = unixepoch() WHERE kind = 'reminder'").execute(&pool).await.expect("due");
    let told = fake.wait_for_messages(CLIENT_TG_ID, 1, Duration::from_secs(10)).await;
    let reminder = told.last().expect("the reminder went out");
    let attend = format!("attend:{id}");
    assert!(buttons(reminder).contains(&attend), "{}", reminder.body);

    fake.push_update("callback_query", button_press(CLIENT_TG_ID, &attend, "coming"));
    phone.wait_for(&format!("{card}[data-attendance=\"confirmed\"] .badge.coming")).await;
    assert_eq!(phone.text(&format!("{card} .badge.coming")).await, "✓ coming");
    assert_eq!(phone.eval("return window.__sameDocument === true").await, true, "no reload happened");
    phone.screenshot("requests-agenda-coming-dark").await;
    phone.check_screen().await;

    // The rules that go with requests, in the settings: a deadline and the morning digest.
    phone.click("[data-tab=\"settings\"]").await;
    phone.wait_for("[name=\"confirm_within_min\"]").await;
    assert_eq!(phone.eval("return document.querySelector('[name=confirm_within_min]').value").await, "");
    phone.fill("[name=\"confirm_within_min\"]", "120").await;
    phone.click("[name=\"morning_digest\"]").await;
    phone
        .eval("document.querySelector('[name=morning_digest]').scrollIntoView({ block: 'center' }); return null")
        .await;
    phone.screenshot("requests-rules-dark").await;
    phone.check_screen().await;
    phone.press_main_button().await;
    phone.wait_until("document.getElementById('toast').classList.contains('shown')").await;
    let rules = app.get("/api/provider", Some(&irina)).await;
    assert_eq!((&rules.ok()["confirm_within_min"], &rules.ok()["morning_digest"]), (&json!(120), &json!(true)));
    // Emptied, the deadline is off again.
    phone.wait_for("[name=\"confirm_within_min\"]").await;
    phone.fill("[name=\"confirm_within_min\"]", "").await;
    phone.eval("document.getElementById('toast').classList.remove('shown'); return null").await;
    phone.press_main_button().await;
    phone.wait_until("document.getElementById('toast').classList.contains('shown')").await;
    let rules = app.get("/api/provider", Some(&irina)).await;
    assert_eq!(rules.ok()["confirm_within_min"], Value::Null);
    phone.close().await;
    let answered = fake.wait_for_calls("answerCallbackQuery", 1, Duration::from_secs(10)).await;
    assert!(!answered.is_empty());
}

/// The client's side in "my bookings": a proposal to accept (taken meanwhile,
/// so another time is offered), a deadline, and "I'm coming".
#[actix_web::test]
async fn the_client_answers_a_proposal_and_says_im_coming_in_my_bookings() {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(&fake).await;
    let profile = json!({ "display_name": "Irina", "requires_confirmation": true, "confirm_within_min": 240,
        "cancel_cutoff_min": 0 });
    let (irina, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let (tomorrow, after) = (day(1), day(2));
    let olga = app.dev_sign_in(CLIENT_TG_ID, "Olga").await;
    let first = app.book(&olga, SLUG, &service, &slot_at(&app, &service, tomorrow, "10:00").await).await;
    let first = first.ok()["id"].as_str().expect("id").to_owned();
    let second = app.book(&olga, SLUG, &service, &slot_at(&app, &service, after, "12:00").await).await;
    let second = second.ok()["id"].as_str().expect("id").to_owned();
    let third = app.book(&olga, SLUG, &service, &slot_at(&app, &service, after, "16:00").await).await;
    let third = third.ok()["id"].as_str().expect("id").to_owned();
    let fifteen = slot_at(&app, &service, tomorrow, "15:00").await;
    let propose = |id: &str| format!("/api/provider/bookings/{id}/propose");
    app.request("POST", &propose(&first), Some(&irina), Some(json!({ "start": fifteen }))).await.ok();
    app.request("POST", &format!("/api/provider/bookings/{third}/confirm"), Some(&irina), None).await.ok();

    let Some(phone) =
        TelegramPhone::open(&app, TgUser::new(CLIENT_TG_ID, "Olga"), Theme::LIGHT, Launch::Link(SLUG)).await
    else {
        return;
    };
    phone.click("main[data-screen=\"provider\"] #my-bookings").await;
    let card = |id: &str| format!("main[data-screen=\"my-bookings\"] [data-booking=\"{id}\"]");
    let offer = phone.text(&format!("{} .state.proposed", card(&first))).await;
    assert!(
        offer.starts_with("The provider proposes ") && offer.contains("15:00") && offer.contains("10:00"),
        "{offer}"
    );
    assert!(phone.text(&format!("{} .state.deadline", card(&second))).await.starts_with("The provider answers by "));
    phone.screenshot("requests-my-bookings-light").await;
    phone.check_screen().await;

    // Someone else books 15:00 first (a proposal holds nothing): Accept says
    // so and offers the live slots to pick another time.
    let someone = app.dev_sign_in(9402, "Sam").await;
    assert_eq!(app.book(&someone, SLUG, &service, &fifteen).await.status, 201);
    phone.click(&format!("{} [data-action=\"accept-proposal\"]", card(&first))).await;
    phone.wait_for(&format!("{} [data-taken]", card(&first))).await;
    phone.screenshot("requests-proposal-taken-light").await;
    phone.check_screen().await;
    phone.click(&format!("{} [data-action=\"pick-another\"]", card(&first))).await;
    phone.wait_for("main[data-screen=\"slots\"] #slots").await;
    assert_eq!(phone.text("main[data-screen=\"slots\"] h1").await, "Reschedule");
    phone.wait_for(&format!("[data-date=\"{tomorrow}\"][aria-pressed=\"true\"]")).await;
    phone.wait_gone(&format!("[data-slot^=\"{tomorrow}T15:00\"]")).await;
    phone.press_back().await;

    // "I'm coming" on the confirmed one; then it says so instead.
    phone.click(&format!("{} [data-action=\"attend\"]", card(&third))).await;
    phone.wait_for(&format!("{}[data-attendance=\"confirmed\"] .state.coming", card(&third))).await;
    assert_eq!(phone.text(&format!("{} .state.coming", card(&third))).await, "✓ You said you’re coming");
    phone.wait_gone(&format!("{} [data-action=\"attend\"]", card(&third))).await;
    phone.screenshot("requests-coming-light").await;
    phone.close().await;
    assert_eq!(my_booking(&app, &olga, &third).await["attendance"], "confirmed");
}
