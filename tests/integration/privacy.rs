//! The privacy policy's rights (§7, §8): access (export), correction (tested
//! with /api/me), deletion and restriction of processing.

use std::time::Duration;

use serde_json::json;

use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app, spawn_app_with},
};

on_both_backends!(
    an_export_holds_everything_about_me,
    a_deleted_client_account_is_gone_and_the_providers_record_stays,
    a_deleted_provider_account_frees_the_slug_and_cancels_upcoming_visits,
    restricted_processing_stops_bot_messages,
);

async fn an_export_holds_everything_about_me(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    app.get("/api/me/export", None).await.problem(401);

    let mine = app.get("/api/me/export", Some(&carol)).await;
    assert_eq!(mine.ok()["account"]["first_name"], "Carol");
    assert_eq!(mine.body["bookings_as_client"][0]["start"], slot("10:00"));
    assert_eq!(mine.body["provider"], serde_json::Value::Null);

    let provider = app.get("/api/me/export", Some(&anna)).await;
    assert_eq!(provider.ok()["provider"]["slug"], "anna");
    assert_eq!(provider.body["services"][0]["name"], "Visit");
    assert_eq!(provider.body["schedule"]["weekly"].as_array().unwrap().len(), 7);
    assert_eq!(provider.body["client_book"][0]["name"], "Carol");
    assert_eq!(provider.body["client_book"][0]["visits"].as_array().unwrap().len(), 1);
}

async fn a_deleted_client_account_is_gone_and_the_providers_record_stays(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let old_id = app.get("/api/me", Some(&carol)).await.ok()["id"].clone();
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();

    assert_eq!(app.request("DELETE", "/api/me", Some(&carol), None).await.status, 204);
    app.get("/api/me", Some(&carol)).await.problem(401);
    // Signing in again is a new, empty account.
    let again = app.dev_sign_in(2, "Carol").await;
    let me = app.get("/api/me", Some(&again)).await;
    assert_ne!(me.ok()["id"], old_id);
    assert!(app.get("/api/bookings", Some(&again)).await.ok().as_array().unwrap().is_empty());
    // The provider's own record of the visit stays (they control it, §6),
    // no longer linked to the Telegram account.
    let book = app.get("/api/provider/clients", Some(&anna)).await;
    assert_eq!(book.ok()[0]["name"], "Carol");
    assert_eq!(book.body[0]["linked_to_telegram"], false);
}

async fn a_deleted_provider_account_frees_the_slug_and_cancels_upcoming_visits(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();

    assert_eq!(app.request("DELETE", "/api/me", Some(&anna), None).await.status, 204);
    app.get("/api/providers/anna", None).await.problem(404);
    let visit = app.get("/api/bookings", Some(&carol)).await;
    assert_eq!(visit.ok()[0]["status"], "cancelled");
    assert_eq!(visit.body[0]["provider_name"], "Deleted provider");
    // The slug is free for someone else.
    let (_, other) = app.provider(3, "anna", json!({}), every_day("09:00", "13:00")).await;
    let slots = app.get(&format!("/api/providers/anna/slots?service={other}&from={DAY}&to={DAY}"), None).await;
    assert_eq!(slots.ok()["slots"].as_array().unwrap().len(), 4);
}

async fn restricted_processing_stops_bot_messages(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url)]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let restricted = app.request("PATCH", "/api/me", Some(&anna), Some(json!({ "processing_restricted": true }))).await;
    assert_eq!(restricted.ok()["processing_restricted"], true);
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(fake.messages_to(1).is_empty(), "no message while processing is restricted");

    app.request("PATCH", "/api/me", Some(&anna), Some(json!({ "processing_restricted": false }))).await.ok();
    app.book(&carol, "anna", &service, &slot("11:00")).await.ok();
    assert_eq!(fake.wait_for_messages(1, 1, Duration::from_secs(10)).await.len(), 1);
}
