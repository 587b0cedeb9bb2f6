//! The bot against a fake Telegram Bot API over real HTTP: pushes, buttons,
//! commands, 403 and 429, reminders across restarts and nodes, and a drain
//! of 1,000 reminders within Telegram's limits.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    fake_telegram::{FakeTelegram, button_press, message_from},
    helpers::{BOT_TOKEN, Backend, TestApp, every_day, on_both_backends, spawn_app_with},
};

on_both_backends!(
    a_booking_reaches_the_provider_at_once_in_local_time,
    confirm_and_decline_buttons_act_through_the_calendar,
    start_and_bookings_commands_answer,
    a_blocked_user_causes_no_retry_storm,
    retry_after_is_honoured,
);

const DAY: &str = "2027-06-01";

fn slot(time: &str) -> String {
    format!("{DAY}T{time}:00+02:00")
}

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
    let _ = BOT_TOKEN;
}
