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
    a_deleted_providers_clients_are_told_their_visits_are_cancelled,
    deleting_a_client_with_visits_ahead_tells_them_and_frees_the_time,
    a_provider_exports_one_clients_data,
    a_client_asks_a_provider_to_delete_their_card,
    a_new_policy_version_is_announced_once_and_acknowledged,
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

/// Policy §7: a provider's deletion cancels the visits ahead and the clients
/// hear of it, with the provider's name as it was and the visit's time.
async fn a_deleted_providers_clients_are_told_their_visits_are_cancelled(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url)]).await;
    let (anna, service) =
        app.provider(1, "anna", json!({ "display_name": "Anna Cuts" }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    app.book(&carol, "anna", &service, &slot("12:00")).await.ok();
    app.book(&dave, "anna", &service, &slot("11:00")).await.ok();
    fake.wait_for_messages(1, 3, Duration::from_secs(10)).await;

    assert_eq!(app.request("DELETE", "/api/me", Some(&anna), None).await.status, 204);
    let told = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    let text = told[0].body["text"].as_str().unwrap();
    assert!(text.contains("Anna Cuts") && text.contains("10:00") && text.contains("12:00"), "{text}");
    let told = fake.wait_for_messages(3, 1, Duration::from_secs(10)).await;
    let text = told[0].body["text"].as_str().unwrap();
    assert!(text.contains("Anna Cuts") && text.contains("11:00") && !text.contains("10:00"), "{text}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages_to(2).len(), 1, "one message per client, not one per visit");
    assert_eq!(fake.messages_to(1).len(), 3, "the deleted provider is told nothing more");
}

/// Policy §6: the provider deletes a client who still has visits ahead; the
/// client is told which, and the time is free again at once.
async fn deleting_a_client_with_visits_ahead_tells_them_and_frees_the_time(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url)]).await;
    let (anna, service) =
        app.provider(1, "anna", json!({ "display_name": "Anna Cuts" }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    let slots = format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}");
    assert_eq!(app.get(&slots, None).await.ok()["slots"].as_array().unwrap().len(), 3);
    let carol_id = app.get("/api/provider/clients", Some(&anna)).await.ok()[0]["id"].as_str().unwrap().to_owned();

    let deleted = app.request("DELETE", &format!("/api/provider/clients/{carol_id}"), Some(&anna), None).await;
    assert_eq!(deleted.status, 204);
    let told = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    let text = told[0].body["text"].as_str().unwrap();
    assert!(text.contains("Anna Cuts") && text.contains("10:00") && text.contains("cancelled"), "{text}");
    assert!(app.get("/api/bookings", Some(&carol)).await.ok().as_array().unwrap().is_empty());
    assert_eq!(app.get(&slots, None).await.ok()["slots"].as_array().unwrap().len(), 4, "10:00 is free again");
    // Carol can book again: a fresh card.
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
}

/// Policy §6: the provider, as controller, can hand one client's data over.
async fn a_provider_exports_one_clients_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    let walk_in = json!({ "name": "Willy", "contacts": "+49 170 000", "notes": "prefers mornings" });
    app.request("POST", "/api/provider/clients", Some(&anna), Some(walk_in)).await.ok();
    let book = app.get("/api/provider/clients", Some(&anna)).await;
    let carol_id = book.ok()[0]["id"].as_str().unwrap().to_owned();
    let willy_id = book.body[1]["id"].as_str().unwrap().to_owned();

    let export = app.get(&format!("/api/provider/clients/{carol_id}/export"), Some(&anna)).await;
    assert_eq!(export.ok()["name"], "Carol");
    assert_eq!(export.body["visits"][0]["start"], slot("10:00"));
    assert!(export.body["exported_at"].is_string() && export.body["controller"].is_string());
    let willy = app.get(&format!("/api/provider/clients/{willy_id}/export"), Some(&anna)).await;
    assert_eq!(willy.ok()["contacts"], "+49 170 000");
    assert_eq!(willy.body["notes"], "prefers mornings");
    assert!(!willy.body.to_string().contains("Carol"), "one client's data only");
    let field = app.get("/api/provider/clients/not-an-id/export", Some(&anna)).await.problem(422);
    assert_eq!(field.as_deref(), Some("id"));
}

