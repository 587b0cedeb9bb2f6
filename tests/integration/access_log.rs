//! The access log (privacy policy §2, technical data), the sign-in failure
//! limit (§3) and the retention purge (§2, §7), spoken to as a client would.

use std::time::Duration;

use jiff::{Timestamp, ToSpan};
use justbookme::store::{self, AccessEntry, AccessRecord, NewSession, TelegramProfile};
use serde_json::{Value, json};

use crate::helpers::{
    BOT_TOKEN, Backend, TestApp, TestDatabase, now_unix, on_both_backends, read, sign_init_data, spawn_app_with,
    spawn_stoppable_app,
};

on_both_backends!(
    requests_of_a_signed_in_user_are_logged_by_route_template,
    forwarded_for_is_believed_only_from_trusted_proxies,
    failed_sign_ins_are_logged_and_one_address_failing_too_often_gets_429,
    a_deleted_account_leaves_no_access_log,
);

const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/124.0.0.0 Mobile Safari/537.36 Telegram-Android/11.0.0";

/// A request with a User-Agent and, optionally, an `X-Forwarded-For`.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    forwarded_for: Option<&str>,
    body: Option<Value>,
) -> crate::helpers::Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app.client.request(method, format!("{}{}", app.address, path)).header("user-agent", ANDROID);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.expect("the server answers")).await
}

async fn dev_sign_in(app: &TestApp, telegram_id: i64, forwarded_for: Option<&str>) -> String {
    let body = json!({ "telegram_id": telegram_id, "first_name": "Anna" });
    let reply = send(app, "POST", "/api/auth/dev", None, forwarded_for, Some(body)).await;
    reply.ok()["token"].as_str().expect("token").to_owned()
}

