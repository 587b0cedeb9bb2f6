//! Policy §7, read straight from the database: after an account's deletion,
//! no table holds anything personal of that user — names, username, Telegram
//! id, contacts, what their clients told them, notes — outside anonymized
//! counts (booking rows without names or notes). Every table is read, so a
//! table added later is checked without anyone remembering to.

use std::time::Duration;

use serde_json::json;
use sqlx::{Connection, Row};

use crate::{
    fake_telegram::{FakeTelegram, message_from},
    helpers::{Backend, every_day, on_both_backends, slot, spawn_app_with},
};

on_both_backends!(nothing_personal_is_left_in_any_table_after_a_deletion);

/// What must be gone, and the one table where it may stay because it is
/// someone else's own data (the client Quentin's own account).
const GONE: &[(&str, Option<&str>)] = &[
    ("zelda", None), // first name, username, slug, display name, business name
    ("zimmermann", None),
    ("4242424", None),
    ("+49 555 0101", None),
    ("quentin", Some("users")),
    ("ring twice", None),
    ("rufus", None),
    ("+49 170 999", None),
    ("lavender", None),
    ("call me back", None), // a support message
    ("chatham", None),      // her device's time zone
];

async fn nothing_personal_is_left_in_any_table_after_a_deletion(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url), ("SUPPORT_CHAT_ID", "-100777")]).await;
    let body = json!({ "telegram_id": 4242424, "first_name": "Zelda", "username": "zelda_z", "language_code": "en" });
    let zelda =
        app.request("POST", "/api/auth/dev", None, Some(body.clone())).await.ok()["token"].as_str().unwrap().to_owned();
    app.request("POST", "/api/auth/dev", None, Some(body)).await.ok(); // a second session
    app.request(
        "PATCH",
        "/api/me",
        Some(&zelda),
        Some(json!({ "last_name": "Zimmermann", "time_zone": "Pacific/Chatham" })),
    )
    .await
    .ok();
    let profile = json!({ "slug": "zelda", "display_name": "Zelda Cuts", "business_name": "Zelda Salon GmbH",
        "contacts": "+49 555 0101", "timezone": "Europe/Berlin", "slot_step_min": 60, "min_notice_min": 0,
        "horizon_days": 366 });
    app.request("PUT", "/api/provider", Some(&zelda), Some(profile)).await.ok();
    let service = app
        .request("POST", "/api/provider/services", Some(&zelda), Some(json!({ "name": "Visit", "duration_min": 60 })))
        .await;
    let service = service.ok()["id"].as_str().unwrap().to_owned();
    app.request("PUT", "/api/provider/schedule", Some(&zelda), Some(every_day("09:00", "13:00"))).await.ok();
    let quentin = app.dev_sign_in(77, "Quentin").await;
    let booking =
        json!({ "provider": "zelda", "service": service, "start": slot("10:00"), "note": "please ring twice" });
    app.request("POST", "/api/bookings", Some(&quentin), Some(booking)).await.ok();
    let walk_in = json!({ "name": "Rufus", "contacts": "+49 170 999", "notes": "allergic to lavender" });
    app.request("POST", "/api/provider/clients", Some(&zelda), Some(walk_in)).await.ok();
    fake.wait_for_messages(4242424, 1, Duration::from_secs(10)).await;
    // What Zelda told support (stored with the account, §8).
    fake.push_update("message", message_from(4242424, "/support"));
    fake.wait_for_messages(4242424, 2, Duration::from_secs(10)).await;
    fake.push_update("message", message_from(4242424, "Zelda here, call me back"));
    let operator_saw = async {
        while !fake.calls("sendMessage").iter().any(|c| c.body["text"].to_string().contains("call me back")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), operator_saw).await.expect("forwarded to the operators' chat");

    let id = app.get("/api/me", Some(&zelda)).await.ok()["id"].as_str().unwrap().replace('-', "");
    // Her access log (§2) has lines by now: the writer flushes within a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        every_row(backend, &app.database_url())
            .await
            .iter()
            .any(|(table, row)| table == "access_log" && row.replace('-', "").to_lowercase().contains(&id))
    );

    assert_eq!(app.request("DELETE", "/api/me", Some(&zelda), None).await.status, 204);
    // Quentin hears of the cancellation (the letter names Zelda until it is handed over).
    assert_eq!(fake.wait_for_messages(77, 1, Duration::from_secs(10)).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let rows = every_row(backend, &app.database_url()).await;
    assert!(rows.iter().any(|(table, _)| table == "bookings"), "the anonymous booking count stays");
    for (table, row) in &rows {
        let row = row.to_lowercase();
        // Her id stays only as the key of her anonymized account and provider rows.
        let keyed = ["users", "providers"].contains(&table.as_str());
        assert!(keyed || !row.replace('-', "").contains(&id), "her id is still in table {table}: {row}");
        for (gone, allowed_in) in GONE {
            if row.contains(gone) && *allowed_in != Some(table.as_str()) {
                panic!("{gone:?} is still in table {table}: {row}");
            }
        }
    }
}

/// Every row of every table of the application, each as one text.
async fn every_row(backend: Backend, url: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for table in tables {
                let columns: Vec<String> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}')")))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                let row_text =
                    columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
                let sql = format!("SELECT {row_text} FROM \"{table}\"");
                for row in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.unwrap() {
                    rows.push((table.clone(), row.get::<String, _>(0)));
                }
            }
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                 AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for table in tables {
                let sql = format!("SELECT CAST(t AS text) FROM \"{table}\" t");
                for row in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.unwrap() {
                    rows.push((table.clone(), row.get::<String, _>(0)));
                }
            }
        }
    }
    rows
}
