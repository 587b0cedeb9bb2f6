//! Classes with seats (issue 14): a service with `capacity` above 1 takes up
//! to that many clients at one start, each with their own booking and seat;
//! the database makes overbooking impossible across nodes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{
        Backend, DAY, TestApp, every_day, on_both_backends, slot, spawn_app_with, sql_column, sql_execute, two_nodes_on,
    },
    live::{next_json, open, send},
};

on_both_backends!(
    three_hundred_racers_on_two_nodes_for_the_last_ten_seats,
    a_class_occupies_the_provider_once_and_counts_its_seats,
    a_seat_moves_alone_and_a_cancelled_seat_is_free_again,
    the_database_refuses_a_seat_twice_or_beyond_the_capacity,
    a_capacity_lowered_under_the_seats_held_lets_nobody_in,
);

/// Makes the provider's service a class of `capacity` seats.
async fn make_class(app: &TestApp, provider: &str, service: &str, capacity: u16) {
    let patched = app
        .request(
            "PATCH",
            &format!("/api/provider/services/{service}"),
            Some(provider),
            Some(json!({ "capacity": capacity })),
        )
        .await;
    assert_eq!(patched.ok()["capacity"], capacity);
}

/// The seats left at `start` in a slots list (`None`: the start is not listed).
fn seats_left(slots: &Value, start: &str) -> Option<u64> {
    slots.as_array()?.iter().find(|s| s["start"] == start)?["seats_left"].as_u64()
}

async fn public_slots(app: &TestApp, service: &str) -> Value {
    app.get(&format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}"), None).await.ok()["slots"]
        .clone()
}

async fn three_hundred_racers_on_two_nodes_for_the_last_ten_seats(backend: Backend) {
    let Some((db, _redis, a, b)) = two_nodes_on(backend, &[]).await else { return };
    let (provider, service) = a.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    make_class(&a, &provider, &service, 15).await;
    let ten = slot("10:00");
    // Five seats go first; the race is for the last ten.
    for client in a.many_users(500, 5).await {
        assert_eq!(a.book(&client, "anna", &service, &ten).await.status, 201);
    }
    // A watcher on each node.
    let mut watchers = Vec::new();
    for node in [&a, &b] {
        let mut socket = open(node).await;
        let frame = json!({ "type": "watch", "provider": "anna", "service": service, "from": DAY, "to": DAY });
        send(&mut socket, frame).await;
        let first = next_json(&mut socket, Duration::from_secs(10)).await.expect("a first snapshot");
        assert_eq!(seats_left(&first["slots"], &ten), Some(10), "{first}");
        watchers.push(socket);
    }
    // Node B's subscription may still be settling right after start.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let racers = a.many_users(1000, 300).await;
    let attempts = racers.iter().enumerate().map(|(i, token)| {
        let node = if i % 2 == 0 { &a } else { &b };
        let ten = ten.clone();
        let service = service.clone();
        async move { node.book(token, "anna", &service, &ten).await }
    });
    let raced = std::time::Instant::now();
    let replies = futures_util::future::join_all(attempts).await;
    eprintln!("{backend:?}: 300 racers on two nodes answered in {:?}", raced.elapsed());
    let won = replies.iter().filter(|r| r.status == 201).count();
    let full = replies
        .iter()
        .filter(|r| r.status == 409 && r.body["type"].as_str().is_some_and(|t| t.ends_with("/class-full")));
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(won, 10, "exactly the ten seats left are won: {statuses:?}");
    assert_eq!(full.count(), 290, "everyone else hears class-full: {statuses:?}");

    let seats: Vec<i64> = sql_column(
        backend,
        &db.url,
        "SELECT seat FROM bookings WHERE status IN ('pending', 'confirmed') AND seat IS NOT NULL ORDER BY seat",
    )
    .await;
    assert_eq!(seats, (1..=15).collect::<Vec<i64>>(), "fifteen seat rows, each seat once");

    for (node, watcher) in watchers.iter_mut().enumerate() {
        let mut last = None;
        while last != Some(0) {
            let frame = next_json(watcher, Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("watcher on node {node} stopped at {last:?} seats left"));
            if frame["type"] == "slots" {
                last = seats_left(&frame["slots"], &ten);
            }
        }
    }
    for node in [&a, &b] {
        assert_eq!(seats_left(&public_slots(node, &service).await, &ten), Some(0), "both nodes agree it is full");
    }
}