/// Policy §6: a client cannot delete a provider's record of them (the
/// provider controls it) but can ask; the provider sees the request on the
/// card and hears of it from the bot.
async fn a_client_asks_a_provider_to_delete_their_card(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url)]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    app.provider(5, "bob", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    fake.wait_for_messages(1, 1, Duration::from_secs(10)).await;

    let ask = |slug: &str| json!({ "provider": slug });
    app.request("POST", "/api/me/erasure-requests", Some(&carol), Some(ask("bob"))).await.problem(404);
    app.request("POST", "/api/me/erasure-requests", Some(&carol), Some(ask("nobody"))).await.problem(404);
    let field = app.request("POST", "/api/me/erasure-requests", Some(&carol), Some(json!({}))).await.problem(422);
    assert_eq!(field.as_deref(), Some("provider"));
    let asked = app.request("POST", "/api/me/erasure-requests", Some(&carol), Some(ask("anna"))).await;
    assert_eq!(asked.status, 202);

    let book = app.get("/api/provider/clients", Some(&anna)).await;
    assert!(book.ok()[0]["erasure_requested_at"].is_string(), "{}", book.body);
    let told = fake.wait_for_messages(1, 2, Duration::from_secs(10)).await;
    assert!(told[1].body["text"].as_str().unwrap().contains("Carol asks you to delete"), "{:?}", told[1].body);
    assert!(fake.messages_to(5).is_empty(), "bob holds no card of Carol's and hears nothing");
}

/// Policy §10: a new text is a new version; accounts that used the service
/// are told once by the bot (not a restricted one), the Mini App's notice
/// stays until acknowledged, a restart tells nobody twice, and a new account
/// starts on the version in force.
async fn a_new_policy_version_is_announced_once_and_acknowledged(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (old_text, new_text) = (dir.path().join("old.txt"), dir.path().join("new.txt"));
    std::fs::write(&old_text, "Policy, first words").unwrap();
    std::fs::write(&new_text, "Policy, second words").unwrap();
    let old_text = old_text.to_str().unwrap();
    let new_text = new_text.to_str().unwrap();
    let first = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url), ("POLICY_FILE", old_text)]).await;
    let old = first.get("/api/policy", None).await.ok().clone();
    assert_eq!(old["text"], "Policy, first words");
    let old_version = old["version"].as_str().unwrap().to_owned();
    let carol = first.dev_sign_in(2, "Carol").await;
    let dora = first.dev_sign_in(3, "Dora").await;
    assert_eq!(first.get("/api/me", Some(&carol)).await.ok()["policy_version_seen"], old_version);
    first.request("PATCH", "/api/me", Some(&dora), Some(json!({ "processing_restricted": true }))).await.ok();

    // The same database, a new text: every node that starts with it publishes it.
    let database = first.database_url();
    let config = [("TELEGRAM_API_URL", fake.url.as_str()), ("POLICY_FILE", new_text), ("DATABASE_URL", &database)];
    let second = spawn_app_with(backend, &config).await;
    let new = second.get("/api/policy", None).await.ok().clone();
    let new_version = new["version"].as_str().unwrap().to_owned();
    assert_ne!(new_version, old_version);
    assert_eq!(new["text"], "Policy, second words");
    let told = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    assert!(told[0].body["text"].as_str().unwrap().contains(&new_version), "{:?}", told[0].body);
    // The Mini App's notice: seen ≠ in force, until acknowledged.
    assert_eq!(second.get("/api/me", Some(&carol)).await.ok()["policy_version_seen"], old_version);
    let acknowledged = second.request("POST", "/api/me/policy-ack", Some(&carol), None).await;
    assert_eq!(acknowledged.ok()["policy_version_seen"], new_version);
    let eve = second.dev_sign_in(4, "Eve").await;
    assert_eq!(second.get("/api/me", Some(&eve)).await.ok()["policy_version_seen"], new_version);

    let _third = spawn_app_with(backend, &config).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.messages_to(2).len(), 1, "told once per version, restarts or not");
    assert!(fake.messages_to(3).is_empty(), "restricted processing silences it");
    assert!(fake.messages_to(4).is_empty(), "a new account has nothing to be told");
    second.request("POST", "/api/me/policy-ack", None, None).await.problem(401);
}
