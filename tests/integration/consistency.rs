//! A provider's own changes are live and binding on every node (DESIGN §8
//! "Consistency"): hours, days off, rules and services reach every watcher
//! at once, on one node and across two; and a node whose bus is cut still
//! never books against settings older than the last committed change.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, DAY, TestApp, every_day, on_both_backends, slot, spawn_app, spawn_app_with, two_nodes},
    live::{Socket, next_json, open, send, starts, watch},
};

on_both_backends!(
    every_settings_change_reaches_every_watcher,
    a_node_cut_from_the_bus_never_books_against_stale_settings,
    a_node_that_cannot_hear_the_others_offers_no_stale_slots,
);

/// Bounds a wait so a missing frame fails the test instead of hanging it;
/// the figures printed are what to read (speed is measured, not asserted).
const WAIT: Duration = Duration::from_secs(5);

/// Watchers of anna's one service on [`DAY`], each past its first snapshot.
async fn watchers(app: &TestApp, service: &str, n: usize) -> Vec<Socket> {
    let mut sockets = Vec::new();
    for _ in 0..n {
        let mut socket = open(app).await;
        send(&mut socket, watch("anna", service, DAY, DAY)).await;
        let first = next_json(&mut socket, WAIT).await.expect("a first snapshot");
        assert_eq!(first["type"], "slots", "{first}");
        sockets.push(socket);
    }
    sockets
}

/// Every socket's next frame, with how long after `since` the slowest came.
async fn next_frames(sockets: &mut [Socket], since: Instant) -> (Vec<Value>, Duration) {
    let mut frames = Vec::new();
    for socket in sockets.iter_mut() {
        frames.push(next_json(socket, WAIT).await.expect("a frame after the change"));
    }
    (frames, since.elapsed())
}

/// Asserts every watcher got a `slots` frame with exactly `expected`.
#[track_caller]
fn all_show(frames: &[Value], expected: &[String], what: &str) {
    for frame in frames {
        assert_eq!(frame["type"], "slots", "{what}: {frame}");
        assert_eq!(starts(frame), expected, "{what}");
    }
}

fn times(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| slot(t)).collect()
}

async fn every_settings_change_reaches_every_watcher(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut sockets = watchers(&app, &service, 5).await;
    let mut slowest = Duration::ZERO;

    let changed = Instant::now();
    app.request("PUT", "/api/provider/schedule", Some(&token), Some(every_day("09:00", "11:00"))).await.ok();
    let (frames, took) = next_frames(&mut sockets, changed).await;
    all_show(&frames, &times(&["09:00", "10:00"]), "shorter weekly hours");
    slowest = slowest.max(took);

    let mut day_off = every_day("09:00", "11:00");
    day_off["overrides"] = json!([{ "date": DAY, "closed": true }]);
    let changed = Instant::now();
    app.request("PUT", "/api/provider/schedule", Some(&token), Some(day_off)).await.ok();
    let (frames, took) = next_frames(&mut sockets, changed).await;
    all_show(&frames, &[], "a day off");
    slowest = slowest.max(took);

    app.request("PUT", "/api/provider/schedule", Some(&token), Some(every_day("09:00", "11:00"))).await.ok();
    next_frames(&mut sockets, Instant::now()).await;
    let changed = Instant::now();
    let rules = json!({ "slug": "anna", "display_name": "anna", "timezone": "Europe/Berlin",
        "slot_step_min": 30, "min_notice_min": 0, "horizon_days": 366 });
    app.request("PUT", "/api/provider", Some(&token), Some(rules)).await.ok();
    let (frames, took) = next_frames(&mut sockets, changed).await;
    all_show(&frames, &times(&["09:00", "09:30", "10:00"]), "a finer slot step (a rule)");
    slowest = slowest.max(took);

    let changed = Instant::now();
    let longer = json!({ "name": "Visit", "duration_min": 90 });
    app.request("PATCH", &format!("/api/provider/services/{service}"), Some(&token), Some(longer)).await.ok();
    let (frames, took) = next_frames(&mut sockets, changed).await;
    all_show(&frames, &times(&["09:00", "09:30"]), "a longer service");
    slowest = slowest.max(took);

    let changed = Instant::now();
    let retired = app.request("DELETE", &format!("/api/provider/services/{service}"), Some(&token), None).await;
    assert!((200..300).contains(&retired.status), "{}", retired.body);
    let (frames, took) = next_frames(&mut sockets, changed).await;
    all_show(&frames, &[], "a retired service: an empty frame first");
    slowest = slowest.max(took);
    for socket in &mut sockets {
        let error = next_json(socket, WAIT).await.expect("then why");
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["status"], 404);
        assert!(error["detail"].as_str().unwrap().contains("service"), "{error}");
    }
    // The watch ended: a later change sends nothing more about it.
    app.request("PUT", "/api/provider/schedule", Some(&token), Some(every_day("08:00", "18:00"))).await.ok();
    assert!(next_json(&mut sockets[0], Duration::from_millis(300)).await.is_none());
    eprintln!("settings change → every watcher ({backend:?}, one node): slowest {slowest:?}");
}

