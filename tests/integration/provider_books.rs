//! The provider books for a client (issue 13, DESIGN §8 `POST
//! /api/provider/bookings`): a client of the book or one typed in, a free
//! slot or — said so — a time outside the hours, never over another booking;
//! confirmed at once, through the calendar, and the client told by the bot.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, DAY, TestApp, every_day, on_both_backends, slot, spawn_app, spawn_app_with},
};

on_both_backends!(
    the_provider_books_a_client_of_the_book_and_they_are_told,
    a_client_typed_in_joins_the_book_only_when_the_booking_holds,
    outside_the_hours_only_when_said_and_never_over_another_booking,
    after_a_completed_visit_the_client_is_offered_to_book_again,
);

const WAIT: Duration = Duration::from_secs(10);

async fn book_for(app: &TestApp, token: &str, body: Value) -> crate::helpers::Reply {
    app.request("POST", "/api/provider/bookings", Some(token), Some(body)).await
}

async fn clients(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/provider/clients", Some(token)).await.ok().as_array().expect("a list").clone()
}

async fn the_provider_books_a_client_of_the_book_and_they_are_told(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app =
        spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url), ("PUBLIC_URL", "https://app.example.test/")]).await;
    // Requests wait for confirmation, but what the provider books is confirmed.
    let profile = json!({ "requires_confirmation": true });
    let (anna, service) = app.provider(1, "anna", profile, every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("09:00")).await.ok();
    let card = clients(&app, &anna).await.into_iter().find(|c| c["name"] == "Carol").expect("Carol's card");

    let body = json!({ "client_id": card["id"], "service": service, "start": slot("11:00"), "note": "phoned" });
    let booked = book_for(&app, &anna, body).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(
        (booked.body["status"].as_str(), booked.body["client"]["name"].as_str()),
        (Some("confirmed"), Some("Carol"))
    );
    // Carol sees it among her bookings, and the bot told her.
    let mine = app.get("/api/bookings", Some(&carol)).await;
    assert!(mine.ok().as_array().unwrap().iter().any(|b| b["id"] == booked.body["id"]), "{}", mine.body);
    let told = fake.wait_for_messages(2, 1, WAIT).await;
    let text = told.iter().map(|m| m.body["text"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>();
    assert!(text.iter().any(|t| t.starts_with("anna booked you: Visit") && t.contains("11:00")), "{text:?}");
    // The slot is gone for everyone.
    let slots = app.get(&format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}"), None).await;
    let starts: Vec<&str> =
        slots.ok()["slots"].as_array().unwrap().iter().filter_map(|s| s["start"].as_str()).collect();
    assert!(!starts.contains(&slot("11:00").as_str()), "{starts:?}");

    // Someone else's client, or none at all: refused, naming the field.
    let (bruno, _) = app.provider(3, "bruno", json!({}), every_day("09:00", "13:00")).await;
    let not_his = json!({ "client_id": card["id"], "service": service, "start": slot("12:00") });
    book_for(&app, &bruno, not_his).await.problem(404);
    let neither = json!({ "service": service, "start": slot("12:00") });
    assert_eq!(book_for(&app, &anna, neither).await.problem(422).as_deref(), Some("client_id"));
    let both =
        json!({ "client_id": card["id"], "client": { "name": "X" }, "service": service, "start": slot("12:00") });
    assert_eq!(book_for(&app, &anna, both).await.problem(422).as_deref(), Some("client_id"));
    app.request("POST", "/api/provider/bookings", Some(&carol), Some(json!({}))).await.problem(422);
}

async fn a_client_typed_in_joins_the_book_only_when_the_booking_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let new = |name: &str, time: &str| json!({ "client": { "name": name, "contacts": "+49 30 1234567" }, "service": service, "start": slot(time) });
    let booked = book_for(&app, &anna, new("Dora Phone", "10:00")).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let book = clients(&app, &anna).await;
    let dora = book.iter().find(|c| c["name"] == "Dora Phone").expect("Dora joined the book");
    assert_eq!(
        (dora["contacts"].as_str(), dora["linked_to_telegram"].as_bool()),
        (Some("+49 30 1234567"), Some(false))
    );
    let card = app.get(&format!("/api/provider/clients/{}", dora["id"].as_str().unwrap()), Some(&anna)).await;
    assert_eq!(card.ok()["visits"][0]["id"], booked.body["id"], "her history has the booking");

    // A refused booking adds nobody; bad names are named from the top.
    book_for(&app, &anna, new("Emil Phone", "10:00")).await.problem(409);
    book_for(&app, &anna, new("Emil Phone", "20:00")).await.problem(422);
    assert_eq!(book_for(&app, &anna, new("", "11:00")).await.problem(422).as_deref(), Some("client.name"));
    assert_eq!(clients(&app, &anna).await.len(), 1, "only Dora");
}

