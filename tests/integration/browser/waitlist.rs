//! A live waitlist and classes with seats (issue 14): a client on a fully
//! booked day joins the waitlist from the slots, and when another client
//! cancels, the open Mini App offers the freed time and books it with one
//! tap; a class shows its seats, a full start stays listed as full, the
//! agenda shows one row per class start with its attendees.

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use serde_json::{Value, json};

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, TestApp, every_day, spawn_app};

/// Tomorrow in the provider's zone.
fn tomorrow() -> Date {
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date")
}

/// The free (or, for a class, listed) slot at `time` on `day`.
async fn slot_at(app: &TestApp, slug: &str, service: &str, day: Date, time: &str) -> Value {
    let slots = app.get(&format!("/api/providers/{slug}/slots?service={service}&from={day}&to={day}"), None).await;
    let found = slots.ok()["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["start"].as_str().is_some_and(|start| start.contains(&format!("T{time}"))))
        .cloned();
    found.unwrap_or_else(|| panic!("a {time} slot on {day}: {}", slots.body))
}

/// `start` of a slot as a string.
fn start_of(slot: &Value) -> String {
    slot["start"].as_str().expect("a start").to_owned()
}

/// The booking of `token`'s user at `start`, if any is active.
async fn active_booking_at(app: &TestApp, token: &str, start: &str) -> Option<Value> {
    let mine = app.get("/api/bookings", Some(token)).await;
    let at: Timestamp = start.parse().expect("an RFC 3339 start");
    mine.ok().as_array().expect("a list").iter().find_map(|b| {
        let same = b["start"].as_str()?.parse::<Timestamp>().ok()? == at;
        let active = b["status"] == "confirmed" || b["status"] == "pending";
        (same && active).then(|| b.clone())
    })
}

#[actix_web::test]
async fn a_time_freed_on_a_full_day_is_offered_live_to_the_waitlist_and_booked_from_the_offer() {
    const SLUG: &str = "maria-massage";
    const PROVIDER_TG_ID: i64 = 9500;
    let app = spawn_app(Backend::Sqlite).await;
    // One hour a day: booked by Boris, tomorrow is full.
    let profile = json!({ "display_name": "Maria", "min_notice_min": 0 });
    let (_, service) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("10:00", "11:00")).await;
    let day = tomorrow();
    let ten = start_of(&slot_at(&app, SLUG, &service, day, "10:00").await);
    let boris = app.dev_sign_in(9502, "Boris").await;
    let booked = app.book(&boris, SLUG, &service, &ten).await;
    let boris_booking = booked.ok()["id"].as_str().expect("id").to_owned();

    // Alice opens the Mini App on that day: nothing to book, the waitlist offered.
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(9501, "Alice"), Theme::LIGHT, Launch::Link(SLUG)).await
    else {
        return;
    };
    phone.click("main[data-screen=\"provider\"] [data-service]").await;
    phone.wait_for("main[data-screen=\"slots\"] #slots").await;
    phone.click(&format!("[data-date=\"{day}\"]")).await;
    phone.wait_for(&format!("[data-date=\"{day}\"][aria-pressed=\"true\"]")).await;
    phone.wait_for("#waitlist-form #join-waitlist").await;
    let bookable = phone.eval("return document.querySelectorAll('#slots .slot:not(:disabled)').length").await;
    assert_eq!(bookable, 0, "tomorrow is full");
    phone.screenshot("waitlist-full-day-light").await;
    phone.check_screen().await;
    phone.click("#join-waitlist").await;
    let status = phone.text("#waitlist-status").await;
    assert!(status.starts_with("You’re on the waitlist for "), "{status}");
    phone.screenshot("waitlist-joined-light").await;

    // The server has the entry: that service, that day, any time.
    let alice = app.dev_sign_in(9501, "Alice").await;
    let entries = app.get("/api/waitlist", Some(&alice)).await;
    let entries = entries.ok().as_array().cloned().expect("a list");
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!((entry["service"].as_str(), entry["date"].as_str()), (Some(service.as_str()), Some(&*day.to_string())));
    assert_eq!((&entry["from"], &entry["to"]), (&Value::Null, &Value::Null), "no window: any time");
    let entry = entry["id"].as_str().expect("an id").to_owned();

    // The provider's agenda lists who waits on that day.
    let Some(maria) = TelegramPhone::open(&app, TgUser::new(PROVIDER_TG_ID, "Maria"), Theme::DARK, Launch::Menu).await
    else {
        return;
    };
    maria.click("#workspace").await;
    maria.click("[data-range=\"week\"]").await;
    let waiting = format!("#agenda [data-waitlist-day=\"{day}\"]");
    let line = maria.text(&waiting).await;
    assert!(line.starts_with("Waitlist: 1") && line.contains("Alice"), "{line}");
    maria.screenshot("waitlist-agenda-dark").await;
    maria.check_screen().await;

    // Alice looks at her bookings meanwhile: the entry is listed there.
    phone.press_back().await;
    phone.click("main[data-screen=\"provider\"] #my-bookings").await;
    phone.wait_for(&format!("main[data-screen=\"my-bookings\"] [data-waitlist=\"{entry}\"]")).await;
    phone.check_screen().await;
    phone.eval("window.__sameDocument = true; return null").await;

    // Boris cancels: the freed time is offered on Alice's open Mini App.
    app.request("POST", &format!("/api/bookings/{boris_booking}/cancel"), Some(&boris), None).await.ok();
    let offer = format!("#offers [data-offer=\"{entry}\"]");
    let text = phone.text(&format!("{offer} .offer-text")).await;
    assert!(text.starts_with("Visit at ") && text.contains("10:00"), "{text}");
    phone.screenshot("waitlist-offer-light").await;
    phone.check_screen().await;

    // One tap books it.
    phone.click(&format!("{offer} [data-action=\"book-offer\"]")).await;
    phone.wait_for("main[data-screen=\"booked\"]").await;
    phone.wait_gone(&offer).await;
    assert_eq!(phone.eval("return window.__sameDocument === true").await, true, "no reload happened");
    phone.screenshot("waitlist-offer-booked-light").await;
    phone.close().await;
    // Booking the day ended Alice's entry: the agenda no longer lists her as waiting.
    maria.wait_gone(&waiting).await;
    maria.close().await;

    let held = active_booking_at(&app, &alice, &ten).await;
    assert!(held.is_some(), "Alice holds the freed 10:00: {}", app.get("/api/bookings", Some(&alice)).await.body);
    assert!(active_booking_at(&app, &boris, &ten).await.is_none(), "Boris's booking stays cancelled");
}

