//! Rate limits and several nodes: limits in-process and through Redis,
//! a Redis outage, and two nodes on one PostgreSQL and one Redis that behave
//! as one — live pushes and limits cross nodes, and survive Redis restarting.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{Backend, DAY, TestApp, every_day, slot, spawn_app_with, two_nodes},
    live::{next_json, open, send, starts, watch},
};

async fn sign_in_status(app: &TestApp, telegram_id: i64) -> (u16, Option<String>, serde_json::Value) {
    let response = app
        .client
        .post(format!("{}/api/auth/dev", app.address))
        .json(&json!({ "telegram_id": telegram_id, "first_name": "Burst" }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap_or_default())
}

#[actix_web::test]
async fn a_burst_of_sign_ins_from_one_address_meets_429() {
    let app = spawn_app_with(Backend::Sqlite, &[("RATE_SIGN_IN_PER_MIN", "5")]).await;
    for id in 0..5 {
        assert_eq!(sign_in_status(&app, 100 + id).await.0, 200);
    }
    let (status, retry_after, body) = sign_in_status(&app, 200).await;
    assert_eq!(status, 429);
    assert_eq!(body["type"], "/problems/too-many-requests");
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=12).contains(&wait), "one token comes back every 12 s: {wait}");
}

#[actix_web::test]
async fn booking_writes_and_websocket_connects_are_limited_too() {
    let app = spawn_app_with(Backend::Sqlite, &[("RATE_BOOKING_PER_MIN", "2"), ("RATE_WS_CONNECT_PER_MIN", "3")]).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("09:00")).await.status, 201);
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    app.book(&client, "anna", &service, &slot("11:00")).await.problem(429);
    // Another user is not affected by Carol's limit.
    let dave = app.dev_sign_in(3, "Dave").await;
    assert_eq!(app.book(&dave, "anna", &service, &slot("11:00")).await.status, 201);

    let url = format!("{}/ws", app.address.replacen("http://", "ws://", 1));
    for _ in 0..3 {
        tokio_tungstenite::connect_async(&url).await.expect("within the limit");
    }
    let refused = tokio_tungstenite::connect_async(&url).await.expect_err("over the limit");
    assert!(refused.to_string().contains("429"), "{refused}");
}

#[actix_web::test]
async fn an_unreachable_redis_leaves_the_node_serving_with_local_limits() {
    // Nothing listens on this port.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REDIS_URL", &format!("redis://127.0.0.1:{dead}")), ("RATE_SIGN_IN_PER_MIN", "3")],
    )
    .await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    for id in 0..2 {
        assert_eq!(sign_in_status(&app, 100 + id).await.0, 200, "serving without Redis");
    }
    assert_eq!(sign_in_status(&app, 200).await.0, 429, "the same limits, enforced locally");
    let mut watcher = open(&app).await;
    send(&mut watcher, watch("anna", &service, DAY, DAY)).await;
    assert_eq!(next_json(&mut watcher, Duration::from_secs(10)).await.unwrap()["type"], "slots");
}

#[actix_web::test]
async fn a_watcher_on_one_node_sees_bookings_made_on_the_other() {
    let Some((_db, _redis, a, b)) = two_nodes(&[]).await else { return };
    let (_, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut watcher = open(&a).await;
    send(&mut watcher, watch("anna", &service, DAY, DAY)).await;
    assert_eq!(starts(&next_json(&mut watcher, Duration::from_secs(10)).await.unwrap()).len(), 4);
    // Node B's subscription may still be settling right after start.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let client = b.dev_sign_in(2, "Carol").await;
    let booked = b.book(&client, "anna", &service, &slot("10:00")).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();
    let pushed = next_json(&mut watcher, Duration::from_secs(10)).await.expect("a push across nodes");
    assert_eq!(starts(&pushed), ["09:00", "11:00", "12:00"].map(slot));

    b.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&client), None).await.ok();
    let back = next_json(&mut watcher, Duration::from_secs(10)).await.expect("the cancel crosses too");
    assert_eq!(starts(&back).len(), 4);
    // And node A's own calendar knows about B's booking: booking it on A is refused.
    b.book(&client, "anna", &service, &slot("12:00")).await.ok();
    let _ = next_json(&mut watcher, Duration::from_secs(10)).await;
    let other = a.dev_sign_in(3, "Dave").await;
    a.book(&other, "anna", &service, &slot("12:00")).await.problem(409);
}

#[actix_web::test]
async fn the_rate_limit_is_shared_by_both_nodes() {
    let Some((_db, _redis, a, b)) = two_nodes(&[("RATE_SIGN_IN_PER_MIN", "4")]).await else { return };
    assert_eq!(sign_in_status(&a, 1).await.0, 200);
    assert_eq!(sign_in_status(&b, 2).await.0, 200);
    assert_eq!(sign_in_status(&a, 3).await.0, 200);
    assert_eq!(sign_in_status(&b, 4).await.0, 200);
    assert_eq!(sign_in_status(&a, 5).await.0, 429, "four sign-ins spent across both nodes");
    assert_eq!(sign_in_status(&b, 6).await.0, 429);
}

#[actix_web::test]
async fn redis_dying_and_returning_loses_no_booking_and_resyncs_the_watchers() {
    let Some((_db, mut redis, a, b)) = two_nodes(&[]).await else { return };
    let (_, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut watcher = open(&a).await;
    send(&mut watcher, watch("anna", &service, DAY, DAY)).await;
    assert_eq!(starts(&next_json(&mut watcher, Duration::from_secs(10)).await.unwrap()).len(), 4);
    let carol = b.dev_sign_in(2, "Carol").await;
    let dave = a.dev_sign_in(3, "Dave").await;

    redis.kill();
    // Both nodes keep taking bookings.
    assert_eq!(b.book(&carol, "anna", &service, &slot("09:00")).await.status, 201);
    assert_eq!(a.book(&dave, "anna", &service, &slot("10:00")).await.status, 201);
    // A's own booking still reaches A's watcher (the local bus does not need Redis).
    let local = next_json(&mut watcher, Duration::from_secs(10)).await.expect("local push without Redis");
    assert!(!starts(&local).contains(&slot("10:00")));

    redis.restart().await;
    // After reconnecting, A resyncs its watchers: the snapshot now also lacks
    // 09:00, booked on B while the nodes could not talk.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut resynced = false;
    while tokio::time::Instant::now() < deadline {
        match next_json(&mut watcher, Duration::from_secs(1)).await {
            Some(frame) if starts(&frame) == ["11:00", "12:00"].map(slot) => {
                resynced = true;
                break;
            }
            _ => continue,
        }
    }
    assert!(resynced, "the watcher got a fresh snapshot after Redis came back");

    // And cross-node pushes work again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.book(&carol, "anna", &service, &slot("11:00")).await.status, 201);
    let mut crossed = false;
    while let Some(frame) = next_json(&mut watcher, Duration::from_secs(5)).await {
        if starts(&frame) == [slot("12:00")] {
            crossed = true;
            break;
        }
    }
    assert!(crossed, "cross-node push resumed");
}
