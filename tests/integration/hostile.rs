//! Issue 16: what a hostile stranger tried at the transport and the parsers,
//! each a test that failed before its fix. Raw TCP where a well-behaved HTTP
//! client could not send the request (invented methods, trickled bodies).

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    BOT_TOKEN, Backend, Reply, TestApp, every_day, now_unix, read, sign_init_data, spawn_app, spawn_app_with,
};

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Sends `request` on a fresh connection and reads until the server closes it.
async fn raw_exchange(app: &TestApp, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(host_port(app)).await.expect("connect");
    // The server may answer and close before reading all of it.
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn metrics_text(app: &TestApp) -> String {
    app.client.get(format!("{}/metrics", app.address)).send().await.expect("metrics").text().await.expect("text")
}

/// Finding 1: every invented method name used to become a new, never
/// removed label value (a counter and a histogram each), so anonymous
/// requests grew memory and every scrape without bound.
#[actix_web::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let app = spawn_app(Backend::Sqlite).await;
    // One request of each kind first, so its series exist before we measure.
    raw_exchange(&app, "MWARMUP /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    let before = metrics_text(&app).await;
    let methods: Vec<String> =
        (0..50).map(|_| format!("M{}", uuid::Uuid::new_v4().simple().to_string().repeat(6).to_uppercase())).collect();
    for method in &methods {
        let answer =
            raw_exchange(&app, &format!("{method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
        assert!(answer.starts_with("HTTP/1.1 4"), "an invented method is refused: {answer}");
    }
    let after = metrics_text(&app).await;
    for method in &methods {
        assert!(!after.contains(method.as_str()), "{method} became a label");
    }
    assert!(after.contains(r#"method="OTHER""#), "invented methods are counted as OTHER");
    // Each invented method used to add ~30 lines of ~250 bytes; 50 of them
    // would add far more than this (other tests' new series stay far below).
    assert!(after.len() < before.len() + 32 * 1024, "/metrics grew from {} to {} bytes", before.len(), after.len());
}

/// Finding 2: a client that sends its headers and then one body byte now
/// and then is cut off after `BODY_TIMEOUT_SECS` with 408, and the
/// connection is closed (it used to hold a connection until the 10 s request
/// deadline, and then get 503, which invites a retry). Both ways of sending
/// a body: a `Content-Length`, and chunks (which actix would otherwise keep
/// reading after the answer, to reuse the connection).
#[actix_web::test]
async fn a_body_trickled_byte_by_byte_is_cut_off_with_408() {
    let app = spawn_app_with(Backend::Sqlite, &[("BODY_TIMEOUT_SECS", "2")]).await;
    let head = "POST /api/auth/dev HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    trickle(&app, &format!("{head}Content-Length: 100\r\n\r\n"), b" ", "408").await;
    trickle(&app, &format!("{head}Transfer-Encoding: chunked\r\n\r\n"), b"1\r\n \r\n", "408").await;
    // A route that answers without reading the body (here: a method it
    // does not serve, 405): closed at once too.
    let head = "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    trickle(&app, head, b"1\r\n \r\n", "405").await;
}

/// Sends `head`, then `piece` every 500 ms; the server must answer `status`
/// and close within the 2 s timeout (plus slack).
async fn trickle(app: &TestApp, head: &str, piece: &'static [u8], status: &str) {
    let tcp = tokio::net::TcpStream::connect(host_port(app)).await.expect("connect");
    let (mut reader, mut writer) = tcp.into_split();
    writer.write_all(head.as_bytes()).await.expect("send the head");
    let started = Instant::now();
    let trickle = actix_web::rt::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(piece).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    let took = started.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed.is_ok(), "{head}: the server closes the connection; got so far: {answer}");
    assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    assert!(took < Duration::from_millis(3500), "{head}: closed after {took:?}, the timeout is 2 s");
}

/// Finding 4: `{…}{…} garbage` was read as its first object.
#[actix_web::test]
async fn json_with_trailing_data_is_refused_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let (token, _) = app.provider(1, "anna", json!({}), every_day("09:00", "18:00")).await;
    let body = r#"{"slug":"anna","display_name":"Changed","timezone":"Europe/Berlin","slot_step_min":60,
        "min_notice_min":0,"horizon_days":366}{"slug":"zzz"} garbage"#;
    let reply = read(
        app.client
            .put(format!("{}/api/provider", app.address))
            .bearer_auth(&token)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("send"),
    )
    .await;
    reply.problem(400);
    let provider = app.get("/api/provider", Some(&token)).await;
    assert_eq!(provider.ok()["display_name"], "anna", "nothing changed");
    assert_eq!(provider.ok()["slug"], "anna");
}

async fn get_me(app: &TestApp, authorization: &str) -> Reply {
    let request = app.client.get(format!("{}/api/me", app.address)).header(AUTHORIZATION, authorization);
    read(request.send().await.expect("send")).await
}

/// Finding 7: RFC 9110 §11.1: the auth scheme is case-insensitive.
#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.dev_sign_in(5, "Eve").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        get_me(&app, &format!("{scheme} {token}")).await.ok();
    }
    get_me(&app, &format!("Basic {token}")).await.problem(401);
    get_me(&app, &format!("Bearer{token}")).await.problem(401);
}

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: String) -> Reply {
    let request = app.client.post(format!("{}{path}", app.address)).header(CONTENT_TYPE, content_type).body(body);
    read(request.send().await.expect("send")).await
}

