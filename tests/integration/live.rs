//! Live availability over real WebSockets: snapshots and pushes, the
//! provider's feed, privacy of watchers, bad frames, heartbeat, slow readers,
//! a thousand watchers.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::{Api, Backend, DAY, every_day, on_both_backends, slot, spawn_app, spawn_app_with};

on_both_backends!(
    a_watcher_sees_slots_vanish_and_come_back,
    the_provider_feed_carries_bookings_and_watchers_get_no_personal_data,
    bad_frames_get_error_messages,
    silent_sessions_are_dropped,
    a_slow_reader_is_disconnected_and_memory_stays_bounded,
    a_thousand_watchers_all_get_the_update,
    fragmented_messages_are_reassembled_and_bounded,
    a_new_watcher_gets_the_slots_as_they_are_after_every_change,
);

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn open(api: &Api) -> Socket {
    let url = format!("{}/ws", api.address.replacen("http://", "ws://", 1));
    connect_async(url).await.expect("websocket handshake").0
}

pub async fn send(socket: &mut Socket, frame: Value) {
    socket.send(Message::text(frame.to_string())).await.expect("send frame");
}

/// The next JSON text frame, skipping pings; `None` after `within`.
pub async fn next_json(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next()).await.ok()??;
        match frame {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

pub fn watch(slug: &str, service: &str, from: &str, to: &str) -> Value {
    json!({ "type": "watch", "provider": slug, "service": service, "from": from, "to": to })
}

pub fn starts(frame: &Value) -> Vec<String> {
    frame["slots"].as_array().expect("slots").iter().map(|s| s["start"].as_str().unwrap().to_owned()).collect()
}

const WAIT: Duration = Duration::from_secs(10);

async fn a_watcher_sees_slots_vanish_and_come_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut watcher = open(&app).await;
    send(&mut watcher, watch("anna", &service, DAY, DAY)).await;
    let snapshot = next_json(&mut watcher, WAIT).await.expect("a snapshot at once");
    assert_eq!(snapshot["type"], "slots");
    assert_eq!(snapshot["provider"], "anna");
    assert_eq!(starts(&snapshot), ["09:00", "10:00", "11:00", "12:00"].map(slot));

    let client = app.dev_sign_in(2, "Carol").await;
    let booked = app.book(&client, "anna", &service, &slot("10:00")).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();
    let after_booking = next_json(&mut watcher, WAIT).await.expect("a push after the booking");
    assert_eq!(starts(&after_booking), ["09:00", "11:00", "12:00"].map(slot));

    app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&client), None).await.ok();
    let after_cancel = next_json(&mut watcher, WAIT).await.expect("a push after the cancel");
    assert_eq!(starts(&after_cancel).len(), 4);

    // A change outside the watched dates sends nothing.
    app.book(&client, "anna", &service, "2027-06-03T10:00:00+02:00").await.ok();
    assert!(next_json(&mut watcher, Duration::from_millis(500)).await.is_none());
    // Unwatching stops the pushes.
    send(&mut watcher, json!({ "type": "unwatch", "provider": "anna", "service": service, "from": DAY, "to": DAY }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.book(&client, "anna", &service, &slot("12:00")).await.ok();
    assert!(next_json(&mut watcher, Duration::from_millis(500)).await.is_none());
}

async fn the_provider_feed_carries_bookings_and_watchers_get_no_personal_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let (bob, _) = app.provider(2, "bob", json!({}), every_day("09:00", "13:00")).await;
    let mut anna_feed = open(&app).await;
    send(&mut anna_feed, json!({ "type": "auth", "token": anna })).await;
    let authed = next_json(&mut anna_feed, WAIT).await.unwrap();
    assert_eq!((authed["type"].as_str(), authed["provider"].as_str()), (Some("authenticated"), Some("anna")));
    let mut bob_feed = open(&app).await;
    send(&mut bob_feed, json!({ "type": "auth", "token": bob })).await;
    next_json(&mut bob_feed, WAIT).await.unwrap();
    let mut stranger = open(&app).await;
    send(&mut stranger, watch("anna", &service, DAY, DAY)).await;
    next_json(&mut stranger, WAIT).await.unwrap();

    let carol = app.dev_sign_in(3, "Carol Secret").await;
    let booked = app.book(&carol, "anna", &service, &slot("10:00")).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();
    let pushed = next_json(&mut anna_feed, WAIT).await.expect("the provider hears of the booking");
    assert_eq!(pushed["type"], "booking");
    assert_eq!(pushed["event"], "created");
    assert_eq!(pushed["booking"]["id"], id.as_str());
    assert_eq!(pushed["booking"]["client"]["name"], "Carol Secret");
    app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(&carol), None).await.ok();
    let cancelled = next_json(&mut anna_feed, WAIT).await.unwrap();
    assert_eq!(cancelled["event"], "cancelled");

    // Bob hears nothing of Anna's bookings; the stranger only sees slots.
    assert!(next_json(&mut bob_feed, Duration::from_millis(500)).await.is_none());
    for _ in 0..2 {
        let frame = next_json(&mut stranger, WAIT).await.expect("slot updates");
        assert_eq!(frame["type"], "slots");
        assert!(!frame.to_string().contains("Carol"), "{frame}");
    }
    assert!(next_json(&mut stranger, Duration::from_millis(300)).await.is_none());

    let mut forged = open(&app).await;
    send(&mut forged, json!({ "type": "auth", "token": "forged" })).await;
    assert_eq!(next_json(&mut forged, WAIT).await.unwrap()["status"], 401);
}