/// My access log once it holds a line for `route` (lines are written in
/// batches, up to a second after the request).
async fn log_with(app: &TestApp, token: &str, route: &str) -> Vec<Value> {
    for _ in 0..100 {
        let reply = app.get("/api/me/access-log", Some(token)).await;
        let lines = reply.ok().as_array().expect("an array").clone();
        if lines.iter().any(|line| line["route"] == route) {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no access-log line for {route} within 10 s");
}

async fn requests_of_a_signed_in_user_are_logged_by_route_template(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let anna = dev_sign_in(&app, 1, None).await;
    let bob = dev_sign_in(&app, 2, None).await;
    let client_id = uuid::Uuid::now_v7();
    let path = format!("/api/provider/clients/{client_id}");
    send(&app, "GET", &path, Some(&anna), None, None).await.problem(404);
    // Not signed in: not logged (nobody's data).
    send(&app, "GET", "/api/providers/nobody", None, None, None).await.problem(404);

    let lines = log_with(&app, &anna, "/api/provider/clients/{id}").await;
    let text = serde_json::to_string(&lines).expect("json");
    assert!(!text.contains(&client_id.to_string()), "the route template, never the path: {text}");
    assert!(!text.contains("Pixel") && !text.contains("Mozilla"), "no raw User-Agent is kept: {text}");
    let line = lines.iter().find(|line| line["route"] == "/api/provider/clients/{id}").expect("the request");
    assert_eq!(
        (&line["method"], &line["status"], &line["ip"], &line["device"], &line["browser"], &line["os"]),
        (&json!("GET"), &json!(404), &json!("127.0.0.1"), &json!("smartphone"), &json!("Chrome"), &json!("Android 14")),
    );
    assert!(line["at"].as_str().expect("at").parse::<Timestamp>().is_ok(), "{line}");
    let sign_in = lines.iter().find(|line| line["route"] == "/api/auth/dev").expect("the sign-in is logged too");
    assert_eq!((&sign_in["method"], &sign_in["status"]), (&json!("POST"), &json!(200)));
    assert!(lines.iter().all(|line| line["route"] != "/api/providers/{slug}"), "{text}");
    let times: Vec<&str> = lines.iter().map(|line| line["at"].as_str().expect("at")).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "newest first: {times:?}");

    // Mine only.
    let bobs = log_with(&app, &bob, "/api/me/access-log").await;
    assert!(bobs.iter().all(|line| line["route"] != "/api/provider/clients/{id}"), "{bobs:?}");

    // Bounded, and the bound is checked.
    assert_eq!(app.get("/api/me/access-log?limit=1", Some(&anna)).await.ok().as_array().map(Vec::len), Some(1));
    for bad in ["0", "1001", "many"] {
        let reply = app.get(&format!("/api/me/access-log?limit={bad}"), Some(&anna)).await;
        assert_eq!(reply.problem(422).as_deref(), Some("limit"), "{bad}");
    }
    app.get("/api/me/access-log", None).await.problem(401);

    // In the export too.
    let export = app.get("/api/me/export", Some(&anna)).await;
    let exported = export.ok()["access_log"].as_array().expect("access_log in the export").clone();
    assert!(exported.iter().any(|line| line["route"] == "/api/provider/clients/{id}"), "{exported:?}");

    // The Mini App's privacy screen asks for it ("Where you signed in").
    let script = app.client.get(format!("{}/assets/account.js", app.address)).send().await.expect("account.js");
    let script = script.text().await.expect("text");
    assert!(script.contains("/api/me/access-log") && script.contains("signed_in_where"), "account.js shows the log");
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(backend: Backend) {
    let spoofed = "6.6.6.6, 198.51.100.7";
    let direct = spawn_app_with(backend, &[]).await;
    let token = dev_sign_in(&direct, 1, Some(spoofed)).await;
    let lines = log_with(&direct, &token, "/api/auth/dev").await;
    assert!(lines.iter().all(|line| line["ip"] == "127.0.0.1"), "no TRUSTED_PROXIES: the peer: {lines:?}");

    let proxied = spawn_app_with(backend, &[("TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let token = dev_sign_in(&proxied, 1, Some(spoofed)).await;
    let lines = log_with(&proxied, &token, "/api/auth/dev").await;
    let sign_in = lines.iter().find(|line| line["route"] == "/api/auth/dev").expect("sign-in");
    assert_eq!(sign_in["ip"], "198.51.100.7", "the rightmost untrusted entry, never the client's own claim");
}

fn init_data(token: &str, telegram_id: i64) -> String {
    let user = json!({ "id": telegram_id, "first_name": "Anna" }).to_string();
    sign_init_data(token, &[("user", user), ("auth_date", now_unix().to_string())])
}

async fn failed_sign_ins_are_logged_and_one_address_failing_too_often_gets_429(backend: Backend) {
    let app =
        spawn_app_with(backend, &[("TRUSTED_PROXIES", "127.0.0.1"), ("RATE_SIGN_IN_FAILURES_PER_MIN", "3")]).await;
    let sign_in = |data: String, from: &'static str| {
        let app = &app;
        async move { send(app, "POST", "/api/auth/telegram", None, Some(from), Some(json!({ "init_data": data }))).await }
    };
    let forged = || init_data("7000000001:not-our-bot-token", 5);
    for _ in 0..3 {
        sign_in(forged(), "203.0.113.5").await.problem(401);
    }
    let refused = sign_in(forged(), "203.0.113.5").await;
    refused.problem(429);
    // Another address signs in as usual.
    sign_in(init_data(BOT_TOKEN, 6), "203.0.113.6").await.ok();
    // Only failures count: a valid signature from the same address still works.
    sign_in(init_data(BOT_TOKEN, 7), "203.0.113.5").await.ok();

    // Every attempt is logged with its address, the failed ones with no user.
    let db_url = app.database_url();
    let failed = "route = '/api/auth/telegram' AND user_id IS NULL AND ip = '203.0.113.5'";
    for _ in 0..100 {
        if count(backend, &db_url, failed).await == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(backend, &db_url, &format!("{failed} AND status = 401")).await, 3);
    assert_eq!(count(backend, &db_url, &format!("{failed} AND status = 429")).await, 1);
}

/// Access-log lines matching `condition`, read straight from the database.
async fn count(backend: Backend, url: &str, condition: &str) -> i64 {
    crate::helpers::sql_column(backend, url, format!("SELECT COUNT(*) FROM access_log WHERE {condition}")).await[0]
}

async fn a_deleted_account_leaves_no_access_log(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let token = dev_sign_in(&app, 1, None).await;
    log_with(&app, &token, "/api/auth/dev").await;
    app.request("DELETE", "/api/me", Some(&token), None).await;
    // Past the writer's batch wait: whatever was queued has been written.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(count(backend, &app.database_url(), "user_id IS NOT NULL").await, 0, "the account's lines went with it");
}

#[actix_web::test]
async fn the_switch_for_benchmarks_turns_the_log_off() {
    let app = spawn_app_with(Backend::Sqlite, &[("ACCESS_LOG", "off")]).await;
    let token = dev_sign_in(&app, 1, None).await;
    app.get("/api/me", Some(&token)).await.ok();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(app.get("/api/me/access-log", Some(&token)).await.ok(), &json!([]));
}

/// A node stopping writes what it still holds, without waiting out the batch.
#[actix_web::test]
async fn lines_still_queued_at_shutdown_are_written() {
    let (app, stop, running) = spawn_stoppable_app(Backend::Sqlite, &[]).await;
    let token = dev_sign_in(&app, 1, None).await;
    app.get("/api/me", Some(&token)).await.ok();
    let _ = stop.send(());
    running.await.expect("joined").expect("stopped cleanly");
    assert!(count(Backend::Sqlite, &app.database_url(), "route = '/api/me'").await >= 1);
}

/// `justbookme purge` applies the retention rules now and prints the counts.
#[actix_web::test]
async fn the_purge_command_removes_what_is_past_retention() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let store = store::connect(&db.url).await.expect("store");
    let now = Timestamp::now();
    let profile = TelegramProfile {
        telegram_id: 1,
        first_name: "Anna".into(),
        last_name: None,
        username: None,
        language_code: None,
        photo_url: None,
    };
    let user = store.upsert_telegram_user(&profile, now).await.expect("user");
    let line = |days_ago: i64| AccessRecord {
        user_id: Some(user.id),
        entry: AccessEntry {
            at: now.checked_sub((days_ago * 24).hours()).expect("time"),
            ip: "127.0.0.1".into(),
            device: "desktop".into(),
            browser: "Firefox".into(),
            os: "Linux".into(),
            method: "GET".into(),
            route: "/api/me".into(),
            status: 200,
        },
    };
    store.record_access(&[line(40), line(8), line(1)]).await.expect("lines");
    let session = |token: u8, expires_at| NewSession {
        token_hash: vec![token; 32],
        user_id: user.id,
        created_at: now,
        expires_at,
    };
    store.create_session(&session(1, now.checked_sub(1.hour()).expect("past"))).await.expect("expired");
    store.create_session(&session(2, now.checked_add(1.hour()).expect("future"))).await.expect("valid");
    // A support conversation quiet for 40 days goes; one from yesterday stays.
    let ago = |days: i64| now.checked_sub((days * 24).hours()).expect("time");
    let old = store.open_support(user.id, ago(40)).await.expect("conversation");
    let message = justbookme::store::NewSupportMessage {
        conversation_id: old,
        user_id: user.id,
        direction: justbookme::store::SupportDirection::In,
        text: "hello".into(),
        at: ago(40),
    };
    store.add_support_message(&message).await.expect("message");
    store.finish_support(user.id, ago(40)).await.expect("finished");
    store.open_support(user.id, ago(1)).await.expect("a recent conversation");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_justbookme"))
        .arg("purge")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("ACCESS_LOG_RETENTION_DAYS", "7")
        .env("RUST_LOG", "warn")
        .output()
        .expect("justbookme purge");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed} {}", String::from_utf8_lossy(&output.stderr));
    for expected in ["access_log: 2", "sessions: 1", "outbox: 0", "support_conversations: 1"] {
        assert!(printed.lines().any(|line| line == expected), "{expected:?} in {printed:?}");
    }
    let kept = store.access_log(user.id, 10).await.expect("lines");
    assert_eq!(kept.len(), 1, "the day-old line stays: {kept:?}");
    assert!(store.open_support_conversation(user.id).await.expect("read").is_some(), "the recent conversation stays");
}

/// The Mini App's privacy screen lists where I signed in, from my access log.
#[actix_web::test]
async fn the_privacy_screen_shows_where_i_signed_in() {
    use crate::browser::{Launch, TelegramPhone, TgUser, Theme};
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(7101, "Anna"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    phone.wait_for("main[data-screen=\"home\"]").await;
    // The sign-in's line is written within a second.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    phone.click("#privacy").await;
    phone.wait_for("#access-log .access-entry").await;
    let row = phone.text("#access-log .access-entry").await;
    assert!(row.contains("127.0.0.1"), "address shown: {row:?}");
    assert!(row.contains("Computer") || row.contains("Linux"), "device or system shown: {row:?}");
    phone.screenshot("privacy-access-log").await;
    phone.check_screen().await;
    phone.close().await;
}
