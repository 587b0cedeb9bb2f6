//! Support through the bot (policy §8 "contact service support", §11): the
//! user's messages after /support reach the operators' chat at the fake Bot
//! API, an operator's reply reaches the user, both are kept with the account
//! (in /mydata and the export), across a restart; the rate limit; and,
//! without an operators' chat, `justbookme support` lists and answers.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    fake_telegram::{Call, FakeTelegram, group_message, message_from, reply_in_group},
    helpers::{Backend, TestApp, on_both_backends, spawn_app_with, spawn_stoppable_app, sql_column},
};

on_both_backends!(
    support_reaches_the_operators_and_their_answer_the_user,
    a_conversation_survives_a_restart,
    support_messages_are_rate_limited,
    without_an_operators_chat_the_command_line_lists_and_answers,
);

/// The operators' chat (a supergroup id, as Telegram gives them).
const OPERATORS: i64 = -1001234567890;
const WAIT: Duration = Duration::from_secs(10);

fn config(fake: &FakeTelegram) -> Vec<(&str, &str)> {
    vec![("TELEGRAM_API_URL", fake.url.as_str()), ("SUPPORT_CHAT_ID", "-1001234567890")]
}

fn text(call: &Call) -> &str {
    call.body["text"].as_str().unwrap_or_default()
}

/// Polls `/api/me/export` until it holds `count` support messages.
async fn support_messages(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let export = app.get("/api/me/export", Some(token)).await;
        let messages = export.ok()["support_messages"].as_array().cloned().unwrap_or_default();
        if messages.len() >= count || Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn support_reaches_the_operators_and_their_answer_the_user(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &config(&fake)).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let carol_id = app.get("/api/me", Some(&carol)).await.ok()["id"].as_str().unwrap().to_owned();

    fake.push_update("message", message_from(2, "/support"));
    let replies = fake.wait_for_messages(2, 1, WAIT).await;
    assert!(text(&replies[0]).contains("Write your message"), "{:?}", replies[0].body);

    fake.push_update("message", message_from(2, "hello"));
    let copies = fake.wait_for_messages(OPERATORS, 1, WAIT).await;
    assert_eq!(copies.len(), 1, "the message reached the operators' chat");
    let copy = text(&copies[0]);
    for needle in ["hello", "User", "Telegram id 2", carol_id.as_str(), "Reply to this message"] {
        assert!(copy.contains(needle), "{needle:?} missing from {copy}");
    }

    // The operators talk among themselves: nobody hears of it.
    fake.push_update("message", group_message(OPERATORS, 77, "who takes this one?"));
    let copy_id = copies[0].result["message_id"].as_i64().unwrap();
    fake.push_update("message", reply_in_group(OPERATORS, 77, copy_id, "Hi Carol, how can we help?"));
    let replies = fake.wait_for_messages(2, 2, WAIT).await;
    assert_eq!(text(&replies[1]), "Support: Hi Carol, how can we help?");

    // /mydata: the export as a JSON document, with both directions.
    fake.push_update("message", message_from(2, "/mydata"));
    let documents = fake.wait_for_calls("sendDocument", 1, WAIT).await;
    assert_eq!(documents.len(), 1, "a document was sent");
    assert_eq!(documents[0].body["chat_id"], "2");
    let file = &documents[0].files[0];
    assert_eq!((file.field.as_str(), file.file_name.as_str()), ("document", "justbookme-export.json"));
    let export: Value = serde_json::from_slice(&file.bytes).expect("the document is JSON");
    assert_eq!(export["account"]["first_name"], "Carol");
    let messages = export["support_messages"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> =
        messages.iter().map(|m| (m["direction"].as_str().unwrap(), m["text"].as_str().unwrap())).collect();
    assert_eq!(pairs, [("in", "hello"), ("out", "Hi Carol, how can we help?")]);

    // /done ends it: what follows is not forwarded, the user gets a hint.
    fake.push_update("message", message_from(2, "/done"));
    fake.push_update("message", message_from(2, "one more thing"));
    let replies = fake.wait_for_messages(2, 4, WAIT).await;
    assert!(text(&replies[2]).contains("closed"), "{:?}", replies[2].body);
    assert!(text(&replies[3]).contains("/support"), "{:?}", replies[3].body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages_to(OPERATORS).len(), 1, "nothing more reached the operators");
    assert_eq!(support_messages(&app, &carol, 2).await.len(), 2);

    // Deleting the account deletes the conversation: a late answer finds nobody.
    assert_eq!(app.request("DELETE", "/api/me", Some(&carol), None).await.status, 204);
    fake.push_update("message", reply_in_group(OPERATORS, 77, copy_id, "Are you still there?"));
    let told = fake.wait_for_messages(OPERATORS, 2, WAIT).await;
    assert!(text(&told[1]).contains("matches no support message"), "{:?}", told[1].body);
    assert_eq!(fake.messages_to(2).len(), 4, "the deleted user is not written to");
}

async fn a_conversation_survives_a_restart(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let (first, stop, stopped) = spawn_stoppable_app(backend, &config(&fake)).await;
    let carol = first.dev_sign_in(2, "Carol").await;
    fake.push_update("message", message_from(2, "/support"));
    fake.wait_for_messages(2, 1, WAIT).await;
    fake.push_update("message", message_from(2, "hello"));
    let copies = fake.wait_for_messages(OPERATORS, 1, WAIT).await;
    let copy_id = copies[0].result["message_id"].as_i64().unwrap();
    // Both updates handed over (confirmed) and the copy recorded (the bot
    // writes it just after Telegram answers the send), then the server goes.
    let url = first.database_url();
    let recorded = format!("SELECT COUNT(*) FROM support_messages WHERE operator_message_id = {copy_id}");
    let deadline = Instant::now() + WAIT;
    while !(fake.all_updates_confirmed() && sql_column::<i64>(backend, &url, recorded.as_str()).await == [1])
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    stopped.await.unwrap().unwrap();

    // A new server on the same database: nothing of the conversation lived in memory.
    let mut second_config = config(&fake);
    second_config.push(("DATABASE_URL", url.as_str()));
    let second = spawn_app_with(backend, &second_config).await;
    fake.push_update("message", reply_in_group(OPERATORS, 77, copy_id, "We are on it."));
    let replies = fake.wait_for_messages(2, 2, WAIT).await;
    assert_eq!(replies.len(), 2, "the answer reached the user after the restart");
    assert_eq!(text(&replies[1]), "Support: We are on it.");
    fake.push_update("message", message_from(2, "thank you"));
    let copies = fake.wait_for_messages(OPERATORS, 2, WAIT).await;
    assert!(text(&copies[1]).contains("thank you"), "the conversation is still open: {:?}", copies.last());
    let messages = support_messages(&second, &carol, 3).await;
    let texts: Vec<&str> = messages.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello", "We are on it.", "thank you"]);
}

async fn support_messages_are_rate_limited(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let mut overrides = config(&fake);
    overrides.push(("RATE_SUPPORT_PER_MIN", "3"));
    let app = spawn_app_with(backend, &overrides).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    // /support is a write too: with it, three writes pass a minute.
    for message in ["/support", "first", "second", "third"] {
        fake.push_update("message", message_from(2, message));
    }
    let copies = fake.wait_for_messages(OPERATORS, 2, WAIT).await;
    let replies = fake.wait_for_messages(2, 2, WAIT).await;
    assert!(text(&replies[1]).contains("Too many messages"), "{:?}", replies[1].body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages_to(OPERATORS).len(), 2, "the third message went nowhere: {copies:?}");
    let kept: Vec<String> =
        support_messages(&app, &carol, 2).await.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kept, ["first", "second"], "nothing stored over the limit");
}