async fn a_class_occupies_the_provider_once_and_counts_its_seats(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, class) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    make_class(&app, &provider, &class, 3).await;
    let solo = app
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Solo", "duration_min": 60 })))
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients = app.many_users(100, 5).await;
    assert_eq!(seats_left(&public_slots(&app, &class).await, &slot("10:00")), Some(3));
    // A one-to-one service's slot carries no seats.
    let solo_slots = public_slots(&app, &solo).await;
    assert!(solo_slots[0].get("seats_left").is_none(), "{solo_slots}");

    for client in &clients[..3] {
        assert_eq!(app.book(client, "anna", &class, &slot("10:00")).await.status, 201);
    }
    let full = app.book(&clients[3], "anna", &class, &slot("10:00")).await;
    assert_eq!(full.problem(409).as_deref(), Some("start"));
    assert!(full.body["type"].as_str().unwrap().ends_with("/class-full"), "{:?}", full.body);
    assert_eq!(seats_left(&public_slots(&app, &class).await, &slot("10:00")), Some(0), "full, still listed");
    // The class holds the provider once: no other service at 10:00.
    assert!(public_slots(&app, &solo).await.as_array().unwrap().iter().all(|s| s["start"] != slot("10:00")));
    assert_eq!(app.book(&clients[4], "anna", &solo, &slot("10:00")).await.problem(409).as_deref(), Some("start"));
    // And a one-to-one booking at 11:00 keeps the class off 11:00.
    assert_eq!(app.book(&clients[4], "anna", &solo, &slot("11:00")).await.status, 201);
    assert_eq!(seats_left(&public_slots(&app, &class).await, &slot("11:00")), None);
    assert_eq!(app.book(&clients[3], "anna", &class, &slot("11:00")).await.problem(409).as_deref(), Some("start"));

    // The agenda shows each attendee with their seat.
    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    let mut seats: Vec<u64> = agenda
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["start"] == slot("10:00"))
        .map(|b| b["seat"].as_u64().unwrap())
        .collect();
    seats.sort_unstable();
    assert_eq!(seats, [1, 2, 3]);
    // The public page tells the capacity.
    let page = app.get("/api/providers/anna", None).await;
    let listed = page.ok()["services"].as_array().unwrap().iter().find(|s| s["id"] == class.as_str()).cloned();
    assert_eq!(listed.unwrap()["capacity"], 3);
}

async fn a_seat_moves_alone_and_a_cancelled_seat_is_free_again(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, class) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    make_class(&app, &provider, &class, 2).await;
    let clients = app.many_users(100, 3).await;
    let first = app.book(&clients[0], "anna", &class, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned();
    let second = app.book(&clients[1], "anna", &class, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.book(&clients[2], "anna", &class, &slot("10:00")).await.status, 409);

    // Rescheduling moves one person: the other keeps 10:00, and 10:00 has a seat again.
    let moved = app
        .request(
            "POST",
            &format!("/api/bookings/{first}/reschedule"),
            Some(&clients[0]),
            Some(json!({ "start": slot("12:00") })),
        )
        .await;
    assert_eq!(moved.ok()["start"], slot("12:00"));
    assert_eq!(moved.body["seat"], 1, "the first seat of an empty start");
    let slots = public_slots(&app, &class).await;
    assert_eq!((seats_left(&slots, &slot("10:00")), seats_left(&slots, &slot("12:00"))), (Some(1), Some(1)));
    let mine = app.get("/api/bookings", Some(&clients[1])).await;
    let kept = mine.ok().as_array().unwrap().iter().find(|b| b["id"] == second.as_str()).cloned().unwrap();
    assert_eq!(kept["start"], slot("10:00"));

    // The seat freed by the move is taken by the third client; a cancel frees one again.
    assert_eq!(app.book(&clients[2], "anna", &class, &slot("10:00")).await.ok()["seat"], 1);
    app.request("POST", &format!("/api/bookings/{second}/cancel"), Some(&clients[1]), None).await.ok();
    assert_eq!(seats_left(&public_slots(&app, &class).await, &slot("10:00")), Some(1));
}

