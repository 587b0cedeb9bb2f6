//! Sign-in: Telegram initData (signed here independently of the server's
//! verifier), the dev login switch, and bearer sessions.

use serde_json::json;

use crate::helpers::{BOT_TOKEN, Backend, now_unix, on_both_backends, sign_init_data, spawn_app, spawn_app_with};

on_both_backends!(
    telegram_sign_in_creates_the_account_and_a_session,
    forged_stale_and_foreign_init_data_get_401,
    dev_login_exists_only_when_enabled,
    private_routes_need_a_valid_session,
    account_corrections_are_validated,
    a_name_corrected_in_the_app_stays_corrected_after_the_next_sign_in,
);

fn user_json(id: i64, first_name: &str) -> String {
    json!({ "id": id, "first_name": first_name, "last_name": "Ivanova", "username": "anna_i",
        "language_code": "ru", "photo_url": "https://t.me/i/userpic/320/a.svg", "allows_write_to_pm": true })
    .to_string()
}

fn init_data(token: &str, auth_date: i64, first_name: &str) -> String {
    sign_init_data(
        token,
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc".into()),
            ("user", user_json(777, first_name)),
            ("auth_date", auth_date.to_string()),
            ("start_param", "anna-nails".into()),
        ],
    )
}

async fn telegram_sign_in_creates_the_account_and_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = init_data(BOT_TOKEN, now_unix() - 60, "Анна + Co");
    let reply = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": data }))).await;
    let body = reply.ok();
    let token = body["token"].as_str().expect("token");
    assert_eq!(body["user"]["telegram_id"], 777);
    assert_eq!(body["user"]["first_name"], "Анна + Co");

    let me = app.get("/api/me", Some(token)).await;
    assert_eq!(me.ok()["username"], "anna_i");
    assert_eq!(me.body["language_code"], "ru");
    assert_eq!(me.body["last_name"], "Ivanova");
    assert_eq!(me.body["photo_url"], "https://t.me/i/userpic/320/a.svg");

    // Signing in again refreshes the account instead of creating another.
    let again = init_data(BOT_TOKEN, now_unix(), "Anna");
    let second = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": again }))).await;
    assert_eq!(second.ok()["user"]["id"], me.body["id"]);
    assert_eq!(app.get("/api/me", Some(token)).await.body["first_name"], "Anna");
}

async fn forged_stale_and_foreign_init_data_get_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let good = init_data(BOT_TOKEN, now_unix() - 60, "Anna");

    // One character changed anywhere in the signed part.
    let forged = good.replacen("Anna", "Anne", 1);
    assert_ne!(forged, good);
    let stale = init_data(BOT_TOKEN, now_unix() - 86_400 - 120, "Anna");
    let future = init_data(BOT_TOKEN, now_unix() + 3_600, "Anna");
    let foreign = init_data("7000000001:another-bot-token", now_unix(), "Anna");
    let duplicated = format!("{good}&auth_date=1");
    let unsigned = good.split("&hash=").next().expect("has a hash").to_owned();
    for (what, data) in [
        ("forged", forged),
        ("stale", stale),
        ("future", future),
        ("wrong token", foreign),
        ("duplicate key", duplicated),
        ("no hash", unsigned),
        ("garbage", "%%%".to_owned()),
    ] {
        let reply = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": data }))).await;
        reply.problem(401);
        assert_eq!(reply.body["type"], "/problems/unauthorized", "{what}");
    }
    let missing_field = app.request("POST", "/api/auth/telegram", None, Some(json!({}))).await;
    assert_eq!(missing_field.problem(422).as_deref(), Some("init_data"));

    // Nothing was created by any of the refused attempts.
    let token = app.dev_sign_in(1, "probe").await;
    assert_eq!(app.get("/api/me", Some(&token)).await.body["telegram_id"], 1);

    // A server without a bot token cannot verify anything.
    let no_bot = spawn_app_with(backend, &[("TELEGRAM_BOT_TOKEN", "")]).await;
    let data = init_data(BOT_TOKEN, now_unix(), "Anna");
    no_bot.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": data }))).await.problem(503);
}