async fn without_an_operators_chat_the_command_line_lists_and_answers(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, &[("TELEGRAM_API_URL", fake.url.as_str())]).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let carol_id = app.get("/api/me", Some(&carol)).await.ok()["id"].as_str().unwrap().to_owned();
    // The Mini App's "Contact support" opens t.me/<bot>?start=support.
    fake.push_update("message", message_from(2, "/start support"));
    fake.push_update("message", message_from(2, "my booking vanished"));
    assert_eq!(support_messages(&app, &carol, 1).await.len(), 1, "kept");

    let list = support_command(&app, &fake, &["list"]).await;
    assert!(list.contains("1 open support conversation"), "{list}");
    assert!(list.contains(&carol_id) && list.contains("my booking vanished"), "{list}");

    support_command(&app, &fake, &["reply", &carol_id, "It", "is", "back", "now."]).await;
    let replies = fake.wait_for_messages(2, 2, WAIT).await;
    assert_eq!(text(replies.last().unwrap()), "Support: It is back now.");
    let messages = support_messages(&app, &carol, 2).await;
    assert_eq!(messages[1]["direction"], "out");
    assert_eq!(messages[1]["text"], "It is back now.");

    support_command(&app, &fake, &["done", &carol_id]).await;
    assert!(support_command(&app, &fake, &["list"]).await.contains("0 open support conversation"));
    assert!(fake.messages_to(-1001234567890).is_empty(), "no operators' chat was configured");
}

/// Runs `justbookme support ARGS` against the app's database and the fake
/// Bot API; returns its standard output, failing on a non-zero exit. Runs
/// off the test's thread, which the server's bot shares.
async fn support_command(app: &TestApp, fake: &FakeTelegram, args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_justbookme"));
    let env = [("TELEGRAM_BOT_TOKEN", crate::helpers::BOT_TOKEN), ("TELEGRAM_API_URL", fake.url.as_str())];
    crate::helpers::server_environment(&mut command, &app.database_url(), "127.0.0.1:0", &env);
    command.arg("support").args(args).stdout(std::process::Stdio::piped());
    let output = actix_web::rt::task::spawn_blocking(move || command.output()).await.unwrap().expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "support {args:?}: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
}