async fn bad_frames_get_error_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut socket = open(&app).await;
    for (frame, status) in [
        (json!("not an object"), 400),
        (json!({ "type": "dance" }), 400),
        (watch("nobody", &service, DAY, DAY), 404),
        (watch("anna", &service, "2027-06-10", DAY), 422),
        (watch("anna", &service, DAY, "2027-09-01"), 422),
        (watch("anna", "not-a-uuid", DAY, DAY), 400),
        (watch("anna", "00000000-0000-0000-0000-000000000000", DAY, DAY), 404),
        (json!({ "type": "unwatch", "provider": "anna", "service": service, "from": DAY, "to": DAY }), 404),
    ] {
        send(&mut socket, frame.clone()).await;
        let reply = next_json(&mut socket, WAIT).await.expect("an error frame");
        assert_eq!((reply["type"].as_str(), reply["status"].as_u64()), (Some("error"), Some(status)), "{frame}");
    }
    socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next_json(&mut socket, WAIT).await.unwrap()["status"], 400);

    // Watches per connection are limited.
    for day in 1..=16 {
        send(&mut socket, watch("anna", &service, &format!("2027-07-{day:02}"), &format!("2027-07-{day:02}"))).await;
        assert_eq!(next_json(&mut socket, WAIT).await.unwrap()["type"], "slots");
    }
    send(&mut socket, watch("anna", &service, "2027-08-01", "2027-08-01")).await;
    assert_eq!(next_json(&mut socket, WAIT).await.unwrap()["status"], 422);

    // An oversized frame: an error, then the connection is closed.
    socket.send(Message::text("x".repeat(64 * 1024))).await.unwrap();
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, socket.next()).await {
        match frame {
            Ok(Message::Close(_)) | Err(_) => {
                closed = true;
                break;
            }
            _ => continue,
        }
    }
    assert!(closed || socket.next().await.is_none(), "an oversized frame ends the session");
    // The server is fine.
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

async fn silent_sessions_are_dropped(backend: Backend) {
    let app = spawn_app_with(backend, &[("WS_HEARTBEAT_SECS", "1"), ("WS_TIMEOUT_SECS", "2")]).await;
    let mut silent = open(&app).await;
    // Not reading means not answering pings: after the timeout the server hangs up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), silent.next()).await {
        if matches!(frame, Ok(Message::Close(_)) | Err(_)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "a silent session is closed");
    // An attentive one stays (tungstenite answers pings while we read).
    let mut attentive = open(&app).await;
    assert!(next_json(&mut attentive, Duration::from_secs(4)).await.is_none());
    attentive.send(Message::text(json!({ "type": "dance" }).to_string())).await.expect("still open");
}

async fn a_slow_reader_is_disconnected_and_memory_stays_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let profile = json!({ "slot_step_min": 5 });
    let (provider, _) = app.provider(1, "anna", profile, every_day("00:00", "24:00")).await;
    let quick = app
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Q", "duration_min": 5 })))
        .await;
    let service = quick.ok()["id"].as_str().unwrap().to_owned();
    // A month of 5-minute slots: every push is ~0.6 MB. This client never reads.
    let mut slow = open(&app).await;
    send(&mut slow, watch("anna", &service, "2027-06-01", "2027-06-30")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    let mut kicked = false;
    for minute in 0..300 {
        let start = format!("2027-06-{:02}T{:02}:{:02}:00+02:00", 1 + minute / 288, minute % 288 / 12, minute % 12 * 5);
        app.book(&client, "anna", &service, &start).await;
        let stats = app.hub.send(justbookme::live::hub::Stats).await.unwrap();
        if stats.sessions == 0 {
            kicked = true;
            break;
        }
    }
    assert!(kicked, "the hub dropped the session that stopped reading");
    drop(slow);
}

