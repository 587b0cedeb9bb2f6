//! Bookings over HTTP: the client's flow, the provider's actions, the rules
//! (grid, hours, notice, cut-off, confirmation), idempotency, the client book,
//! and who may touch what.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app};

on_both_backends!(
    book_reschedule_and_cancel_move_the_free_slots,
    times_that_are_not_offered_are_refused,
    manual_confirmation_holds_the_slot_until_declined,
    clients_meet_the_cut_off_providers_do_not,
    idempotency_key_returns_the_same_booking,
    nobody_touches_what_is_not_theirs,
    the_client_book_is_the_providers_to_manage,
);

async fn starts(app: &crate::helpers::Api, slug: &str, service: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/providers/{slug}/slots?service={service}&from={DAY}&to={DAY}"), None).await;
    reply.ok()["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap().to_owned()).collect()
}

async fn book_reschedule_and_cancel_move_the_free_slots(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;

    let booked = app.book(&client, "anna", &service, &slot("10:00")).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(booked.body["status"], "confirmed");
    assert_eq!(booked.body["start"], slot("10:00"));
    assert_eq!(booked.body["end"], slot("11:00"));
    assert_eq!(booked.body["client"]["name"], "Carol");
    assert_eq!(booked.body["service"]["name"], "Visit");
    assert_eq!(starts(&app, "anna", &service).await, [slot("09:00"), slot("11:00"), slot("12:00")]);

    let mine = app.get("/api/bookings", Some(&client)).await;
    assert_eq!(mine.ok()[0]["id"], id.as_str());

    let moved = app
        .request(
            "POST",
            &format!("/api/bookings/{id}/reschedule"),
            Some(&client),
            Some(json!({ "start": slot("12:00") })),
        )
        .await;
    assert_eq!(moved.ok()["start"], slot("12:00"));
    assert_eq!(starts(&app, "anna", &service).await, [slot("09:00"), slot("10:00"), slot("11:00")]);

    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(agenda.ok().as_array().unwrap().len(), 1);
    assert_eq!(agenda.body[0]["start"], slot("12:00"));

    let cancelled = app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&client), None).await;
    assert_eq!(cancelled.ok()["status"], "cancelled");
    assert_eq!(starts(&app, "anna", &service).await.len(), 4);
    // A cancelled booking cannot be cancelled again.
    let again = app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&client), None).await;
    assert_eq!(again.problem(409), None);
}

async fn times_that_are_not_offered_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let profile = json!({ "horizon_days": 200 });
    let (provider, service) = app.provider(1, "anna", profile, every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    let far = (Timestamp::now() + SignedDuration::from_hours(24 * 300)).to_string();
    let past = (Timestamp::now() - SignedDuration::from_hours(24)).to_string();
    for start in [slot("10:30"), slot("13:00"), slot("08:00"), far, past] {
        let reply = app.book(&client, "anna", &service, &start).await;
        assert_eq!(reply.problem(422).as_deref(), Some("start"), "{start}");
        assert_eq!(reply.body["type"], "/problems/not-bookable");
    }
    for start in ["2027-06-01T10:00:00", "tomorrow at ten", ""] {
        let reply = app.book(&client, "anna", &service, start).await;
        assert_eq!(reply.problem(422).as_deref(), Some("start"), "{start:?}");
    }
    app.book(&client, "nobody", &service, &slot("10:00")).await.problem(404);
    app.book(&client, "anna", "00000000-0000-0000-0000-000000000000", &slot("10:00")).await.problem(404);
    let bad_service = app
        .request(
            "POST",
            "/api/bookings",
            Some(&client),
            Some(json!({ "provider": "anna", "service": "x", "start": slot("10:00") })),
        )
        .await;
    assert_eq!(bad_service.problem(422).as_deref(), Some("service"));

    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    let taken = app.book(&client, "anna", &service, &slot("10:00")).await;
    assert_eq!(taken.problem(409).as_deref(), Some("start"));
    assert_eq!(taken.body["type"], "/problems/slot-taken");

    // A retired service takes no new bookings.
    app.request("DELETE", &format!("/api/provider/services/{service}"), Some(&provider), None).await.ok();
    app.book(&client, "anna", &service, &slot("11:00")).await.problem(404);
    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(agenda.ok().as_array().unwrap().len(), 1, "nothing refused was stored");
}

