//! The limits of issue 16 that bound what one client can cost: JSON depth,
//! the WebSocket message rate, and per-account caps on client-book entries,
//! services and support messages. Each answers a clear refusal and stores
//! nothing; each is configured low here so the test reaches it quickly.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

use crate::{
    fake_telegram::{FakeTelegram, message_from},
    helpers::{Backend, TestApp, every_day, on_both_backends, slot, spawn_app, spawn_app_with},
    live::{next_json, open, send, watch},
};

on_both_backends!(
    json_nested_past_the_limit_is_refused_before_parsing,
    a_socket_sending_too_fast_gets_429_frames_then_is_closed,
    the_client_book_stops_at_its_cap_but_clients_who_book_still_come,
    services_stop_at_their_cap_retired_ones_included,
    support_refuses_overlong_messages_and_stops_for_the_day_at_its_cap,
);

const WAIT: Duration = Duration::from_secs(10);

fn nested(levels: usize) -> Value {
    (0..levels).fold(json!("x"), |inner, _| json!([inner]))
}

async fn json_nested_past_the_limit_is_refused_before_parsing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, _) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let before = app.get("/api/provider", Some(&token)).await.ok().clone();

    // 33 levels (the value's array nesting plus the body object): refused as
    // malformed, whatever the field.
    let deep = json!({ "slug": nested(32), "display_name": "Anna", "timezone": "Europe/Berlin" });
    let refused = app.request("PUT", "/api/provider", Some(&token), Some(deep)).await;
    refused.problem(400);
    assert!(refused.body["detail"].as_str().unwrap().contains("deeper than 32"), "{}", refused.body);

    // Within the depth, the same mistake is an ordinary type error on the field.
    let shallow = json!({ "slug": nested(30), "display_name": "Anna", "timezone": "Europe/Berlin" });
    let reply = app.request("PUT", "/api/provider", Some(&token), Some(shallow)).await;
    assert_eq!(reply.problem(422).as_deref(), Some("slug"));

    // Brackets inside strings are text, not depth.
    let brackets = "[{".repeat(200);
    let patch = json!({ "name": "Carol", "notes": brackets });
    let client = app.request("POST", "/api/provider/clients", Some(&token), Some(patch)).await;
    assert_eq!(client.ok()["notes"], brackets.as_str());
    assert_eq!(&app.get("/api/provider", Some(&token)).await.ok().clone(), &before, "the refusals changed nothing");
}