async fn a_thousand_watchers_all_get_the_update(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut sockets = Vec::new();
    for chunk in 0..10 {
        let opened = futures_util::future::join_all((0..100).map(|_| open(&app))).await;
        sockets.extend(opened);
        let _ = chunk;
    }
    let frame = watch("anna", &service, DAY, DAY);
    futures_util::future::join_all(sockets.iter_mut().map(|s| send(s, frame.clone()))).await;
    let snapshots = futures_util::future::join_all(sockets.iter_mut().map(|s| next_json(s, WAIT))).await;
    // Anything but the four-slot snapshot is named, not left to a panic in `starts`.
    let odd = snapshots.iter().find(|f| !f.as_ref().is_some_and(|f| f["type"] == "slots" && starts(f).len() == 4));
    assert!(odd.is_none(), "a watcher's first frame: {odd:?}");

    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    let updates =
        futures_util::future::join_all(sockets.iter_mut().map(|s| next_json(s, Duration::from_secs(30)))).await;
    let received = updates.iter().filter(|f| f.as_ref().is_some_and(|f| f["type"] == "slots" && starts(f).len() == 3));
    let odd = updates.iter().find(|f| !f.as_ref().is_some_and(|f| f["type"] == "slots" && starts(f).len() == 3));
    assert_eq!(received.count(), 1000, "every watcher got the update; one got {odd:?}");
}

/// RFC 6455 §5.4: a message may come in fragments (a text frame without FIN,
/// then continuation frames), with pings in between; the server reassembles
/// it — and a message grown past the frame limit is refused like one frame.
async fn fragmented_messages_are_reassembled_and_bounded(backend: Backend) {
    use tokio_tungstenite::tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut socket = open(&app).await;
    let text = watch("anna", &service, DAY, DAY).to_string();
    let (first, rest) = text.split_at(10);
    let (middle, last) = rest.split_at(10);
    let part = |data: &str, opcode: Data, fin: bool| {
        Message::Frame(Frame::message(data.to_owned(), OpCode::Data(opcode), fin))
    };
    socket.send(part(first, Data::Text, false)).await.unwrap();
    socket.send(Message::Ping(vec![1].into())).await.unwrap();
    socket.send(part(middle, Data::Continue, false)).await.unwrap();
    socket.send(part(last, Data::Continue, true)).await.unwrap();
    let reply = next_json(&mut socket, WAIT).await.expect("an answer to the whole message");
    assert_eq!(reply["type"], "slots", "{reply}");

    // Fragments adding up past the limit: refused, and the connection closed.
    let chunk = "x".repeat(1024);
    socket.send(part(&chunk, Data::Text, false)).await.unwrap();
    for _ in 0..8 {
        if socket.send(part(&chunk, Data::Continue, false)).await.is_err() {
            break;
        }
    }
    let mut refused = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, socket.next()).await {
        match frame {
            Message::Text(text) if text.contains("\"error\"") => refused = true,
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert!(refused, "an oversized fragmented message is refused");
}

/// New watchers of a watch others have are given its newest frame instead of
/// a computation of their own (src/live/hub.rs) — never one from before a
/// change the others have already been shown.
async fn a_new_watcher_gets_the_slots_as_they_are_after_every_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let key = watch("anna", &service, DAY, DAY);
    let mut first = open(&app).await;
    send(&mut first, key.clone()).await;
    let before = next_json(&mut first, WAIT).await.expect("a first frame");
    assert_eq!(starts(&before).len(), 4);
    let mut joined = Vec::new();
    for _ in 0..3 {
        let mut socket = open(&app).await;
        send(&mut socket, key.clone()).await;
        assert_eq!(starts(&next_json(&mut socket, WAIT).await.expect("a first frame")), starts(&before));
        joined.push(socket);
    }

    // A booking: once the first watcher has been shown it, a new one starts there.
    let carol = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&carol, "anna", &service, &slot("09:00")).await.status, 201);
    let after = next_json(&mut first, WAIT).await.expect("the update");
    assert!(!starts(&after).contains(&slot("09:00")), "{after}");
    let mut late = open(&app).await;
    send(&mut late, key.clone()).await;
    assert_eq!(starts(&next_json(&mut late, WAIT).await.expect("a first frame")), starts(&after));

    // New hours: the same.
    let hours = every_day("10:00", "12:00");
    assert_eq!(app.request("PUT", "/api/provider/schedule", Some(&anna), Some(hours)).await.status, 200);
    let narrowed = next_json(&mut first, WAIT).await.expect("the update");
    assert_eq!(starts(&narrowed), [slot("10:00"), slot("11:00")]);
    let mut later = open(&app).await;
    send(&mut later, key).await;
    assert_eq!(starts(&next_json(&mut later, WAIT).await.expect("a first frame")), starts(&narrowed));
    // The watchers from before got both changes too.
    for socket in &mut joined {
        assert_eq!(starts(&next_json(socket, WAIT).await.expect("the booking")), starts(&after));
        assert_eq!(starts(&next_json(socket, WAIT).await.expect("the hours")), starts(&narrowed));
    }
}