/// Finding 7: an oversized body is 413 (Payload Too Large), not 400 —
/// whether its Content-Length says so up front or not.
#[actix_web::test]
async fn an_oversized_body_gets_413() {
    let app = spawn_app(Backend::Sqlite).await;
    for size in [70 * 1024, 300 * 1024] {
        let body = json!({ "telegram_id": 5, "first_name": "x".repeat(size) }).to_string();
        post_raw(&app, "/api/auth/dev", "application/json", body).await.problem(413);
    }
    // Chunked (no Content-Length): found while reading.
    let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
    let head = "POST /api/auth/dev HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let answer = raw_exchange(&app, &format!("{head}{}0\r\n\r\n", chunk.repeat(80))).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

/// Finding 7: only `application/json` (with parameters) is JSON;
/// `application/evil+json` is some other format.
#[actix_web::test]
async fn only_application_json_is_read_as_json() {
    let app = spawn_app(Backend::Sqlite).await;
    let body = || json!({ "telegram_id": 5, "first_name": "Eve" }).to_string();
    post_raw(&app, "/api/auth/dev", "application/evil+json", body()).await.problem(415);
    post_raw(&app, "/api/auth/dev", "application/problem+json", body()).await.problem(415);
    post_raw(&app, "/api/auth/dev", "application/json; charset=utf-8", body()).await.ok();
    post_raw(&app, "/api/auth/dev", "Application/JSON", body()).await.ok();
}

/// Finding 7: jiff reads offsets up to ±25:59; RFC 3339's hours stop at 23.
/// `+25:00` here names a bookable instant, so only the parser can refuse it.
#[actix_web::test]
async fn an_offset_beyond_rfc_3339_is_refused_naming_start() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "18:00")).await;
    let client = app.dev_sign_in(2, "Cleo").await;
    // 2027-06-02T11:00+25:00 = 2027-06-01T10:00Z = 12:00 in Berlin, open.
    let reply = app.book(&client, "anna", &service, "2027-06-02T11:00:00+25:00").await;
    assert_eq!(reply.problem(422).as_deref(), Some("start"));
    assert_eq!(reply.body["type"], "/problems/validation", "{}", reply.body);
    app.book(&client, "anna", &service, "2027-06-01T10:00:00Z").await.ok();
}

/// Finding 7: a validly signed initData is still refused when its user
/// cannot be a Telegram user: an id ≤ 0, control characters in a name.
#[actix_web::test]
async fn signed_init_data_with_an_impossible_user_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let sign_in = |user: serde_json::Value| {
        let init_data = sign_init_data(BOT_TOKEN, &[("user", user.to_string()), ("auth_date", now_unix().to_string())]);
        let app = &app;
        async move { app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": init_data }))).await }
    };
    sign_in(json!({ "id": 42, "first_name": "Eve" })).await.ok();
    for user in [
        json!({ "id": -5, "first_name": "Eve" }),
        json!({ "id": 0, "first_name": "Eve" }),
        json!({ "id": 43, "first_name": "E\u{0}ve" }),
        json!({ "id": 44, "first_name": "Eve\u{7}" }),
        json!({ "id": 45, "first_name": "Eve", "last_name": "Line\nbreak" }),
        json!({ "id": 46, "first_name": "Eve", "username": "e\u{1b}ve" }),
    ] {
        sign_in(user).await.problem(401);
    }
}

/// Finding 7: a query string past actix's request-head limit is refused by
/// actix's HTTP/1 parser before any of our code runs, so its answer has no
/// problem+json body (documented in the README's "Hostile input"); this
/// pins that it is refused and the server stays up.
#[actix_web::test]
async fn an_oversized_query_is_refused_before_our_code() {
    let app = spawn_app(Backend::Sqlite).await;
    let answer =
        raw_exchange(&app, &format!("GET /healthz?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70 * 1024))).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    app.get("/healthz", None).await.ok();
}