async fn a_node_cut_from_the_bus_never_books_against_stale_settings(backend: Backend) {
    // Two nodes on one database and no bus between them at all: only the
    // settings version in the booking transaction keeps A honest.
    let a = spawn_app(backend).await;
    let shared = a.database_url();
    let b = spawn_app_with(backend, &[("DATABASE_URL", &shared)]).await;
    let (token, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = a.dev_sign_in(2, "Carol").await;
    let path = format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}");
    // A's calendar is loaded, with the day open.
    assert_eq!(a.get(&path, None).await.ok()["slots"].as_array().unwrap().len(), 4);

    // B closes the day; A, never told, is asked for 10:00 right after.
    let mut closed = every_day("09:00", "13:00");
    closed["overrides"] = json!([{ "date": DAY, "closed": true }]);
    b.request("PUT", "/api/provider/schedule", Some(&token), Some(closed)).await.ok();
    let refused = a.book(&carol, "anna", &service, &slot("10:00")).await;
    assert_eq!(refused.problem(422).as_deref(), Some("start"), "booked into hours closed on the other node");
    assert!(a.get(&path, None).await.ok()["slots"].as_array().unwrap().is_empty(), "A reloaded");

    // B opens the afternoon instead: A's memory (closed) would refuse 15:00,
    // but a refusal is checked against the current version first.
    let mut afternoon = every_day("09:00", "13:00");
    afternoon["overrides"] = json!([{ "date": DAY, "intervals": [{ "start": "15:00", "end": "17:00" }] }]);
    b.request("PUT", "/api/provider/schedule", Some(&token), Some(afternoon)).await.ok();
    let booked = a.book(&carol, "anna", &service, &slot("15:00")).await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    // A rule changed on B binds A too: manual confirmation now.
    let manual = json!({ "slug": "anna", "display_name": "anna", "timezone": "Europe/Berlin",
        "slot_step_min": 60, "min_notice_min": 0, "horizon_days": 366, "requires_confirmation": true });
    b.request("PUT", "/api/provider", Some(&token), Some(manual)).await.ok();
    let pending = a.book(&carol, "anna", &service, &slot("16:00")).await;
    assert_eq!(pending.ok()["status"], "pending", "decided with B's new rule");

    // A service retired on B cannot be booked on A.
    b.request("DELETE", &format!("/api/provider/services/{service}"), Some(&token), None).await;
    let gone = a.book(&carol, "anna", &service, "2027-06-02T10:00:00+02:00").await;
    gone.problem(404);
    let mine = a.get("/api/bookings", Some(&carol)).await;
    assert_eq!(mine.ok().as_array().unwrap().len(), 2, "nothing else was written");
}