#[actix_web::test]
async fn a_class_shows_its_seats_a_full_start_stays_listed_and_the_agenda_groups_attendees() {
    const SLUG: &str = "vera-yoga";
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Vera", "min_notice_min": 0 });
    let (vera, service) = app.provider(9510, SLUG, profile, every_day("10:00", "12:00")).await;
    let day = tomorrow();

    // The provider makes "Visit" a class of two in the service editor.
    let Some(provider) = TelegramPhone::open(&app, TgUser::new(9510, "Vera"), Theme::DARK, Launch::Menu).await else {
        return;
    };
    provider.click("#workspace").await;
    provider.click("[data-tab=\"services\"]").await;
    provider.click(&format!("[data-service=\"{service}\"]")).await;
    provider.fill("[name=\"capacity\"]", "2").await;
    provider.screenshot("class-editor-dark").await;
    provider.check_screen().await;
    provider.press_main_button().await;
    provider
        .wait_until(&format!(
            "document.querySelector('[data-service=\"{service}\"]')?.textContent.includes('class · up to 2')"
        ))
        .await;
    let services = app.get("/api/provider/services", Some(&vera)).await;
    assert_eq!(services.ok()[0]["capacity"], 2, "{}", services.body);

    // Two clients take both seats at 10:00; a third is refused.
    let ten = start_of(&slot_at(&app, SLUG, &service, day, "10:00").await);
    let olga = app.dev_sign_in(9511, "Olga").await;
    let sam = app.dev_sign_in(9512, "Sam").await;
    let first = app.book(&olga, SLUG, &service, &ten).await;
    assert!(first.ok()["seat"].is_number(), "{}", first.body);
    assert_eq!(app.book(&sam, SLUG, &service, &ten).await.status, 201);
    let late = app.dev_sign_in(9513, "Lev").await;
    let refused = app.book(&late, SLUG, &service, &ten).await;
    refused.problem(409);
    assert!(refused.body["type"].as_str().unwrap_or_default().ends_with("/class-full"), "{}", refused.body);
    let full = slot_at(&app, SLUG, &service, day, "10:00").await;
    assert_eq!(full["seats_left"], 0, "a full start stays listed: {full}");

    // The agenda: one row for the 10:00 class, 2/2, its attendees under it.
    provider.click("[data-tab=\"agenda\"]").await;
    provider.click("[data-range=\"week\"]").await;
    let class = "#agenda [data-class]";
    let head = provider.text(&format!("{class} .class-head")).await;
    assert!(head.contains("10:00") && head.contains("Visit · 2/2"), "{head}");
    let names = provider
        .eval(
            "return [...document.querySelectorAll('#agenda [data-class] .attendee .title')].map((e) => e.textContent)",
        )
        .await;
    let mut names: Vec<String> = serde_json::from_value(names).expect("names");
    names.sort();
    assert_eq!(names, ["Olga", "Sam"]);
    provider.screenshot("class-agenda-dark").await;
    provider.check_screen().await;

    // A client opened from an offer's button at 11:00: the start is chosen,
    // the full 10:00 is listed but cannot be chosen.
    let eleven = slot_at(&app, SLUG, &service, day, "11:00").await;
    assert_eq!(eleven["seats_left"], 2, "{eleven}");
    let eleven = start_of(&eleven);
    let start = eleven.parse::<Timestamp>().expect("a start").as_second();
    let launch = Launch::Offer { slug: SLUG, service: &service, start };
    let Some(client) = TelegramPhone::open(&app, TgUser::new(9513, "Lev"), Theme::LIGHT, launch).await else { return };
    let chosen = format!("#slots [data-slot=\"{eleven}\"][aria-pressed=\"true\"]");
    assert!(client.text(&chosen).await.contains("2 of 2 seats left"));
    let full = format!("#slots [data-slot=\"{ten}\"]");
    assert!(client.text(&full).await.contains("Full"));
    assert_eq!(client.eval(&format!("return document.querySelector('{full}').disabled")).await, true);
    client.wait_for("#waitlist-open").await;
    client.screenshot("class-slots-light").await;
    client.check_screen().await;
    let button = client.main_button().await.expect("the MainButton is ready for the offered start");
    assert!(button.text.contains("11:00"), "{}", button.text);

    // Olga cancels: a seat at 10:00 frees, live, on the client and the agenda.
    let olga_booking = first.ok()["id"].as_str().expect("id").to_owned();
    app.request("POST", &format!("/api/bookings/{olga_booking}/cancel"), Some(&olga), None).await.ok();
    client.wait_until(&format!("!document.querySelector('{full}')?.disabled")).await;
    assert!(client.text(&full).await.contains("1 of 2 seats left"));
    provider
        .wait_until("document.querySelector('#agenda [data-class] .class-head')?.textContent.includes('Visit · 1/2')")
        .await;

    // Lev books the offered 11:00 with the MainButton.
    client.press_main_button().await;
    client.wait_for("main[data-screen=\"booked\"]").await;
    client.close().await;
    provider.close().await;
    assert!(active_booking_at(&app, &late, &eleven).await.is_some(), "Lev holds a seat at 11:00");
}