async fn outside_the_hours_only_when_said_and_never_over_another_booking(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("12:00")).await.ok();
    let walk_in = |time: String, outside: bool| json!({ "client": { "name": "Walk-in" }, "service": service, "start": time, "outside_hours": outside });
    // 18:30 is after hours and off the grid: only when the provider says so.
    let evening = format!("{DAY}T18:30:00+02:00");
    let refused = book_for(&app, &anna, walk_in(evening.clone(), false)).await;
    refused.problem(422);
    assert!(refused.body["detail"].as_str().unwrap().contains("outside_hours"), "{}", refused.body);
    let late = book_for(&app, &anna, walk_in(evening, true)).await;
    assert_eq!((late.status, late.body["status"].as_str()), (201, Some("confirmed")), "{}", late.body);

    // Never over another booking, outside the hours or not: 12:30 overlaps Carol's 12:00.
    let overlapping = book_for(&app, &anna, walk_in(format!("{DAY}T12:30:00+02:00"), true)).await;
    overlapping.problem(409);
    assert_eq!(overlapping.body["type"], "/problems/slot-taken");
    // Beyond the horizon or long past: refused even outside the hours.
    book_for(&app, &anna, walk_in("2031-01-01T10:00:00+01:00".into(), true)).await.problem(422);
    book_for(&app, &anna, walk_in("2020-01-01T10:00:00+01:00".into(), true)).await.problem(422);

    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&anna)).await;
    let starts: Vec<&str> = agenda.ok().as_array().unwrap().iter().filter_map(|b| b["start"].as_str()).collect();
    assert_eq!(starts, [slot("12:00"), format!("{DAY}T18:30:00+02:00")]);
}

/// Issue 13 part 4: after a completed visit the client gets "Book again",
/// a Web App button onto the same service's live slots. The visit is one the
/// provider recorded outside the hours two hours ago, so it can be completed.
async fn after_a_completed_visit_the_client_is_offered_to_book_again(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app =
        spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url), ("PUBLIC_URL", "https://app.example.test/")]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("09:00")).await.ok();
    let card = clients(&app, &anna).await.into_iter().find(|c| c["name"] == "Carol").expect("Carol's card");
    let two_hours_ago =
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2)).round(jiff::Unit::Second).unwrap();
    let body = json!({ "client_id": card["id"], "service": service, "start": two_hours_ago.to_string(), "outside_hours": true });
    let visit = book_for(&app, &anna, body).await;
    assert_eq!(visit.status, 201, "{}", visit.body);
    let id = visit.body["id"].as_str().unwrap().to_owned();
    let told = fake.wait_for_messages(2, 1, WAIT).await.len();

    let done = app.request("POST", &format!("/api/provider/bookings/{id}/complete"), Some(&anna), None).await;
    assert_eq!(done.ok()["status"], "completed");
    let messages = fake.wait_for_messages(2, told + 1, WAIT).await;
    let thanks = messages.last().expect("a message");
    assert!(
        thanks.body["text"].as_str().unwrap_or_default().starts_with("Thank you for visiting anna!"),
        "{}",
        thanks.body
    );
    let button = &thanks.body["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["text"], "📅 Book again");
    assert_eq!(
        button["web_app"]["url"],
        format!("https://app.example.test/?startapp=anna&service={service}"),
        "{button}"
    );
}
