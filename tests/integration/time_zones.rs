//! Two time zones (issue 13): a client whose device is in another zone than
//! the provider's gets the bot's texts with both wall times; one in a zone
//! with the provider's clock under another name gets one. The zone comes from
//! the Mini App (`PATCH /api/me {time_zone}`): Telegram tells us none.

use std::time::Duration;

use serde_json::json;

use crate::{
    fake_telegram::{FakeTelegram, button_press, message_from},
    helpers::{Backend, every_day, on_both_backends, slot, spawn_app_with},
};

on_both_backends!(a_client_in_another_zone_reads_both_times_in_pushes_and_the_bookings_list);

async fn a_client_in_another_zone_reads_both_times_in_pushes_and_the_bookings_list(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", &fake.url)]).await;
    // Anna works in Berlin and confirms each request (so clients get a push).
    let profile = json!({ "requires_confirmation": true, "cancel_cutoff_min": 0 });
    let (_, service) = app.provider(1, "anna", profile, every_day("09:00", "13:00")).await;
    // Carol's phone is in New York, Dave's in Paris (Berlin's clock, another name).
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    for (token, zone) in [(&carol, "America/New_York"), (&dave, "Europe/Paris")] {
        app.request("PATCH", "/api/me", Some(token), Some(json!({ "time_zone": zone }))).await.ok();
    }
    // 10:00 and 11:00 in Berlin on Tuesday 1 June 2027 (CEST, +02:00) are 04:00
    // and 05:00 in New York (EDT, −04:00): `TZ=America/New_York date -d
    // 2027-06-01T08:00Z` says 04:00.
    let first = app.book(&carol, "anna", &service, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned();
    let second = app.book(&dave, "anna", &service, &slot("11:00")).await.ok()["id"].as_str().unwrap().to_owned();
    fake.wait_for_messages(1, 2, Duration::from_secs(10)).await;
    fake.push_update("callback_query", button_press(1, &format!("confirm:{first}"), "q1"));
    fake.push_update("callback_query", button_press(1, &format!("confirm:{second}"), "q2"));

    let told_carol = fake.wait_for_messages(2, 1, Duration::from_secs(10)).await;
    let text = told_carol[0].body["text"].as_str().unwrap_or_default();
    assert_eq!(text, "anna confirmed your booking: Visit, Tue 01 Jun 2027, 10:00 (Europe/Berlin) · 04:00 your time.");
    let told_dave = fake.wait_for_messages(3, 1, Duration::from_secs(10)).await;
    let text = told_dave[0].body["text"].as_str().unwrap_or_default();
    assert_eq!(text, "anna confirmed your booking: Visit, Tue 01 Jun 2027, 11:00 (Europe/Berlin).", "one clock");
    // Anna never told us a zone: her pushes show her own time alone.
    for push in fake.messages_to(1) {
        let text = push.body["text"].as_str().unwrap_or_default();
        assert!(text.contains("(Europe/Berlin)") && !text.contains("your time"), "{text}");
    }

    // The bot's list of visits too; its cancel button stays short.
    fake.push_update("message", message_from(2, "/bookings"));
    let list = fake.wait_for_messages(2, 2, Duration::from_secs(10)).await;
    let text = list[1].body["text"].as_str().unwrap_or_default();
    assert!(text.contains("Tue 01 Jun 2027, 10:00 (Europe/Berlin) · 04:00 your time"), "{text}");
    let button = list[1].body["reply_markup"]["inline_keyboard"][0][0]["text"].as_str().unwrap_or_default();
    assert_eq!(button, "Cancel: Tue 01 Jun 2027, 10:00 (Europe/Berlin)");

    // A phone that moved: the last zone seen counts (Moscow, +03 all year).
    app.request("PATCH", "/api/me", Some(&carol), Some(json!({ "time_zone": "Europe/Moscow" }))).await.ok();
    fake.push_update("message", message_from(2, "/bookings"));
    let list = fake.wait_for_messages(2, 3, Duration::from_secs(10)).await;
    let text = list[2].body["text"].as_str().unwrap_or_default();
    assert!(text.contains("Tue 01 Jun 2027, 10:00 (Europe/Berlin) · 11:00 your time"), "{text}");
}
