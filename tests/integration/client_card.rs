//! The client card knows the client (issue 13, DESIGN §8): visits, no-shows
//! and the last visit, and a block that refuses the client's bookings with
//! this provider only (403 `client-blocked`), politely and without leaking.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, every_day, happened, on_both_backends, slot, spawn_app};

on_both_backends!(the_card_counts_visits_and_no_shows, a_blocked_client_cannot_book_this_provider_only);

async fn card_of(app: &TestApp, provider: &str, name: &str) -> Value {
    let book = app.get("/api/provider/clients", Some(provider)).await;
    let entry = book.ok().as_array().expect("a list").iter().find(|c| c["name"] == name).cloned();
    let id = entry.expect("a card")["id"].as_str().expect("id").to_owned();
    app.get(&format!("/api/provider/clients/{id}"), Some(provider)).await.ok().clone()
}

async fn the_card_counts_visits_and_no_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let mut ids = Vec::new();
    for time in ["09:00", "10:00", "11:00", "12:00"] {
        ids.push(app.book(&carol, "anna", &service, &slot(time)).await.ok()["id"].as_str().unwrap().to_owned());
    }
    happened(&app, backend, &ids[0], 60, "completed").await;
    happened(&app, backend, &ids[1], 30, "completed").await;
    happened(&app, backend, &ids[2], 20, "no_show").await;

    let card = card_of(&app, &anna, "Carol").await;
    assert_eq!((card["visit_count"].as_u64(), card["no_shows"].as_u64()), (Some(2), Some(1)), "{card}");
    let thirty_days_ago = card["visits"]
        .as_array()
        .expect("the history")
        .iter()
        .find(|v| v["id"] == ids[1].as_str())
        .map(|v| v["start"].clone());
    assert_eq!(Some(card["last_visit"].clone()), thirty_days_ago, "the latest completed visit");
    assert_eq!(card["visits"].as_array().map(Vec::len), Some(4), "the history stays whole");
    assert_eq!(card["blocked"], false);

    // A client added by hand has a card with nothing yet.
    let walk_in = json!({ "name": "Walk-in" });
    app.request("POST", "/api/provider/clients", Some(&anna), Some(walk_in)).await.ok();
    let empty = card_of(&app, &anna, "Walk-in").await;
    assert_eq!((empty["visit_count"].as_u64(), empty["no_shows"].as_u64()), (Some(0), Some(0)));
    assert_eq!(empty["last_visit"], Value::Null);
}

async fn a_blocked_client_cannot_book_this_provider_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let (_, bruno_service) = app.provider(3, "bruno", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(4, "Dave").await;
    let kept = app.book(&carol, "anna", &service, &slot("09:00")).await.ok()["id"].as_str().unwrap().to_owned();
    let id = card_of(&app, &anna, "Carol").await["id"].as_str().unwrap().to_owned();

    let blocked = app
        .request("PATCH", &format!("/api/provider/clients/{id}"), Some(&anna), Some(json!({ "blocked": true })))
        .await;
    assert_eq!(blocked.ok()["blocked"], true);
    assert_eq!(blocked.body["name"], "Carol", "the other fields stay");
    let agenda = || app.get("/api/provider/bookings?from=2027-06-01&to=2027-07-31", Some(&anna));
    let before = agenda().await.ok().clone();

    let refused = app.book(&carol, "anna", &service, &slot("10:00")).await;
    refused.problem(403);
    assert_eq!(refused.body["type"], "/problems/client-blocked");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(!detail.contains("block") && !detail.contains("Carol"), "polite, and nothing else: {detail}");
    let moved = json!({ "start": slot("11:00") });
    app.request("POST", &format!("/api/bookings/{kept}/reschedule"), Some(&carol), Some(moved)).await.problem(403);
    assert_eq!(agenda().await.ok(), &before, "nothing changed");

    // Cancelling stays possible; other clients and other providers are untouched.
    app.request("POST", &format!("/api/bookings/{kept}/cancel"), Some(&carol), None).await.ok();
    app.book(&dave, "anna", &service, &slot("10:00")).await.ok();
    app.book(&carol, "bruno", &bruno_service, &slot("10:00")).await.ok();

    // Unblocked, she books again; the list shows the flag all along.
    let listed = app.get("/api/provider/clients", Some(&anna)).await;
    assert!(listed.ok().as_array().unwrap().iter().any(|c| c["name"] == "Carol" && c["blocked"] == true));
    let unblock = json!({ "blocked": false });
    app.request("PATCH", &format!("/api/provider/clients/{id}"), Some(&anna), Some(unblock)).await.ok();
    app.book(&carol, "anna", &service, &slot("11:00")).await.ok();
}
