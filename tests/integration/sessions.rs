//! What a node keeps in memory (`src/memo.rs`): signed-in users and
//! providers by slug are answered from memory, yet never past a change — a
//! deleted account is signed out on every node at once (not when the memo's
//! 30 s run out), a correction or a new slug made on one node is what the
//! other serves next.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, every_day, on_both_backends, slot, spawn_app_with, sql_execute, two_nodes_on};

on_both_backends!(
    a_change_on_one_node_is_what_every_node_serves_next,
    sessions_are_served_from_memory_for_a_while,
    what_changes_an_account_is_served_at_once,
    a_slug_changed_on_one_node_is_what_every_node_resolves_next,
);

/// Polls `check` until it holds or two seconds pass; how long it took.
async fn within_two_seconds(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(2), "{what}: not within 2 s (the cache keeps 30 s)");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

async fn a_change_on_one_node_is_what_every_node_serves_next(backend: Backend) {
    let Some((_db, _redis, a, b)) = two_nodes_on(backend, &[]).await else { return };
    let carol = a.dev_sign_in(2, "Carol").await;
    // Both nodes have served Carol, so both hold her session in memory
    // (that they do: `sessions_are_served_from_memory_for_a_while`).
    for node in [&a, &b] {
        assert_eq!(node.get("/api/me", Some(&carol)).await.ok()["time_zone"], json!(null));
    }
    // A correction on B: A's next answers show it.
    let patch = json!({ "time_zone": "Europe/Berlin" });
    assert_eq!(b.request("PATCH", "/api/me", Some(&carol), Some(patch)).await.status, 200);
    assert_eq!(b.get("/api/me", Some(&carol)).await.ok()["time_zone"], "Europe/Berlin", "at once on B");
    let took = within_two_seconds("the correction on A", async || {
        a.get("/api/me", Some(&carol)).await.ok()["time_zone"] == "Europe/Berlin"
    })
    .await;
    eprintln!("{backend:?}: a correction on B reached A's session cache within {took:?}");

    // Deleted on A: signed out on A at once, and on B as soon as B hears of it.
    assert_eq!(a.request("DELETE", "/api/me", Some(&carol), None).await.status, 204);
    a.get("/api/me", Some(&carol)).await.problem(401);
    let took =
        within_two_seconds("the sign-out on B", async || b.get("/api/me", Some(&carol)).await.status == 401).await;
    eprintln!("{backend:?}: a deletion on A signed the session out on B within {took:?}");
    // Nor on any other route.
    b.get("/api/bookings", Some(&carol)).await.problem(401);
}

async fn sessions_are_served_from_memory_for_a_while(backend: Backend) {
    // A session row removed behind the server's back (an operator's SQL: no
    // event tells of it) is still served from memory, for at most
    // CACHE_SECS; with 0, never.
    for (cache_secs, served_after_removal) in [("0", false), ("3", true)] {
        let app = spawn_app_with(backend, &[("CACHE_SECS", cache_secs)]).await;
        let carol = app.dev_sign_in(2, "Carol").await;
        app.get("/api/me", Some(&carol)).await.ok();
        sql_execute(backend, &app.database_url(), "DELETE FROM sessions").await;
        let status = app.get("/api/me", Some(&carol)).await.status;
        assert_eq!(status == 200, served_after_removal, "CACHE_SECS={cache_secs}: {status}");
        if served_after_removal {
            tokio::time::sleep(Duration::from_millis(3100)).await;
            app.get("/api/me", Some(&carol)).await.problem(401);
        }
    }
}

async fn what_changes_an_account_is_served_at_once(backend: Backend) {
    // Restricting processing (policy §8) is seen by the very next request.
    let app = spawn_app_with(backend, &[]).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    app.get("/api/me", Some(&carol)).await.ok();
    assert_eq!(app.get("/api/me", Some(&carol)).await.ok()["processing_restricted"], false);
    let restrict = json!({ "processing_restricted": true });
    assert_eq!(app.request("PATCH", "/api/me", Some(&carol), Some(restrict)).await.status, 200);
    assert_eq!(app.get("/api/me", Some(&carol)).await.ok()["processing_restricted"], true);
    // A sign-in that refreshes the name is served at once as well.
    app.dev_sign_in(2, "Caroline").await;
    assert_eq!(app.get("/api/me", Some(&carol)).await.ok()["first_name"], "Caroline");
}

async fn a_slug_changed_on_one_node_is_what_every_node_resolves_next(backend: Backend) {
    let Some((_db, _redis, a, b)) = two_nodes_on(backend, &[]).await else { return };
    let (anna, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    // B has looked Anna up by slug (and keeps her): its page and a booking.
    b.get("/api/providers/anna", None).await.ok();
    let carol = b.dev_sign_in(2, "Carol").await;
    assert_eq!(b.book(&carol, "anna", &service, &slot("09:00")).await.status, 201);
    // Anna takes another slug on A: on B the old one names nobody at once,
    // and the new one names her.
    let profile = json!({ "slug": "anna-cuts", "display_name": "Anna", "timezone": "Europe/Berlin",
        "slot_step_min": 60, "min_notice_min": 0, "horizon_days": 366 });
    a.request("PUT", "/api/provider", Some(&anna), Some(profile)).await.ok();
    let took = within_two_seconds("the old slug forgotten on B", async || {
        b.get("/api/providers/anna", None).await.status == 404
    })
    .await;
    eprintln!("{backend:?}: a slug changed on A was forgotten on B within {took:?}");
    b.book(&carol, "anna", &service, &slot("10:00")).await.problem(404);
    assert_eq!(b.book(&carol, "anna-cuts", &service, &slot("10:00")).await.status, 201);
}
