//! A clean stop (DESIGN §8 "Consistency"): on SIGTERM the server tells every
//! WebSocket 1001 (going away), hands back the bot's polling lease and exits
//! within `SHUTDOWN_GRACE_SECS`; after a client's closing handshake it
//! closes the TCP connection first, at once (RFC 6455 §7.1.1).

use std::time::{Duration, Instant};

use actors::calendar::Fault;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

use crate::{
    fake_telegram::FakeTelegram,
    helpers::{
        BOT_TOKEN, Backend, DAY, RedisServer, ServerProcess, TestDatabase, every_day, redis_enabled, slot, spawn_app,
        spawn_app_with, spawn_stoppable_app,
    },
    live::{Socket, next_json, open, send, watch},
};

/// Bounds waits so a server that never stops fails the test instead of
/// hanging it; the figures printed are the measurement.
const BOUND: Duration = Duration::from_secs(20);

fn sigterm(server: &ServerProcess) {
    let status =
        std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -TERM failed");
}

/// Waits for the process to exit; its exit status and how long it took.
async fn exited(server: &mut ServerProcess, since: Instant) -> (std::process::ExitStatus, Duration) {
    loop {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            return (status, since.elapsed());
        }
        assert!(since.elapsed() < BOUND, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The close code of the next close frame on `socket` (skipping other frames).
async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await.ok()?? {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

#[actix_web::test]
async fn sigterm_tells_every_websocket_going_away_and_exits_within_the_grace_time() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let mut server = ServerProcess::start_with(
        &db.url,
        &[("SHUTDOWN_GRACE_SECS", "5"), ("RATE_WS_CONNECT_PER_MIN", "0"), ("RATE_BOOKING_PER_MIN", "0")],
    )
    .await;
    let api = server.api.clone();
    let (_, service) = api.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut sockets = Vec::new();
    for _ in 0..200 {
        let mut socket = open(&api).await;
        send(&mut socket, watch("anna", &service, DAY, DAY)).await;
        sockets.push(socket);
    }
    for socket in &mut sockets {
        assert_eq!(next_json(socket, BOUND).await.expect("a snapshot")["type"], "slots");
    }

    let signalled = Instant::now();
    sigterm(&server);
    let mut going_away = 0;
    for socket in &mut sockets {
        if close_code(socket).await == Some(CloseCode::Away) {
            going_away += 1;
        }
    }
    let all_told = signalled.elapsed();
    let (status, took) = exited(&mut server, signalled).await;
    assert_eq!(going_away, sockets.len(), "every session got 1001 (going away)");
    assert!(status.success(), "a clean exit: {status}");
    assert!(tokio::net::TcpStream::connect(api.address.trim_start_matches("http://")).await.is_err());
    eprintln!("SIGTERM with {} sessions: all told 1001 in {all_told:?}, exited in {took:?}", sockets.len());
}

#[actix_web::test]
async fn sigterm_hands_the_bot_polling_lease_back() {
    if !redis_enabled() {
        return;
    }
    let redis = RedisServer::start().await;
    let telegram = FakeTelegram::start().await;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let mut server = ServerProcess::start_with(
        &db.url,
        &[("REDIS_URL", &redis.url()), ("TELEGRAM_BOT_TOKEN", BOT_TOKEN), ("TELEGRAM_API_URL", &telegram.url)],
    )
    .await;
    let client = redis::Client::open(redis.url()).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("connect to the private Redis");
    let holder = async |conn: &mut redis::aio::MultiplexedConnection| -> Option<String> {
        redis::cmd("GET").arg("justbookme:bot:poller").query_async(conn).await.expect("GET")
    };
    let since = Instant::now();
    while holder(&mut conn).await.is_none() {
        assert!(since.elapsed() < BOUND, "the node never took the polling lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signalled = Instant::now();
    sigterm(&server);
    let (status, took) = exited(&mut server, signalled).await;
    assert!(status.success(), "a clean exit: {status}");
    assert_eq!(holder(&mut conn).await, None, "the lease was handed back, not left to expire");
    eprintln!("SIGTERM with the bot polling: exited in {took:?}, lease released");
}

/// One WebSocket frame from the client: masked, as RFC 6455 requires.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode, 0x80 | u8::try_from(payload.len()).expect("a short payload")];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[actix_web::test]
async fn after_the_closing_handshake_the_server_closes_the_connection_first() {
    let app = spawn_app(Backend::Sqlite).await;
    // Raw TCP, so the test sees exactly what the server does with it.
    let mut tcp = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect");
    let handshake = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    tcp.write_all(handshake.as_bytes()).await.expect("send the handshake");
    let mut buffer = vec![0u8; 4096];
    let n = tcp.read(&mut buffer).await.expect("read the answer");
    let answer = String::from_utf8_lossy(&buffer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");

    // Close with 1000 (normal); the server answers with its close frame…
    tcp.write_all(&masked_frame(0x8, &1000u16.to_be_bytes())).await.expect("send close");
    let sent = Instant::now();
    let n = tokio::time::timeout(BOUND, tcp.read(&mut buffer)).await.expect("a close frame").expect("read");
    assert!(n >= 2 && buffer[0] == 0x88, "a close frame: {:?}", &buffer[..n]);
    // …and then closes the TCP connection itself, without waiting for us.
    let eof = tokio::time::timeout(BOUND, tcp.read(&mut buffer)).await.expect("the server closes the connection");
    assert_eq!(eof.expect("read"), 0, "end of stream from the server");
    eprintln!("closing handshake → server closed TCP in {:?}", sent.elapsed());
}

#[actix_web::test]
async fn a_request_in_flight_when_the_stop_comes_still_gets_its_answer() {
    let (app, stop, running) = spawn_stoppable_app(Backend::Sqlite, &[("SHUTDOWN_GRACE_SECS", "5")]).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    // The next booking holds the calendar for a moment: it is in flight when
    // the stop arrives.
    app.calendars.inject_fault(app.provider_id(&anna).await, Fault::DelayNextBook(Duration::from_secs(4))).await;
    let api = app.api.clone();
    let (slot_start, service_id) = (slot("10:00"), service.clone());
    let booking = actix_web::rt::spawn(async move { api.book(&carol, "anna", &service_id, &slot_start).await });
    // In flight once the calendar is held: a slots request then waits (a
    // second's patience, so a merely slow answer is not taken for that).
    let slots = format!("{}/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}", app.address);
    let since = Instant::now();
    while app.client.get(&slots).timeout(Duration::from_secs(1)).send().await.is_ok() {
        assert!(since.elapsed() < BOUND, "the booking never reached the calendar");
    }
    let _ = stop.send(());
    let booked = booking.await.expect("the request task");
    assert_eq!(booked.status, 201, "finished, not cut: {}", booked.body);
    tokio::time::timeout(BOUND, running).await.expect("the server stopped").expect("task").expect("clean stop");
    // And the booking it acknowledged is really there.
    let again = spawn_app_with(Backend::Sqlite, &[("DATABASE_URL", &app.database_url())]).await;
    let mine = again.get("/api/provider/bookings?from=2027-06-01&to=2027-06-02", Some(&anna)).await;
    assert_eq!(mine.ok().as_array().map(Vec::len), Some(1));
}