async fn a_socket_sending_too_fast_gets_429_frames_then_is_closed(backend: Backend) {
    let app = spawn_app_with(backend, &[("WS_MESSAGES_PER_SEC", "5")]).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let unwatch =
        json!({ "type": "unwatch", "provider": "anna", "service": service, "from": "2027-06-09", "to": "2027-06-09" });
    let mut socket = open(&app).await;

    // A burst of twice the rate is answered (404: nothing watched), the rest 429.
    for _ in 0..20 {
        send(&mut socket, unwatch.clone()).await;
    }
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(next_json(&mut socket, WAIT).await.expect("a reply to every message")["status"].clone());
    }
    let (answered, limited) =
        (statuses.iter().filter(|s| **s == 404).count(), statuses.iter().filter(|s| **s == 429).count());
    assert!((10..=12).contains(&answered) && answered + limited == 20, "{statuses:?}");

    // After a pause the socket is usable again: the limit is a rate, not a ban.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    send(&mut socket, watch("anna", &service, "2027-06-09", "2027-06-09")).await;
    assert_eq!(next_json(&mut socket, WAIT).await.expect("slots")["type"], "slots");

    // A client that ignores its 429s is cut off with 1008 (policy violation).
    for _ in 0..80 {
        if socket.send(Message::text(unwatch.to_string())).await.is_err() {
            break;
        }
    }
    let mut close_code = None;
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, socket.next()).await {
        match frame {
            Ok(Message::Close(reason)) => {
                close_code = reason.map(|r| r.code);
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(close_code, Some(CloseCode::Policy));
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

async fn clients(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/provider/clients", Some(token)).await.ok().as_array().expect("a list").clone()
}

async fn the_client_book_stops_at_its_cap_but_clients_who_book_still_come(backend: Backend) {
    let app = spawn_app_with(backend, &[("CLIENT_BOOK_MAX", "3")]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let add = |name: &str| json!({ "name": name, "contacts": "+49 30 1234" });
    let mut ids = Vec::new();
    for name in ["Dora", "Emil", "Fritz"] {
        let added = app.request("POST", "/api/provider/clients", Some(&anna), Some(add(name))).await;
        ids.push(added.ok()["id"].as_str().expect("id").to_owned());
    }
    let full = app.request("POST", "/api/provider/clients", Some(&anna), Some(add("Gerd"))).await;
    full.problem(409);
    assert_eq!(full.body["type"], "/problems/client-book-full");
    assert_eq!(clients(&app, &anna).await.len(), 3, "nothing stored");

    // Someone who books is a client whatever the cap: the cap bounds typing.
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &service, &slot("10:00")).await.ok();
    assert_eq!(clients(&app, &anna).await.len(), 4);
    let still_full = app.request("POST", "/api/provider/clients", Some(&anna), Some(add("Gerd"))).await;
    still_full.problem(409);

    // Deleting one makes room again.
    let path = format!("/api/provider/clients/{}", ids[0]);
    assert_eq!(app.request("DELETE", &path, Some(&anna), None).await.status, 204);
    app.request("POST", "/api/provider/clients", Some(&anna), Some(add("Gerd"))).await.ok();

    // The document names the answer (schemathesis holds the server to it).
    let document = app.get("/api/openapi.json", None).await;
    let responses = &document.ok()["paths"]["/api/provider/clients"]["post"]["responses"];
    assert!(responses.get("409").is_some(), "{responses}");
}

async fn services_stop_at_their_cap_retired_ones_included(backend: Backend) {
    let app = spawn_app_with(backend, &[("SERVICES_MAX", "3")]).await;
    let (anna, first) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let service = |name: &str| json!({ "name": name, "duration_min": 30 });
    for name in ["Cut", "Shave"] {
        app.request("POST", "/api/provider/services", Some(&anna), Some(service(name))).await.ok();
    }
    let full = app.request("POST", "/api/provider/services", Some(&anna), Some(service("Colour"))).await;
    full.problem(409);
    assert_eq!(full.body["type"], "/problems/too-many-services");

    // A retired service still counts: its bookings keep naming it.
    let path = format!("/api/provider/services/{first}");
    assert!(app.request("DELETE", &path, Some(&anna), None).await.status < 300);
    let still_full = app.request("POST", "/api/provider/services", Some(&anna), Some(service("Colour"))).await;
    still_full.problem(409);
    let listed = app.get("/api/provider/services", Some(&anna)).await;
    assert_eq!(listed.ok().as_array().expect("a list").len(), 3, "nothing stored");
    let document = app.get("/api/openapi.json", None).await;
    assert!(document.ok()["paths"]["/api/provider/services"]["post"]["responses"].get("409").is_some());
}

async fn support_refuses_overlong_messages_and_stops_for_the_day_at_its_cap(backend: Backend) {
    const OPERATORS: i64 = -1001234567890;
    let fake = FakeTelegram::start().await;
    let overrides = [
        ("TELEGRAM_API_URL", fake.url.as_str()),
        ("SUPPORT_CHAT_ID", "-1001234567890"),
        ("RATE_SUPPORT_PER_MIN", "0"),
        ("SUPPORT_MESSAGES_PER_DAY", "3"),
    ];
    let app = spawn_app_with(backend, &overrides).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let overlong = "a".repeat(4097);
    for text in ["/support", overlong.as_str(), "one", "two", "three", "four"] {
        fake.push_update("message", message_from(2, text));
    }
    // Replies to Carol: "write your message", "too long", "a lot today".
    let replies = fake.wait_for_messages(2, 3, WAIT).await;
    let said = |index: usize| replies[index].body["text"].as_str().unwrap_or_default().to_owned();
    assert!(said(1).contains("too long"), "{}", said(1));
    assert!(said(2).contains("a lot of messages today"), "{}", said(2));
    let copies = fake.wait_for_messages(OPERATORS, 3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let copied: Vec<String> =
        fake.messages_to(OPERATORS).iter().map(|c| c.body["text"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(copied.len(), 3, "{copies:?}");
    assert!(!copied.iter().any(|text| text.contains("four") || text.contains(&overlong)), "{copied:?}");
    let export = app.get("/api/me/export", Some(&carol)).await;
    let kept: Vec<&str> = export.ok()["support_messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(kept, ["one", "two", "three"], "nothing stored past the limits");
}
