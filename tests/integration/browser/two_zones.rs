//! Two time zones (issue 13): a phone in New York booking a Berlin provider
//! sees both clocks wherever it sees a time (slots, the MainButton, the
//! booked screen, my bookings) and tells the server its zone for the bot; a
//! phone in Paris (Berlin's clock under another name) sees one.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, spawn_app};

const SLUG: &str = "otto-berlin";

#[actix_web::test]
async fn a_phone_in_another_zone_sees_both_clocks_and_tells_the_server_its_zone() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Otto", "min_notice_min": 0, "cancel_cutoff_min": 0 });
    app.provider(9400, SLUG, profile, every_day("09:00", "18:00")).await;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let day = berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date");
    let ten = format!("[data-slot^=\"{day}T10:00\"]");

    let nina = TgUser::new(9401, "Nina");
    let launch = Launch::Link(SLUG);
    let Some(phone) = TelegramPhone::open_in_zone(&app, nina, Theme::LIGHT, launch, "America/New_York").await else {
        return;
    };
    phone.click("[data-service]").await;
    phone.click(&format!("[data-date=\"{day}\"]")).await;
    phone.wait_for(&ten).await;
    // 10:00 in Berlin on New York's clock, by jiff's tz database rather than
    // the browser's ICU: 04:00, or 05:00 in the March and late-October weeks
    // when only one side keeps summer time.
    let start =
        phone.eval(&format!("return document.querySelector('{}').dataset.slot", ten.replace('\'', "\\'"))).await;
    let start: Timestamp = start.as_str().expect("the slot's start").parse().expect("RFC 3339");
    let new_york = TimeZone::get("America/New_York").expect("zone").to_datetime(start);
    assert_eq!(new_york.date(), day, "10:00 in Berlin is the same day in New York");
    let theirs = new_york.strftime("%H:%M").to_string();
    let both = format!("10:00 Berlin · {theirs} your time");

    // The slot: Berlin's time, New York's smaller under it, both in its name.
    assert_eq!(phone.text(&format!("{ten} .slot-time")).await, "10:00");
    assert_eq!(phone.text(&format!("{ten} .slot-yours")).await, theirs);
    let name = phone
        .eval(&format!("return document.querySelector('{}').getAttribute('aria-label')", ten.replace('\'', "\\'")))
        .await;
    assert!(name.as_str().unwrap_or_default().ends_with(&both), "{name}");
    let note = phone.text("#zone-note").await;
    assert_eq!(note, "Times are Berlin time (Europe/Berlin); the smaller ones are your time.");
    let smaller = phone
        .eval(&format!(
            "const size = (css) => parseFloat(getComputedStyle(document.querySelector(css)).fontSize);
             return size('{0} .slot-yours') < size('{0} .slot-time');",
            ten.replace('\'', "\\'")
        ))
        .await;
    assert_eq!(smaller, true, "the device's time is the secondary one");
    phone.check_screen().await;

    phone.click(&ten).await;
    let button = phone.main_button().await.expect("the MainButton shows once a slot is chosen");
    // The MainButton cuts long labels off: the short form, the note saying whose clock is whose.
    let short = format!(", 10:00 ({theirs} yours)");
    assert!(button.text.starts_with("Book ") && button.text.ends_with(&short), "{}", button.text);
    phone.screenshot("two-zones-slots-light").await;
    phone.press_main_button().await;
    phone.wait_for("main[data-screen=\"booked\"] .your-time").await;
    let booked = phone.text("main[data-screen=\"booked\"] .when").await;
    assert!(booked.ends_with(&both), "{booked}");
    phone.check_screen().await;
    phone.screenshot("two-zones-booked-light").await;

    phone.press_main_button().await;
    phone.wait_for("main[data-screen=\"my-bookings\"] [data-booking] .your-time").await;
    let card = phone.text("main[data-screen=\"my-bookings\"] [data-booking] .when").await;
    assert!(card.ends_with(&both), "{card}");

    // The server keeps the zone the Mini App reported, for the bot's texts.
    let token = app.dev_sign_in(9401, "Nina").await;
    assert_eq!(app.get("/api/me", Some(&token)).await.ok()["time_zone"], "America/New_York");
    phone.close().await;

    // Paris keeps Berlin's clock: one time, no second one anywhere.
    let pierre = TgUser::new(9402, "Pierre");
    let Some(phone) = TelegramPhone::open_in_zone(&app, pierre, Theme::LIGHT, launch, "Europe/Paris").await else {
        return;
    };
    phone.click("[data-service]").await;
    phone.click(&format!("[data-date=\"{day}\"]")).await;
    phone.wait_for(&format!("[data-slot^=\"{day}T11:00\"]")).await;
    let doubled = phone.eval("return document.querySelectorAll('.slot-yours, .your-time').length").await;
    assert_eq!(doubled, 0, "Paris and Berlin show the same wall time");
    assert_eq!(phone.text(&format!("[data-slot^=\"{day}T11:00\"]")).await, "11:00");
    assert_eq!(phone.text("#zone-note").await, "Times are in Europe/Berlin.");
    phone.close().await;
}
