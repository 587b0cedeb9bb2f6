//! The bot against a fake Telegram Bot API over real HTTP: pushes, buttons,
//! commands, 403 and 429, reminders across restarts and nodes, and a drain
//! of 1,000 reminders within Telegram's limits.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    fake_telegram::{FakeTelegram, button_press, message_from},
    helpers::{BOT_TOKEN, Backend, TestApp, every_day, on_both_backends, slot, spawn_app_with},
};

on_both_backends!(
    a_booking_reaches_the_provider_at_once_in_local_time,
    confirm_and_decline_buttons_act_through_the_calendar,
    start_and_bookings_commands_answer,
    restriction_is_set_and_lifted_from_the_chat,
    delete_asks_first_and_only_its_owner_confirms_once,
    mydata_sends_the_export_as_a_json_document,
    a_blocked_user_causes_no_retry_storm,
    retry_after_is_honoured,
);

async fn app_with_bot(backend: Backend, fake: &FakeTelegram) -> TestApp {
    spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url), ("PUBLIC_URL", "https://app.example.test/")]).await
}

async fn a_booking_reaches_the_provider_at_once_in_local_time(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    // Dev sign-in ids are Telegram ids: the provider's chat is 1.
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    let booked_at = Instant::now();
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    let pushed = fake.wait_for_messages(1, 1, Duration::from_secs(10)).await;
    assert_eq!(pushed.len(), 1, "the provider got a message");
    let latency = pushed[0].at.duration_since(booked_at);
    eprintln!("booking → provider push at the fake API: {latency:?}");
    let text = pushed[0].body["text"].as_str().unwrap();
    assert!(text.contains("Carol") && text.contains("10:00") && text.contains("Europe/Berlin"), "{text}");
    // Confirmed at once (no manual confirmation): no buttons.
    assert!(pushed[0].body.get("reply_markup").is_none());
    // The client is not told of their own booking.
    assert!(fake.messages_to(2).is_empty());
}