async fn a_node_that_cannot_hear_the_others_offers_no_stale_slots(backend: Backend) {
    // A is configured for Redis but cannot reach it: it knows it may be
    // missing the others' changes, so its calendar checks the settings'
    // version before it offers slots. B shares the database.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = spawn_app_with(backend, &[("REDIS_URL", &format!("redis://127.0.0.1:{dead}"))]).await;
    let shared = a.database_url();
    let b = spawn_app_with(backend, &[("DATABASE_URL", &shared)]).await;
    let (token, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let path = format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}");
    assert_eq!(a.get(&path, None).await.ok()["slots"].as_array().unwrap().len(), 4);

    let mut closed = every_day("09:00", "13:00");
    closed["overrides"] = json!([{ "date": DAY, "closed": true }]);
    b.request("PUT", "/api/provider/schedule", Some(&token), Some(closed)).await.ok();
    let offered = a.get(&path, None).await;
    assert_eq!(offered.ok()["slots"], json!([]), "A offers nothing on the day B closed, at once");
}

#[actix_web::test]
async fn a_change_on_one_node_reaches_the_watchers_of_both() {
    let Some((_db, _redis, a, b)) = two_nodes(&[]).await else { return };
    let (token, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut on_a = watchers(&a, &service, 3).await;
    let mut on_b = watchers(&b, &service, 3).await;
    // The nodes' subscriptions may still be settling right after start:
    // wait until a change made on B is seen on A (a no-op rewrite of the hours).
    let settled = Instant::now();
    loop {
        b.request("PUT", "/api/provider/schedule", Some(&token), Some(every_day("09:00", "13:00"))).await.ok();
        if next_json(&mut on_a[0], Duration::from_millis(500)).await.is_some() {
            break;
        }
        assert!(settled.elapsed() < Duration::from_secs(10), "the nodes never connected over Redis");
    }
    // Drain what that produced everywhere.
    for socket in on_a.iter_mut().chain(on_b.iter_mut()) {
        while next_json(socket, Duration::from_millis(300)).await.is_some() {}
    }

    let mut day_off = every_day("09:00", "13:00");
    day_off["overrides"] = json!([{ "date": DAY, "closed": true }]);
    let changed = Instant::now();
    b.request("PUT", "/api/provider/schedule", Some(&token), Some(day_off)).await.ok();
    let (frames_a, took_a) = next_frames(&mut on_a, changed).await;
    let (frames_b, took_b) = next_frames(&mut on_b, changed).await;
    all_show(&frames_a, &[], "a day off made on B, watched on A");
    all_show(&frames_b, &[], "a day off made on B, watched on B");

    let changed = Instant::now();
    a.request("PUT", "/api/provider/schedule", Some(&token), Some(every_day("10:00", "12:00"))).await.ok();
    let (frames_a, _) = next_frames(&mut on_a, changed).await;
    let (frames_b, took_back) = next_frames(&mut on_b, changed).await;
    all_show(&frames_a, &times(&["10:00", "11:00"]), "hours changed on A, watched on A");
    all_show(&frames_b, &times(&["10:00", "11:00"]), "hours changed on A, watched on B");

    let changed = Instant::now();
    let rules = json!({ "slug": "anna", "display_name": "anna", "timezone": "Europe/Berlin",
        "slot_step_min": 30, "min_notice_min": 0, "horizon_days": 366 });
    b.request("PUT", "/api/provider", Some(&token), Some(rules)).await.ok();
    let (frames_a, took_rule) = next_frames(&mut on_a, changed).await;
    all_show(&frames_a, &times(&["10:00", "10:30", "11:00"]), "a rule changed on B, watched on A");
    next_frames(&mut on_b, changed).await;

    let changed = Instant::now();
    b.request("DELETE", &format!("/api/provider/services/{service}"), Some(&token), None).await;
    for socket in on_a.iter_mut().chain(on_b.iter_mut()) {
        let empty = next_json(socket, WAIT).await.expect("an empty frame");
        assert_eq!(starts(&empty), Vec::<String>::new());
        assert_eq!(next_json(socket, WAIT).await.expect("an error frame")["status"], 404);
    }
    let took_retire = changed.elapsed();
    // And A's own calendar follows B: booking the retired service on A fails.
    let carol = a.dev_sign_in(2, "Carol").await;
    a.book(&carol, "anna", &service, &slot("10:00")).await.problem(404);
    eprintln!(
        "settings change across nodes: B→A {took_a:?}, B→B {took_b:?}, A→B {took_back:?}, \
         rule B→A {took_rule:?}, retire → all six {took_retire:?}"
    );
}