/// The database's own rules, below the calendar: a second booking of a seat
/// and a seat beyond the capacity are refused whoever writes them.
async fn the_database_refuses_a_seat_twice_or_beyond_the_capacity(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, class) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    make_class(&app, &provider, &class, 2).await;
    let client = app.dev_sign_in(100, "Carol").await;
    assert_eq!(app.book(&client, "anna", &class, &slot("10:00")).await.status, 201);
    let url = app.database_url();
    let copy = |seat: u16| {
        let id_expr = match backend {
            Backend::Sqlite => "randomblob(16)",
            Backend::Postgres => "gen_random_uuid()",
        };
        format!(
            "INSERT INTO bookings (id, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, \
             occupied_to, status, created_at, updated_at, seat, occurrence) \
             SELECT {id_expr}, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, occupied_to, \
             'confirmed', created_at, updated_at, {seat}, occurrence FROM bookings \
             WHERE seat IS NOT NULL AND status = 'confirmed' LIMIT 1"
        )
    };
    for (seat, why) in [(1, "the same seat twice"), (3, "a seat beyond the capacity of 2")] {
        let refused = raw_execute(backend, &url, &copy(seat)).await;
        assert!(refused.is_err(), "{why} was accepted");
    }
    // Seat 2 is fine: the rules refuse only what breaks them.
    raw_execute(backend, &url, &copy(2)).await.expect("seat 2 is free");
    let count: Vec<i64> = sql_column(backend, &url, "SELECT COUNT(*) FROM bookings WHERE seat IS NOT NULL").await;
    assert_eq!(count, [2]);
    // A capacity lowered under the seats held: seats 1..=3 of 3, lowered to
    // 2, seat 1 cancelled — seat 1 is a number within the capacity, but the
    // start holds two already.
    sql_execute(backend, &url, "UPDATE services SET capacity = 3").await;
    raw_execute(backend, &url, &copy(3)).await.expect("seat 3 of 3");
    sql_execute(backend, &url, "UPDATE services SET capacity = 2").await;
    sql_execute(backend, &url, "UPDATE bookings SET status = 'cancelled' WHERE seat = 1").await;
    assert!(raw_execute(backend, &url, &copy(1)).await.is_err(), "a third seat in a class of two was accepted");
}

async fn a_capacity_lowered_under_the_seats_held_lets_nobody_in(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, class) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    make_class(&app, &provider, &class, 3).await;
    let clients = app.many_users(100, 4).await;
    let mut ids = Vec::new();
    for client in &clients[..3] {
        ids.push(app.book(client, "anna", &class, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned());
    }
    make_class(&app, &provider, &class, 2).await;
    app.request("POST", &format!("/api/bookings/{}/cancel", ids[0]), Some(&clients[0]), None).await.ok();
    // Two seats held (2 and 3) in a class of two: full, though seat 1 is free as a number.
    assert_eq!(seats_left(&public_slots(&app, &class).await, &slot("10:00")), Some(0));
    let refused = app.book(&clients[3], "anna", &class, &slot("10:00")).await;
    assert!(refused.body["type"].as_str().is_some_and(|t| t.ends_with("/class-full")), "{}", refused.body);
    // The seats held stay held and can still be confirmed or cancelled.
    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    let held = agenda.ok().as_array().unwrap().iter().filter(|b| b["status"] == "confirmed").count();
    assert_eq!(held, 2);
}

async fn raw_execute(backend: Backend, url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await?;
            sqlx::query(sql).execute(&pool).await.map(drop)
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await?;
            sqlx::query(sql).execute(&pool).await.map(drop)
        }
    }
}