async fn confirm_and_decline_buttons_act_through_the_calendar(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    let (_, service) =
        app.provider(1, "anna", json!({ "requires_confirmation": true }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    let first = app.book(&carol, "anna", &service, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned();
    let second = app.book(&dave, "anna", &service, &slot("11:00")).await.ok()["id"].as_str().unwrap().to_owned();
    let pushes = fake.wait_for_messages(1, 2, Duration::from_secs(10)).await;
    let keyboard = pushes[0].body["reply_markup"]["inline_keyboard"].to_string();
    assert!(
        keyboard.contains(&format!("confirm:{first}")) && keyboard.contains(&format!("decline:{first}")),
        "{keyboard}"
    );

    fake.push_update("callback_query", button_press(1, &format!("confirm:{first}"), "q1"));
    fake.push_update("callback_query", button_press(1, &format!("decline:{second}"), "q2"));
    let told_carol = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    assert!(told_carol[0].body["text"].as_str().unwrap().contains("confirmed"), "{:?}", told_carol[0].body);
    let told_dave = fake.wait_for_messages(3, 1, Duration::from_secs(10)).await;
    assert!(told_dave[0].body["text"].as_str().unwrap().contains("declined"));
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.ok()[0]["status"], "confirmed");
    assert_eq!(app.get("/api/bookings", Some(&dave)).await.ok()[0]["status"], "cancelled");

    // A stale button answers politely and changes nothing; so does a stranger's press.
    fake.push_update("callback_query", button_press(1, &format!("decline:{first}"), "q3"));
    fake.push_update("callback_query", button_press(3, &format!("confirm:{second}"), "q4"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.calls("answerCallbackQuery").len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answers = fake.calls("answerCallbackQuery");
    assert_eq!(answers.len(), 4);
    assert!(answers[2..].iter().all(|a| a.body["text"].as_str().unwrap().contains("already handled")));
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.ok()[0]["status"], "confirmed");
}

async fn start_and_bookings_commands_answer(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    let (_, service) = app.provider(1, "anna", json!({ "cancel_cutoff_min": 0 }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let id = app.book(&carol, "anna", &service, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned();

    fake.push_update("message", message_from(2, "/start anna"));
    let welcome = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    let button = &welcome[0].body["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["web_app"]["url"], "https://app.example.test/?startapp=anna", "{button}");
    assert!(welcome[0].body["text"].as_str().unwrap().contains("anna"));

    fake.push_update("message", message_from(2, "/bookings"));
    let list = fake.wait_for_messages(2, 2, Duration::from_secs(10)).await;
    assert!(list[1].body["text"].as_str().unwrap().contains("10:00"), "{:?}", list[1].body);
    let cancel = list[1].body["reply_markup"]["inline_keyboard"][0][0]["callback_data"].as_str().unwrap().to_owned();
    assert_eq!(cancel, format!("cancel:{id}"));
    fake.push_update("callback_query", button_press(2, &cancel, "q1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/api/bookings", Some(&carol)).await.body[0]["status"] != "cancelled" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.body[0]["status"], "cancelled");

    fake.push_update("message", message_from(2, "/privacy"));
    let privacy = fake.wait_for_messages(2, 3, Duration::from_secs(10)).await;
    assert!(privacy[2].body["text"].as_str().unwrap().starts_with("Privacy Policy"));
    // The commands and the menu button were announced.
    assert!(!fake.calls("setMyCommands").is_empty());
    assert!(!fake.calls("setChatMenuButton").is_empty());
}

async fn a_blocked_user_causes_no_retry_storm(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.block(1);
    let app = app_with_bot(backend, &fake).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let clients = app.many_users(10, 3).await;
    for (client, time) in clients.iter().zip(["09:00", "10:00", "11:00"]) {
        assert_eq!(app.book(client, "anna", &service, &slot(time)).await.status, 201);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts = fake.messages_to(1);
    assert_eq!(attempts.len(), 1, "one 403, then the user is left alone");
    assert_eq!(attempts[0].status, 403);
}

async fn retry_after_is_honoured(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.rate_limit(1, 1, 2);
    let app = app_with_bot(backend, &fake).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    let delivered = fake.wait_for_messages(1, 1, Duration::from_secs(15)).await;
    assert_eq!(delivered.len(), 1);
    let attempts = fake.messages_to(1);
    assert_eq!(attempts.len(), 2, "one 429, one success");
    assert_eq!(attempts[0].status, 429);
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}, before retry_after");
}

/// Sets up a provider open around the clock on a 5-minute grid with a
/// 5-minute service, and a reminder offset such that a booking at the first
/// slot ≥ 2 minutes ahead is reminded 15–75 s from now. Returns (service id,
/// slot start, reminder due).
async fn soon_reminded_booking(api: &crate::helpers::Api) -> (String, String, jiff::Timestamp) {
    let (provider, _) =
        api.provider(1, "anna", json!({ "slot_step_min": 5, "min_notice_min": 0 }), every_day("00:00", "24:00")).await;
    let quick = api
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Quick", "duration_min": 5 })))
        .await;
    let service = quick.ok()["id"].as_str().unwrap().to_owned();
    let to = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(30)).to_string()[..10].to_owned();
    let slots = api.get(&format!("/api/providers/anna/slots?service={service}&to={to}"), None).await;
    let now = jiff::Timestamp::now();
    let start = slots.ok()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .find(|s| s.parse::<jiff::Timestamp>().unwrap() >= now + jiff::SignedDuration::from_mins(2))
        .expect("a slot soon");
    let at: jiff::Timestamp = start.parse().unwrap();
    let offset = ((at - now).as_secs() - 15) / 60;
    let profile = json!({ "slug": "anna", "display_name": "anna", "timezone": "Europe/Berlin", "reminder_offsets_min": [offset] });
    api.request("PUT", "/api/provider", Some(&provider), Some(profile)).await.ok();
    (service, start, at - jiff::SignedDuration::from_mins(offset))
}

fn reminders(calls: &[crate::fake_telegram::Call]) -> Vec<&crate::fake_telegram::Call> {
    calls.iter().filter(|c| c.status == 200 && c.body["text"].as_str().unwrap_or("").starts_with("Reminder")).collect()
}

#[actix_web::test]
async fn a_reminder_goes_out_once_on_time() {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(Backend::Sqlite, &fake).await;
    let (service, start, due) = soon_reminded_booking(&app).await;
    let client = app.dev_sign_in(2, "Carol").await;
    // Carol's phone is in Kolkata (+05:30, no DST): her reminder shows her clock too.
    app.request("PATCH", "/api/me", Some(&client), Some(json!({ "time_zone": "Asia/Kolkata" }))).await.ok();
    let booked = app.book(&client, "anna", &service, &start).await;
    let id = booked.ok()["id"].as_str().unwrap().to_owned();
    let wait = (due - jiff::Timestamp::now()).unsigned_abs() + Duration::from_secs(20);
    let got = fake.wait_for_messages(2, 1, wait).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = fake.messages_to(2);
    let sent = reminders(&sent);
    assert_eq!(sent.len(), 1, "exactly one reminder: {got:?}");
    let lateness = jiff::Timestamp::now() - due;
    eprintln!("reminder sent; due {due}, observed by {lateness:?} after due");
    let sent_at = jiff::Timestamp::now() - jiff::SignedDuration::try_from(sent[0].at.elapsed()).unwrap();
    assert!(sent_at >= due - jiff::SignedDuration::from_secs(1), "not before it is due");
    let at: jiff::Timestamp = start.parse().unwrap();
    let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap().to_datetime(at);
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap().to_datetime(at);
    let text = sent[0].body["text"].as_str().unwrap_or_default();
    let theirs = format!("{} (Europe/Berlin)", berlin.strftime("%H:%M"));
    let mine = match kolkata.date() == berlin.date() {
        true => kolkata.strftime("%H:%M").to_string(),
        false => kolkata.strftime("%a %d %b, %H:%M").to_string(),
    };
    assert!(text.contains(&theirs) && text.ends_with(&format!(" · {mine} your time.")), "{text}");

    // A reminder to act on (issue 13): "Reschedule" opens the move in the
    // Mini App, "Cancel" cancels — here past the cut-off, so the bot says why.
    // (The first row is "I'm coming", the second these two.)
    let keyboard = &sent[0].body["reply_markup"]["inline_keyboard"];
    assert_eq!(keyboard[0][0]["callback_data"], format!("attend:{id}"), "{keyboard}");
    let buttons = &keyboard[1];
    assert_eq!(buttons[0]["web_app"]["url"], format!("https://app.example.test/?startapp=anna&reschedule={id}"));
    assert_eq!(buttons[1]["callback_data"], format!("cancel:{id}"), "{buttons}");
    fake.push_update("callback_query", button_press(2, &format!("cancel:{id}"), "late"));
    let answered = fake.wait_for_calls("answerCallbackQuery", 1, Duration::from_secs(10)).await;
    let answer = &answered[0].body;
    assert!(answer["text"].as_str().unwrap_or_default().starts_with("Too late to cancel here"), "{answer}");
    assert_eq!(answer["show_alert"], true);
    assert_eq!(app.get("/api/bookings", Some(&client)).await.ok()[0]["status"], "confirmed", "nothing changed");
}

#[actix_web::test]
async fn two_nodes_and_a_restart_still_send_a_reminder_once() {
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let fake = FakeTelegram::start().await;
    let db = crate::helpers::TestDatabase::new(Backend::Postgres).await;
    let env = [("TELEGRAM_BOT_TOKEN", BOT_TOKEN), ("TELEGRAM_API_URL", fake.url.as_str())];
    let mut a = crate::helpers::ServerProcess::start_with(&db.url, &env).await;
    let b = crate::helpers::ServerProcess::start_with(&db.url, &env).await;
    let (service, start, due) = soon_reminded_booking(&a.api).await;
    let client = a.api.dev_sign_in(2, "Carol").await;
    assert_eq!(b.api.book(&client, "anna", &service, &start).await.status, 201);
    // Node A dies and comes back before the reminder is due.
    a.kill_9();
    let _a = crate::helpers::ServerProcess::start_with(&db.url, &env).await;
    assert!(jiff::Timestamp::now() < due, "the restart happened before the reminder was due");
    let wait = (due - jiff::Timestamp::now()).unsigned_abs() + Duration::from_secs(20);
    fake.wait_for_messages(2, 1, wait).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(reminders(&fake.messages_to(2)).len(), 1, "one reminder for two nodes and a restart");
}

#[actix_web::test]
async fn a_thousand_due_reminders_drain_within_telegrams_limits_none_twice() {
    let fake = FakeTelegram::start().await;
    // The provider's own chat is blocked: this test is about the clients' reminders.
    fake.block(1);
    let app = app_with_bot(Backend::Sqlite, &fake).await;
    let profile = json!({ "slot_step_min": 5, "reminder_offsets_min": [20160] });
    let (provider, _) = app.provider(1, "anna", profile, every_day("00:00", "24:00")).await;
    let quick = app
        .request("POST", "/api/provider/services", Some(&provider), Some(json!({ "name": "Quick", "duration_min": 5 })))
        .await;
    let service = quick.ok()["id"].as_str().unwrap().to_owned();
    // A second provider, reachable and without reminders: 500 bookings owe
    // that one chat 500 pushes, which Telegram lets through at 20 a minute.
    let busy = json!({ "slot_step_min": 5, "reminder_offsets_min": [] });
    let (bert, _) = app.provider(2, "bert", busy, every_day("00:00", "24:00")).await;
    let bert_quick = app
        .request("POST", "/api/provider/services", Some(&bert), Some(json!({ "name": "Quick", "duration_min": 5 })))
        .await;
    let bert_service = bert_quick.ok()["id"].as_str().unwrap().to_owned();
    let clients = app.many_users(10_000, 1000).await;
    for (i, client) in clients.iter().enumerate() {
        let minutes = i * 5;
        let start =
            format!("2027-06-{:02}T{:02}:{:02}:00+02:00", 1 + minutes / 1440, minutes % 1440 / 60, minutes % 60);
        assert_eq!(app.book(client, "anna", &service, &start).await.status, 201);
        if i < 500 {
            assert_eq!(app.book(client, "bert", &bert_service, &start).await.status, 201);
        }
    }
    // Make all 1,000 reminders due now, as after a long outage — and the
    // 1,000 pushes to the provider's blocked chat with them, as if nobody
    // knew yet that it is blocked, and the 500 to the busy chat: neither
    // backlog may hold up the others.
    let db_url = app.database_url();
    let pool = sqlx::SqlitePool::connect(&db_url).await.unwrap();
    sqlx::query("UPDATE users SET bot_blocked_at = NULL, bot_blocked_reason = NULL").execute(&pool).await.unwrap();
    let made_due =
        sqlx::query("UPDATE outbox SET state = 'pending', attempts = 0, due_at = unixepoch() WHERE state <> 'sent'")
            .execute(&pool)
            .await
            .unwrap();
    // Some of the busy chat's pushes went out while the bookings were made.
    assert!((2001..=2500).contains(&made_due.rows_affected()), "{}", made_due.rows_affected());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(180);
    while Instant::now() < deadline {
        let delivered: Vec<_> = fake.calls("sendMessage").into_iter().filter(|c| c.status == 200).collect();
        if reminders(&delivered).len() >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drain = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all: Vec<_> = fake.calls("sendMessage").into_iter().filter(|c| c.status == 200).collect();
    let sent = reminders(&all);
    let chats: std::collections::HashSet<i64> = sent.iter().map(|c| c.body["chat_id"].as_i64().unwrap()).collect();
    assert_eq!(sent.len(), 1000, "every reminder went out");
    assert_eq!(chats.len(), 1000, "none twice");
    // Telegram allows about 30 messages a second overall.
    let mut times: Vec<Instant> = sent.iter().map(|c| c.at).collect();
    times.sort();
    let busiest = times.windows(31).map(|w| w[30].duration_since(w[0])).min().unwrap();
    assert!(busiest >= Duration::from_millis(900), "31 messages within {busiest:?}: over Telegram's limit");
    let to_bert = fake.messages_to(2).len();
    assert!((1..500).contains(&to_bert), "the busy chat's pushes go on at its own pace ({to_bert} by now)");
    eprintln!("1,000 due reminders drained in {drain:?}, beside {to_bert} pushes to the busy chat");
}

#[actix_web::test]
async fn webhook_mode_takes_updates_at_the_secret_path_with_the_secret_only() {
    let fake = FakeTelegram::start().await;
    let secret = "s3cret-Token_1";
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("TELEGRAM_API_URL", &fake.url),
            ("PUBLIC_URL", "https://app.example.test/"),
            ("TELEGRAM_WEBHOOK_SECRET", secret),
        ],
    )
    .await;
    let path = justbookme::telegram::webhook::path(secret);
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.calls("setWebhook").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let registered = &fake.calls("setWebhook")[0].body;
    assert_eq!(registered["url"], format!("https://app.example.test{path}"));
    assert_eq!(registered["secret_token"], secret);

    let update = json!({ "update_id": 1, "message": message_from(5, "/help") });
    let post = |token: Option<&str>| {
        let mut request = app.client.post(format!("{}{path}", app.address)).json(&update);
        if let Some(token) = token {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("wrong")).await, 401);
    assert_eq!(post(Some(secret)).await, 200);
    let answered = fake.wait_for_messages(5, 1, Duration::from_secs(10)).await;
    assert!(answered[0].body["text"].as_str().unwrap().contains("/bookings"));
    assert!(fake.calls("getUpdates").is_empty(), "no long polling in webhook mode");
    let guessed = app.client.post(format!("{}/telegram/webhook", app.address)).json(&update).send().await.unwrap();
    assert_eq!(guessed.status(), 404);
}

#[actix_web::test]
async fn with_redis_only_one_node_polls_for_updates() {
    if !crate::helpers::redis_enabled() {
        return;
    }
    let fake = FakeTelegram::start().await;
    let redis = crate::helpers::RedisServer::start().await;
    let url = redis.url();
    let config = [("TELEGRAM_API_URL", fake.url.as_str()), ("REDIS_URL", url.as_str())];
    let _a = spawn_app_with(Backend::Sqlite, &config).await;
    let _b = spawn_app_with(Backend::Sqlite, &config).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    fake.push_update("message", message_from(5, "/help"));
    fake.wait_for_messages(5, 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.messages_to(5).len(), 1, "two pollers would both have answered");
}

#[actix_web::test]
async fn a_reminder_for_a_visit_already_past_is_skipped_not_sent() {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(Backend::Sqlite, &fake).await;
    let (_, service) =
        app.provider(1, "anna", json!({ "reminder_offsets_min": [60] }), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);
    // As if the server had been down through the reminder and the visit:
    // both lie in the past when the dispatcher next looks.
    let pool = sqlx::SqlitePool::connect(&app.database_url()).await.unwrap();
    sqlx::query("UPDATE bookings SET starts_at = unixepoch() - 600, ends_at = unixepoch() - 300, occupied_from = unixepoch() - 600, occupied_to = unixepoch() - 300")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET due_at = unixepoch() - 3600 WHERE kind = 'reminder'").execute(&pool).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut state = String::new();
    while Instant::now() < deadline {
        state = sqlx::query_scalar("SELECT state FROM outbox WHERE kind = 'reminder'").fetch_one(&pool).await.unwrap();
        if state != "pending" && state != "sending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "skipped");
    assert!(reminders(&fake.messages_to(2)).is_empty(), "no reminder for a visit already past");
}

async fn restriction_is_set_and_lifted_from_the_chat(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    let carol = app.dev_sign_in(2, "Carol").await;

    fake.push_update("message", message_from(2, "/restrict"));
    let replies = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    assert!(replies[0].body["text"].as_str().unwrap().contains("restricted"), "{:?}", replies[0].body);
    assert_eq!(app.get("/api/me", Some(&carol)).await.ok()["processing_restricted"], true);

    fake.push_update("message", message_from(2, "/unrestrict"));
    let replies = fake.wait_for_messages(2, 2, Duration::from_secs(10)).await;
    assert!(replies[1].body["text"].as_str().unwrap().contains("lifted"), "{:?}", replies[1].body);
    assert_eq!(app.get("/api/me", Some(&carol)).await.ok()["processing_restricted"], false);

    // Without an account there is nothing to restrict: the bot says how to start.
    fake.push_update("message", message_from(9, "/restrict"));
    let replies = fake.wait_for_messages(9, 1, Duration::from_secs(10)).await;
    assert!(replies[0].body["text"].as_str().unwrap().contains("/start"), "{:?}", replies[0].body);
}

/// Waits until the fake answered `count` callback queries.
async fn callback_answers(fake: &FakeTelegram, count: usize) -> Vec<crate::fake_telegram::Call> {
    fake.wait_for_calls("answerCallbackQuery", count, Duration::from_secs(10)).await
}

async fn delete_asks_first_and_only_its_owner_confirms_once(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let carol_id = app.get("/api/me", Some(&carol)).await.ok()["id"].as_str().unwrap().to_owned();
    app.dev_sign_in(3, "Dave").await;

    fake.push_update("message", message_from(2, "/delete"));
    let asked = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    assert!(asked[0].body["text"].as_str().unwrap().contains("cannot be undone"), "{:?}", asked[0].body);
    let buttons = &asked[0].body["reply_markup"]["inline_keyboard"][0];
    let confirm = buttons[0]["callback_data"].as_str().unwrap().to_owned();
    let keep = buttons[1]["callback_data"].as_str().unwrap().to_owned();
    assert_eq!((confirm.as_str(), keep.as_str()), (&*format!("delete:{carol_id}"), &*format!("keep:{carol_id}")));

    // Another user's press does nothing (Dave has an account; so does the
    // button's owner), and neither does the keep button.
    fake.push_update("callback_query", button_press(3, &confirm, "q1"));
    let answers = callback_answers(&fake, 1).await;
    assert!(answers[0].body["text"].as_str().unwrap().contains("not yours"), "{:?}", answers[0].body);
    assert_eq!(app.get("/api/me", Some(&carol)).await.status, 200);
    fake.push_update("callback_query", button_press(2, &keep, "q2"));
    let answers = callback_answers(&fake, 2).await;
    assert!(answers[1].body["text"].as_str().unwrap().contains("Nothing was deleted"), "{:?}", answers[1].body);
    assert_eq!(app.get("/api/me", Some(&carol)).await.status, 200);

    // The owner's Confirm deletes the account exactly as DELETE /api/me: the session is gone.
    fake.push_update("callback_query", button_press(2, &confirm, "q3"));
    let answers = callback_answers(&fake, 3).await;
    assert!(answers[2].body["text"].as_str().unwrap().contains("account is deleted"), "{:?}", answers[2].body);
    app.get("/api/me", Some(&carol)).await.problem(401);
    assert!(fake.calls("editMessageText").iter().any(|c| c.body["text"].as_str().unwrap().contains("deleted")));
    // Pressed again: nothing left to delete, and it says so.
    fake.push_update("callback_query", button_press(2, &confirm, "q4"));
    let answers = callback_answers(&fake, 4).await;
    assert!(answers[3].body["text"].as_str().unwrap().contains("already used"), "{:?}", answers[3].body);
    // Dave is untouched.
    fake.push_update("message", message_from(3, "/restrict"));
    let replies = fake.wait_for_messages(3, 1, Duration::from_secs(10)).await;
    assert!(replies[0].body["text"].as_str().unwrap().contains("restricted"));
}

async fn mydata_sends_the_export_as_a_json_document(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&carol, "anna", &service, &slot("10:00")).await.status, 201);

    fake.push_update("message", message_from(2, "/mydata"));
    let documents = fake.wait_for_calls("sendDocument", 1, Duration::from_secs(10)).await;
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].body["chat_id"], "2");
    let file = &documents[0].files[0];
    assert_eq!(file.file_name, "justbookme-export.json");
    let export: serde_json::Value = serde_json::from_slice(&file.bytes).expect("JSON");
    // The same document as GET /api/me/export (but for the moment it was made).
    let mut over_http = app.get("/api/me/export", Some(&carol)).await.ok().clone();
    over_http["exported_at"] = export["exported_at"].clone();
    assert_eq!(export, over_http);
    assert_eq!(export["bookings_as_client"][0]["provider"], "anna");

    // Without an account there is nothing to send.
    fake.push_update("message", message_from(9, "/mydata"));
    let replies = fake.wait_for_messages(9, 1, Duration::from_secs(10)).await;
    assert!(replies[0].body["text"].as_str().unwrap().contains("/start"), "{:?}", replies[0].body);
    assert_eq!(fake.calls("sendDocument").len(), 1);
}