async fn manual_confirmation_holds_the_slot_until_declined(backend: Backend) {
    let app = spawn_app(backend).await;
    let profile = json!({ "requires_confirmation": true });
    let (provider, service) = app.provider(1, "anna", profile, every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;

    let pending = app.book(&carol, "anna", &service, &slot("10:00")).await;
    assert_eq!(pending.ok()["status"], "pending");
    let id = pending.body["id"].as_str().unwrap().to_owned();
    app.book(&dave, "anna", &service, &slot("10:00")).await.problem(409);

    let declined = app.request("POST", &format!("/api/provider/bookings/{id}/decline"), Some(&provider), None).await;
    assert_eq!(declined.ok()["status"], "cancelled");
    let again = app.request("POST", &format!("/api/provider/bookings/{id}/decline"), Some(&provider), None).await;
    again.problem(409);
    assert_eq!(again.body["detail"], "a cancelled booking cannot be declined", "correct English");
    let second = app.book(&dave, "anna", &service, &slot("10:00")).await;
    assert_eq!(second.ok()["status"], "pending");
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let confirmed =
        app.request("POST", &format!("/api/provider/bookings/{second_id}/confirm"), Some(&provider), None).await;
    assert_eq!(confirmed.ok()["status"], "confirmed");
    let twice =
        app.request("POST", &format!("/api/provider/bookings/{second_id}/confirm"), Some(&provider), None).await;
    twice.problem(409);
    let early =
        app.request("POST", &format!("/api/provider/bookings/{second_id}/complete"), Some(&provider), None).await;
    assert_eq!(early.problem(422), None);
    assert_eq!(early.body["type"], "/problems/not-started");
    app.request("POST", &format!("/api/provider/bookings/{second_id}/dance"), Some(&provider), None).await.problem(404);

    // The provider moves it; the client's own reschedule would need confirming again.
    let moved = app
        .request(
            "POST",
            &format!("/api/provider/bookings/{second_id}/reschedule"),
            Some(&provider),
            Some(json!({ "start": slot("12:00") })),
        )
        .await;
    assert_eq!(moved.ok()["status"], "confirmed");
    let by_client = app
        .request(
            "POST",
            &format!("/api/bookings/{second_id}/reschedule"),
            Some(&dave),
            Some(json!({ "start": slot("11:00") })),
        )
        .await;
    assert_eq!(by_client.ok()["status"], "pending");
}

async fn clients_meet_the_cut_off_providers_do_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let profile = json!({ "slot_step_min": 5, "min_notice_min": 0, "cancel_cutoff_min": 120 });
    let (provider, _) = app.provider(1, "anna", profile, every_day("00:00", "24:00")).await;
    let short = app
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Quick", "duration_min": 5 })))
        .await;
    let service = short.ok()["id"].as_str().unwrap().to_owned();
    let client = app.dev_sign_in(2, "Carol").await;

    // The first free slot at least 30 minutes ahead: inside the 2-hour cut-off.
    let tomorrow = (Timestamp::now() + SignedDuration::from_hours(36)).to_string()[..10].to_owned();
    let slots = app.get(&format!("/api/providers/anna/slots?service={service}&to={tomorrow}"), None).await;
    let soon = Timestamp::now() + SignedDuration::from_mins(30);
    let start = slots.ok()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .find(|s| s.parse::<Timestamp>().unwrap() >= soon)
        .expect("a slot soon");
    let booked = app.book(&client, "anna", &service, &start).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();

    let late = app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&client), None).await;
    assert_eq!(late.problem(422), None);
    assert_eq!(late.body["type"], "/problems/past-cutoff");
    let by_provider = app.request("POST", &format!("/api/provider/bookings/{id}/cancel"), Some(&provider), None).await;
    assert_eq!(by_provider.ok()["status"], "cancelled");
}

async fn idempotency_key_returns_the_same_booking(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    let post = |start: String, key: &'static str| {
        let request = app
            .client
            .post(format!("{}/api/bookings", app.address))
            .bearer_auth(&client)
            .header("Idempotency-Key", key)
            .json(&json!({ "provider": "anna", "service": service, "start": start }));
        async move { request.send().await.unwrap() }
    };
    let first = post(slot("10:00"), "retry-1").await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let retry = post(slot("10:00"), "retry-1").await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    // The first answer is built from what the booking's transaction read;
    // the replay reads the booking back: the same booking, shown the same.
    assert_eq!(retry, first);
    let misuse = crate::helpers::read(post(slot("11:00"), "retry-1").await).await;
    assert_eq!(misuse.problem(422).as_deref(), Some("Idempotency-Key"));
    assert_eq!(app.get("/api/bookings", Some(&client)).await.ok().as_array().unwrap().len(), 1);
}

