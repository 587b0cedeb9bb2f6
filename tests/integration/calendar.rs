//! The calendar actors under stress and faults: storms of concurrent bookings
//! for one slot, overlapping and buffered slots, injected panics and stops,
//! overload, idle shutdown, two server processes on one database, kill -9.

use std::time::Duration;

use actors::calendar::Fault;
use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{
    Api, Backend, DAY, ServerProcess, TestDatabase, every_day, on_both_backends, slot, spawn_app, spawn_app_with,
};

on_both_backends!(
    five_hundred_racers_for_one_slot_get_exactly_one_booking,
    racers_for_overlapping_slots_get_exactly_one_booking,
    buffers_collide_like_bookings,
    a_panicking_calendar_restarts_with_its_state_and_harms_no_other,
    a_stopped_calendar_is_restarted,
    an_overloaded_calendar_answers_503_with_retry_after,
    idle_calendars_stop_and_come_back,
    two_server_processes_on_one_database_book_a_slot_once,
    acknowledged_bookings_survive_kill_9,
);

/// Fires one booking per token, all at once, for `starts[i % starts.len()]`;
/// returns the status codes.
async fn storm(api: &Api, tokens: &[String], slug: &str, service: &str, starts: &[String]) -> Vec<u16> {
    let requests =
        tokens.iter().enumerate().map(|(i, token)| api.book(token, slug, service, &starts[i % starts.len()]));
    join_all(requests).await.into_iter().map(|reply| reply.status).collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

async fn stored_bookings(api: &Api, provider_token: &str) -> usize {
    let agenda = api.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(provider_token)).await;
    agenda.ok().as_array().unwrap().iter().filter(|b| b["status"] == "confirmed").count()
}

async fn five_hundred_racers_for_one_slot_get_exactly_one_booking(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let racers = app.many_users(1000, 500).await;
    let statuses = storm(&app, &racers, "anna", &service, &[slot("10:00")]).await;
    assert_eq!(count(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 499, "{statuses:?}");
    assert_eq!(stored_bookings(&app, &provider).await, 1);
}

async fn racers_for_overlapping_slots_get_exactly_one_booking(backend: Backend) {
    let app = spawn_app(backend).await;
    // 60-minute visits on a 15-minute grid: 10:00, 10:15, 10:30 and 10:45 all
    // overlap each other.
    let (provider, service) =
        app.provider(1, "anna", json!({ "slot_step_min": 15 }), every_day("09:00", "13:00")).await;
    let racers = app.many_users(1000, 200).await;
    let starts = [slot("10:00"), slot("10:15"), slot("10:30"), slot("10:45")];
    let statuses = storm(&app, &racers, "anna", &service, &starts).await;
    assert_eq!(count(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 199, "{statuses:?}");
    assert_eq!(stored_bookings(&app, &provider).await, 1);
}

async fn buffers_collide_like_bookings(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, _) = app.provider(1, "anna", json!({ "slot_step_min": 30 }), every_day("09:00", "13:00")).await;
    // 30 minutes with 30 minutes of clean-up: 10:00 occupies 10:00–11:00, so
    // 10:30 (occupying 10:30–11:30) collides with it through the buffer.
    let buffered = app
        .request(
            "POST",
            "/api/provider/services",
            Some(&provider),
            Some(json!({ "name": "Color", "duration_min": 30, "buffer_after_min": 30 })),
        )
        .await;
    let service = buffered.ok()["id"].as_str().unwrap().to_owned();
    let racers = app.many_users(1000, 200).await;
    let statuses = storm(&app, &racers, "anna", &service, &[slot("10:00"), slot("10:30")]).await;
    assert_eq!(count(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 199, "{statuses:?}");
    assert_eq!(stored_bookings(&app, &provider).await, 1);
}

async fn a_panicking_calendar_restarts_with_its_state_and_harms_no_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, anna_service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let (_, bob_service) = app.provider(2, "bob", json!({}), every_day("09:00", "13:00")).await;
    let clients = app.many_users(100, 4).await;
    assert_eq!(app.book(&clients[0], "anna", &anna_service, &slot("09:00")).await.status, 201);

    let anna_id = app.provider_id(&anna).await;
    app.calendars.inject_fault(anna_id, Fault::PanicOnNextBook).await;
    // Bob's calendar is booked while Anna's crashes.
    let ten = slot("10:00");
    let (crashed, bob) = futures_util::join!(
        app.book(&clients[1], "anna", &anna_service, &ten),
        app.book(&clients[2], "bob", &bob_service, &ten),
    );
    crashed.problem(503);
    assert_eq!(bob.status, 201, "{}", bob.body);

    // Safe to retry, and the restarted calendar still knows the 09:00 booking.
    assert_eq!(app.book(&clients[1], "anna", &anna_service, &slot("10:00")).await.status, 201);
    app.book(&clients[3], "anna", &anna_service, &slot("09:00")).await.problem(409);
    assert_eq!(stored_bookings(&app, &anna).await, 2);
}

async fn a_stopped_calendar_is_restarted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let clients = app.many_users(100, 2).await;
    assert_eq!(app.book(&clients[0], "anna", &service, &slot("09:00")).await.status, 201);
    app.calendars.inject_fault(app.provider_id(&anna).await, Fault::Stop).await;
    app.book(&clients[1], "anna", &service, &slot("09:00")).await.problem(409);
    assert_eq!(app.book(&clients[1], "anna", &service, &slot("10:00")).await.status, 201);
}