async fn dev_login_exists_only_when_enabled(backend: Backend) {
    let off = spawn_app_with(backend, &[("DEV_LOGIN", "")]).await;
    let body = json!({ "telegram_id": 5, "first_name": "Dev" });
    off.request("POST", "/api/auth/dev", None, Some(body.clone())).await.problem(404);

    let on = spawn_app(backend).await;
    assert!(on.request("POST", "/api/auth/dev", None, Some(body)).await.ok()["token"].is_string());
    let bad = on.request("POST", "/api/auth/dev", None, Some(json!({ "telegram_id": -1, "first_name": "x" }))).await;
    assert_eq!(bad.problem(422).as_deref(), Some("telegram_id"));
    let bad = on.request("POST", "/api/auth/dev", None, Some(json!({ "telegram_id": 1, "first_name": " " }))).await;
    assert_eq!(bad.problem(422).as_deref(), Some("first_name"));
}

async fn private_routes_need_a_valid_session(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api/me", "/api/provider", "/api/provider/services", "/api/provider/schedule"] {
        let reply = app.get(path, None).await;
        reply.problem(401);
        let reply = app.get(path, Some("not-a-real-token")).await;
        reply.problem(401);
    }
    let response = app.client.get(format!("{}/api/me", app.address)).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

async fn account_corrections_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.dev_sign_in(9, "Anna").await;
    let reply = app
        .request(
            "PATCH",
            "/api/me",
            Some(&token),
            Some(json!({ "first_name": "Ann", "last_name": "Lee", "language_code": "de" })),
        )
        .await;
    assert_eq!(reply.ok()["first_name"], "Ann");
    assert_eq!(reply.body["last_name"], "Lee");
    let cleared = app.request("PATCH", "/api/me", Some(&token), Some(json!({ "last_name": null }))).await;
    assert_eq!(cleared.ok()["last_name"], serde_json::Value::Null);
    assert_eq!(cleared.body["first_name"], "Ann", "absent fields stay");

    for (body, field) in [
        (json!({ "first_name": "" }), "first_name"),
        (json!({ "first_name": 5 }), "first_name"),
        (json!({ "language_code": "not a language" }), "language_code"),
        (json!({ "telegram_id": 1 }), "telegram_id"),
        // Only IANA names: a place's clock, with its DST rules.
        (json!({ "first_name": "Zoe", "time_zone": "Mars/Olympus_Mons" }), "time_zone"),
        (json!({ "time_zone": "+02:00" }), "time_zone"),
        (json!({ "time_zone": "" }), "time_zone"),
        (json!({ "time_zone": 3 }), "time_zone"),
    ] {
        let reply = app.request("PATCH", "/api/me", Some(&token), Some(body)).await;
        assert_eq!(reply.problem(422).as_deref(), Some(field));
        assert_eq!(reply.content_type, "application/problem+json");
    }
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.ok()["first_name"], "Ann", "nothing changed");
    assert_eq!(me.body["time_zone"], serde_json::Value::Null, "nothing changed");

    // The Mini App reports the device's zone; the canonical spelling is kept.
    let zoned = app.request("PATCH", "/api/me", Some(&token), Some(json!({ "time_zone": "america/new_york" }))).await;
    assert_eq!(zoned.ok()["time_zone"], "America/New_York");
    assert_eq!(app.get("/api/me", Some(&token)).await.body["time_zone"], "America/New_York");
    let cleared = app.request("PATCH", "/api/me", Some(&token), Some(json!({ "time_zone": null }))).await;
    assert_eq!(cleared.ok()["time_zone"], serde_json::Value::Null);
}

async fn a_name_corrected_in_the_app_stays_corrected_after_the_next_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = init_data(BOT_TOKEN, now_unix() - 60, "Anya");
    let first = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": data }))).await;
    let token = first.ok()["token"].as_str().expect("token").to_owned();
    app.request("PATCH", "/api/me", Some(&token), Some(json!({ "first_name": "Anna" }))).await.ok();

    let again = init_data(BOT_TOKEN, now_unix(), "Anya");
    let second = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": again }))).await;
    assert_eq!(second.ok()["user"]["first_name"], "Anna", "policy §8: the correction is kept");
    assert_eq!(app.get("/api/me", Some(&token)).await.ok()["last_name"], "Ivanova", "the rest follows Telegram");
}