async fn nobody_touches_what_is_not_theirs(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let (bob, _) = app.provider(2, "bob", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(3, "Carol").await;
    let mallory = app.dev_sign_in(4, "Mallory").await;
    let booked = app.book(&carol, "anna", &service, &slot("10:00")).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();
    let client_id = booked.body["client"]["id"].as_str().unwrap().to_owned();

    // Anonymous callers get 401 everywhere private.
    for (method, path) in [
        ("GET", "/api/bookings".to_owned()),
        ("POST", "/api/bookings".to_owned()),
        ("POST", format!("/api/bookings/{id}/cancel")),
        ("POST", format!("/api/bookings/{id}/reschedule")),
        ("GET", "/api/provider/bookings".to_owned()),
        ("POST", format!("/api/provider/bookings/{id}/cancel")),
        ("POST", format!("/api/provider/bookings/{id}/reschedule")),
        ("GET", "/api/provider/clients".to_owned()),
        ("POST", "/api/provider/clients".to_owned()),
        ("GET", format!("/api/provider/clients/{client_id}")),
        ("PATCH", format!("/api/provider/clients/{client_id}")),
        ("DELETE", format!("/api/provider/clients/{client_id}")),
        ("GET", format!("/api/provider/clients/{client_id}/export")),
        ("POST", "/api/me/erasure-requests".to_owned()),
        ("POST", "/api/me/policy-ack".to_owned()),
    ] {
        app.request(method, &path, None, Some(json!({}))).await.problem(401);
    }

    // Another client sees none of it and changes nothing.
    assert!(app.get("/api/bookings", Some(&mallory)).await.ok().as_array().unwrap().is_empty());
    app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&mallory), None).await.problem(404);
    let body = json!({ "start": slot("12:00") });
    app.request("POST", &format!("/api/bookings/{id}/reschedule"), Some(&mallory), Some(body.clone()))
        .await
        .problem(404);
    // A client is no provider: provider routes need a profile.
    app.request("POST", &format!("/api/provider/bookings/{id}/cancel"), Some(&mallory), None).await.problem(404);

    // Another provider neither.
    for action in ["confirm", "decline", "cancel", "complete", "no-show"] {
        app.request("POST", &format!("/api/provider/bookings/{id}/{action}"), Some(&bob), None).await.problem(404);
    }
    app.request("POST", &format!("/api/provider/bookings/{id}/reschedule"), Some(&bob), Some(body)).await.problem(404);
    let bobs_day = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&bob)).await;
    assert!(bobs_day.ok().as_array().unwrap().is_empty());
    assert!(app.get("/api/provider/clients", Some(&bob)).await.ok().as_array().unwrap().is_empty());
    app.get(&format!("/api/provider/clients/{client_id}"), Some(&bob)).await.problem(404);
    let rename = json!({ "name": "Hacked" });
    app.request("PATCH", &format!("/api/provider/clients/{client_id}"), Some(&bob), Some(rename)).await.problem(404);
    app.request("DELETE", &format!("/api/provider/clients/{client_id}"), Some(&bob), None).await.problem(404);
    app.get(&format!("/api/provider/clients/{client_id}/export"), Some(&bob)).await.problem(404);
    app.get(&format!("/api/provider/clients/{client_id}/export"), Some(&mallory)).await.problem(404);

    // Everything is still as Carol and Anna left it.
    let mine = app.get("/api/bookings", Some(&carol)).await;
    assert_eq!(mine.ok()[0]["status"], "confirmed");
    assert_eq!(mine.body[0]["start"], slot("10:00"));
    let card = app.get(&format!("/api/provider/clients/{client_id}"), Some(&anna)).await;
    assert_eq!(card.ok()["name"], "Carol");
    // Public pages carry no client data.
    let public = app.get("/api/providers/anna", None).await;
    assert!(!public.ok().to_string().contains("Carol"));
}

async fn the_client_book_is_the_providers_to_manage(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    let booked_again = app.book(&carol, "anna", &service, &slot("12:00")).await;
    let carol_booking = booked_again.ok()["id"].as_str().unwrap().to_owned();

    let added = app
        .request(
            "POST",
            "/api/provider/clients",
            Some(&anna),
            Some(json!({ "name": "Walk-in Willy", "contacts": "+49 170 000", "notes": "prefers mornings" })),
        )
        .await;
    assert_eq!(added.status, 201);
    assert_eq!(added.body["linked_to_telegram"], false);
    let book = app.get("/api/provider/clients", Some(&anna)).await;
    let names: Vec<&str> = book.ok().as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Carol", "Walk-in Willy"], "one entry for Carol despite two bookings");
    let found = app.get("/api/provider/clients?search=170", Some(&anna)).await;
    assert_eq!(found.ok().as_array().unwrap().len(), 1);

    let carol_id = book.body[0]["id"].as_str().unwrap().to_owned();
    let card = app.get(&format!("/api/provider/clients/{carol_id}"), Some(&anna)).await;
    assert_eq!(card.ok()["linked_to_telegram"], true);
    assert_eq!(card.body["visits"].as_array().unwrap().len(), 2);

    let patched = app
        .request("PATCH", &format!("/api/provider/clients/{carol_id}"), Some(&anna), Some(json!({ "notes": "VIP" })))
        .await;
    assert_eq!(patched.ok()["notes"], "VIP");
    assert_eq!(patched.body["name"], "Carol");
    for (body, field) in [(json!({ "name": "" }), "name"), (json!({ "notes": 5 }), "notes")] {
        let reply = app.request("PATCH", &format!("/api/provider/clients/{carol_id}"), Some(&anna), Some(body)).await;
        assert_eq!(reply.problem(422).as_deref(), Some(field));
    }

    // Upcoming visits go with the card (privacy::deleting_a_client_with_visits_ahead_tells_them).
    let deleted = app.request("DELETE", &format!("/api/provider/clients/{carol_id}"), Some(&anna), None).await;
    assert_eq!(deleted.status, 204);
    app.get(&format!("/api/provider/clients/{carol_id}"), Some(&anna)).await.problem(404);
    app.request("POST", &format!("/api/bookings/{carol_booking}/cancel"), Some(&carol), None).await.problem(404);
}