async fn an_overloaded_calendar_answers_503_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, &[("CALENDAR_QUEUE_LIMIT", "2")]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let clients = app.many_users(100, 8).await;
    app.calendars.inject_fault(app.provider_id(&anna).await, Fault::DelayNextBook(Duration::from_millis(800))).await;
    let starts: Vec<String> = ["09:00", "10:00", "11:00", "12:00"].map(slot).to_vec();
    let requests = clients.iter().enumerate().map(|(i, token)| {
        let request = app
            .client
            .post(format!("{}/api/bookings", app.address))
            .bearer_auth(token)
            .json(&json!({ "provider": "anna", "service": service, "start": starts[i % 4] }));
        async move { request.send().await.unwrap() }
    });
    let responses = join_all(requests).await;
    let overloaded: Vec<_> = responses.iter().filter(|r| r.status() == 503).collect();
    assert!(!overloaded.is_empty(), "a queue limit of 2 with 8 requests must shed some");
    assert!(overloaded.iter().all(|r| r.headers().contains_key("retry-after")));
    assert!(responses.iter().any(|r| r.status() == 201));
    assert!(responses.iter().all(|r| [201, 409, 503].contains(&r.status().as_u16())));
}

async fn idle_calendars_stop_and_come_back(backend: Backend) {
    let app = spawn_app_with(backend, &[("CALENDAR_IDLE_SECS", "1")]).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("09:00")).await.status, 201);
    assert_eq!(app.calendars.running(), 1);
    let mut stopped = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.calendars.running() == 0 {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "an idle calendar is stopped");
    app.book(&client, "anna", &service, &slot("09:00")).await.problem(409);
    assert_eq!(app.calendars.running(), 1);
}

async fn two_server_processes_on_one_database_book_a_slot_once(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let a = ServerProcess::start(&db.url).await;
    let b = ServerProcess::start(&db.url).await;
    let (provider, service) = a.api.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    // Warm both nodes' calendars so each holds its own view of the day.
    assert_eq!(
        b.api.get(&format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}"), None).await.status,
        200
    );
    let racers = a.api.many_users(1000, 200).await;
    let (half_a, half_b) = racers.split_at(100);
    let ten = [slot("10:00")];
    let (on_a, on_b) = futures_util::join!(
        storm(&a.api, half_a, "anna", &service, &ten),
        storm(&b.api, half_b, "anna", &service, &ten),
    );
    let statuses: Vec<u16> = on_a.into_iter().chain(on_b).collect();
    assert_eq!(count(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 199, "{statuses:?}");
    assert_eq!(stored_bookings(&a.api, &provider).await, 1);
}

async fn acknowledged_bookings_survive_kill_9(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let mut node = ServerProcess::start(&db.url).await;
    let (provider, _) = node.api.provider(1, "anna", json!({ "slot_step_min": 5 }), every_day("00:00", "24:00")).await;
    let quick = node
        .api
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Quick", "duration_min": 5 })))
        .await;
    let service = quick.ok()["id"].as_str().unwrap().to_owned();
    let clients = node.api.many_users(1000, 50).await;

    // Keep booking distinct slots from 50 clients at once; kill the process
    // once some bookings were acknowledged, with more in flight.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let api = node.api.clone();
    let service_for_load = service.clone();
    let sink = acknowledged.clone();
    let load = tokio::spawn(async move {
        for round in 0..40 {
            let starts: Vec<String> = (0..clients.len())
                .map(|i| {
                    let minutes = (round * 50 + i) * 5;
                    format!("2027-07-{:02}T{:02}:{:02}:00+02:00", 1 + minutes / 1440, minutes % 1440 / 60, minutes % 60)
                })
                .collect();
            let requests = clients.iter().zip(&starts).map(|(token, start)| {
                let (api, sink, service) = (&api, sink.clone(), &service_for_load);
                async move {
                    let reply = api.book(token, "anna", service, start).await;
                    if reply.status == 201 {
                        sink.lock().unwrap().push(reply.body["id"].as_str().unwrap().to_owned());
                    }
                    reply.status
                }
            });
            if join_all(requests).await.contains(&0) {
                break; // the server is gone
            }
        }
    });
    for _ in 0..600 {
        if acknowledged.lock().unwrap().len() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.kill_9();
    load.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 20, "bookings were acknowledged before the kill: {}", acknowledged.len());

    let restarted = ServerProcess::start(&db.url).await;
    let agenda = restarted.api.get("/api/provider/bookings?from=2027-07-01&to=2027-07-31", Some(&provider)).await;
    let stored: std::collections::HashSet<String> =
        agenda.ok().as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "booking {id} was acknowledged (201) but lost by kill -9");
    }
}
