//! Requests answered properly (issue 13 parts 2 and 3): a request nobody
//! answers in time is declined once however many nodes run; the provider
//! proposes another time and the client answers from the bot or the API;
//! "I'm coming" from the chat reaches the provider's live feed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    fake_telegram::{FakeTelegram, button_press},
    helpers::{
        Backend, DAY, TestApp, every_day, on_both_backends, slot, spawn_app_with, sql_column, sql_execute, two_nodes,
    },
    live::{next_json, open, send},
};

on_both_backends!(
    a_proposal_is_accepted_from_the_chat_and_moves_the_booking_live,
    a_proposal_taken_meanwhile_is_refused_clearly_and_changes_nothing,
    a_proposal_is_checked_before_the_client_is_asked,
    an_unanswered_request_is_declined_and_the_client_told,
    im_coming_from_the_chat_reaches_the_agenda_live,
    the_morning_digest_lists_the_day_once_with_who_is_coming,
    a_blocked_client_cannot_take_a_proposal_from_the_chat,
    an_unanswered_proposal_expires_and_frees_the_time_asked_for,
);

const WAIT: Duration = Duration::from_secs(10);

async fn app_with_bot(backend: Backend, fake: &FakeTelegram, extra: &[(&str, &str)]) -> TestApp {
    let mut config = vec![("TELEGRAM_API_URL", fake.url.as_str()), ("PUBLIC_URL", "https://app.example.test/")];
    config.extend_from_slice(extra);
    spawn_app_with(backend, &config).await
}

/// The problem `type` of a refusal with `status`.
#[track_caller]
fn problem_type(reply: &crate::helpers::Reply, status: u16) -> Option<String> {
    reply.problem(status);
    reply.body["type"].as_str().map(str::to_owned)
}

fn id_of(reply: &Value) -> String {
    reply["id"].as_str().expect("an id").to_owned()
}

/// The provider (Telegram id 1) confirms by hand; returns (token, service).
async fn hand_confirmed(app: &TestApp, rules: Value) -> (String, String) {
    let mut profile = json!({ "requires_confirmation": true });
    profile.as_object_mut().unwrap().extend(rules.as_object().unwrap().clone());
    app.provider(1, "anna", profile, every_day("09:00", "13:00")).await
}

/// The provider's live booking feed, authenticated.
async fn feed(app: &TestApp, token: &str) -> crate::live::Socket {
    let mut socket = open(app).await;
    send(&mut socket, json!({ "type": "auth", "token": token })).await;
    assert_eq!(next_json(&mut socket, WAIT).await.unwrap()["type"], "authenticated");
    socket
}

/// The next `booking` frame of `event` on the feed (others are skipped).
async fn next_booking_event(socket: &mut crate::live::Socket, event: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(frame) = next_json(socket, Duration::from_millis(500)).await
            && frame["type"] == "booking"
            && frame["event"] == event
        {
            return frame;
        }
    }
    panic!("no {event} booking frame on the provider's feed");
}

async fn a_proposal_is_accepted_from_the_chat_and_moves_the_booking_live(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake, &[]).await;
    let (anna, service) = hand_confirmed(&app, json!({})).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let id = id_of(app.book(&carol, "anna", &service, &slot("10:00")).await.ok());
    let mut agenda = feed(&app, &anna).await;

    let proposed = app
        .request(
            "POST",
            &format!("/api/provider/bookings/{id}/propose"),
            Some(&anna),
            Some(json!({ "start": slot("11:00") })),
        )
        .await;
    let view = proposed.ok();
    assert_eq!((view["status"].as_str(), view["start"].as_str()), (Some("pending"), Some(slot("10:00").as_str())));
    assert_eq!(view["proposed_start"], slot("11:00").as_str());
    // The client sees the proposal in the Mini App's data and in the chat, with buttons.
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.ok()[0]["proposed_start"], slot("11:00").as_str());
    let told = fake.wait_for_messages(2, 1, WAIT).await;
    let text = told[0].body["text"].as_str().unwrap();
    assert!(text.contains("proposes") && text.contains("11:00") && text.contains("10:00"), "{text}");
    let keyboard = told[0].body["reply_markup"]["inline_keyboard"][0].clone();
    let seen = slot("11:00").parse::<jiff::Timestamp>().unwrap().as_second();
    assert_eq!(keyboard[0]["callback_data"], format!("accept-proposal:{id}:{seen}"), "{keyboard}");
    assert_eq!(keyboard[1]["callback_data"], format!("decline-proposal:{id}"), "{keyboard}");
    // Someone else's press changes nothing.
    fake.push_update("callback_query", button_press(9, &format!("accept-proposal:{id}:{seen}"), "stranger"));
    fake.wait_for_calls("answerCallbackQuery", 1, WAIT).await;
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.ok()[0]["status"], "pending");

    fake.push_update("callback_query", button_press(2, &format!("accept-proposal:{id}:{seen}"), "carol"));
    let moved = next_booking_event(&mut agenda, "proposal_accepted").await;
    assert_eq!(moved["booking"]["id"], id.as_str());
    assert_eq!(moved["booking"]["start"], slot("11:00").as_str());
    assert_eq!(moved["booking"]["status"], "confirmed");
    assert_eq!(moved["booking"]["proposed_start"], Value::Null);
    let answers = fake.wait_for_calls("answerCallbackQuery", 2, WAIT).await;
    assert!(answers[1].body["text"].as_str().unwrap().starts_with("Accepted"), "{:?}", answers[1].body);
    let provider_told = fake.wait_for_messages(1, 2, WAIT).await;
    let text = provider_told[1].body["text"].as_str().unwrap();
    assert!(text.contains("Carol accepted") && text.contains("11:00"), "{text}");
    // The old time is free again, the new one taken.
    let slots = app.get(&format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}"), None).await;
    let starts: Vec<&str> =
        slots.ok()["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap()).collect();
    assert!(starts.contains(&slot("10:00").as_str()) && !starts.contains(&slot("11:00").as_str()), "{starts:?}");
    // A second press is stale.
    fake.push_update("callback_query", button_press(2, &format!("accept-proposal:{id}:{seen}"), "again"));
    let answers = fake.wait_for_calls("answerCallbackQuery", 3, WAIT).await;
    assert!(answers[2].body["text"].as_str().unwrap().contains("already handled"), "{:?}", answers[2].body);
}

async fn a_proposal_taken_meanwhile_is_refused_clearly_and_changes_nothing(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake, &[]).await;
    let (anna, service) = hand_confirmed(&app, json!({})).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    let id = id_of(app.book(&carol, "anna", &service, &slot("10:00")).await.ok());
    let propose = format!("/api/provider/bookings/{id}/propose");
    app.request("POST", &propose, Some(&anna), Some(json!({ "start": slot("12:00") }))).await.ok();
    // Dave books the proposed time first (it was offered, not held).
    assert_eq!(app.book(&dave, "anna", &service, &slot("12:00")).await.status, 201);

    fake.push_update("callback_query", button_press(2, &format!("accept-proposal:{id}"), "late"));
    let answered = fake.wait_for_calls("answerCallbackQuery", 1, WAIT).await;
    assert!(answered[0].body["text"].as_str().unwrap().contains("someone has just booked"), "{:?}", answered[0].body);
    assert_eq!(answered[0].body["show_alert"], true);
    let refused = app.request("POST", &format!("/api/bookings/{id}/accept-proposal"), Some(&carol), None).await;
    assert_eq!(problem_type(&refused, 409).as_deref(), Some("/problems/slot-taken"));
    let mine = app.get("/api/bookings", Some(&carol)).await;
    let mine = &mine.ok()[0];
    assert_eq!((mine["status"].as_str(), mine["start"].as_str()), (Some("pending"), Some(slot("10:00").as_str())));

    // Declined: the request ends, the provider is told, nothing is left to answer.
    let declined = app.request("POST", &format!("/api/bookings/{id}/decline-proposal"), Some(&carol), None).await;
    assert_eq!(declined.ok()["status"], "cancelled");
    let provider_told = fake.wait_for_messages(1, 3, WAIT).await;
    assert!(provider_told.iter().any(|m| m.body["text"].as_str().unwrap().contains("Carol declined the time")));
    let again = app.request("POST", &format!("/api/bookings/{id}/accept-proposal"), Some(&carol), None).await;
    assert_eq!(problem_type(&again, 409).as_deref(), Some("/problems/no-proposal"));
}

async fn a_proposal_is_checked_before_the_client_is_asked(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (anna, service) = hand_confirmed(&app, json!({})).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    let id = id_of(app.book(&carol, "anna", &service, &slot("10:00")).await.ok());
    let taken = id_of(app.book(&dave, "anna", &service, &slot("11:00")).await.ok());
    let propose = |start: Value| {
        let (app, anna, path) = (&app, &anna, format!("/api/provider/bookings/{id}/propose"));
        async move { app.request("POST", &path, Some(anna), Some(json!({ "start": start }))).await }
    };
    assert_eq!(problem_type(&propose(json!(slot("11:00"))).await, 409).as_deref(), Some("/problems/slot-taken"));
    assert_eq!(problem_type(&propose(json!(slot("18:00"))).await, 422).as_deref(), Some("/problems/not-bookable"));
    let same = propose(json!(slot("10:00"))).await;
    assert_eq!(problem_type(&same, 422).as_deref(), Some("/problems/not-bookable"));
    let bad = propose(json!("tomorrow at ten")).await;
    assert_eq!(bad.problem(422).as_deref(), Some("start"));
    // Only a pending request gets a proposal.
    app.request("POST", &format!("/api/provider/bookings/{taken}/confirm"), Some(&anna), None).await.ok();
    let confirmed = app
        .request(
            "POST",
            &format!("/api/provider/bookings/{taken}/propose"),
            Some(&anna),
            Some(json!({ "start": slot("12:00") })),
        )
        .await;
    assert_eq!(problem_type(&confirmed, 409).as_deref(), Some("/problems/invalid-status"));
    // Nothing changed on the request.
    let mine = app.get("/api/bookings", Some(&carol)).await;
    assert_eq!(mine.ok()[0]["proposed_start"], Value::Null);

    // A proposal replaced after the client saw it is not accepted blind.
    propose(json!(slot("12:00"))).await.ok();
    propose(json!(slot("09:00"))).await.ok();
    let stale = format!("/api/bookings/{id}/accept-proposal?start={}", slot("12:00").replace('+', "%2B"));
    assert_eq!(
        problem_type(&app.request("POST", &stale, Some(&carol), None).await, 409).as_deref(),
        Some("/problems/no-proposal")
    );
    let bad = app.request("POST", &format!("/api/bookings/{id}/accept-proposal?start=noon"), Some(&carol), None).await;
    assert_eq!(bad.problem(422).as_deref(), Some("start"));
    let seen = format!("/api/bookings/{id}/accept-proposal?start={}", slot("09:00").replace('+', "%2B"));
    let accepted = app.request("POST", &seen, Some(&carol), None).await;
    assert_eq!(
        (accepted.ok()["status"].as_str(), accepted.ok()["start"].as_str()),
        (Some("confirmed"), Some(slot("09:00").as_str()))
    );
}

async fn an_unanswered_request_is_declined_and_the_client_told(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake, &[("DEADLINE_SWEEP_MS", "100")]).await;
    let (anna, service) = hand_confirmed(&app, json!({ "confirm_within_min": 30 })).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let booked = app.book(&carol, "anna", &service, &slot("10:00")).await;
    let id = id_of(booked.ok());
    let by: jiff::Timestamp = booked.body["confirm_by"].as_str().expect("a deadline").parse().unwrap();
    let in_30 = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(30);
    assert!((by - in_30).abs() < jiff::SignedDuration::from_secs(60), "30 minutes from booking: {by}");
    // Not yet due: the sweeps leave it alone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.get("/api/bookings", Some(&carol)).await.ok()[0]["status"], "pending");

    move_deadlines_into_the_past(&app.database_url(), backend).await;
    let told = fake.wait_for_messages(2, 1, WAIT).await;
    let text = told[0].body["text"].as_str().unwrap();
    assert!(text.contains("was not settled in time") && text.contains("10:00"), "{text}");
    let mine = app.get("/api/bookings", Some(&carol)).await;
    assert_eq!((mine.ok()[0]["id"].as_str(), mine.ok()[0]["status"].as_str()), (Some(id.as_str()), Some("cancelled")));
    // The provider can no longer confirm it.
    let late = app.request("POST", &format!("/api/provider/bookings/{id}/confirm"), Some(&anna), None).await;
    assert_eq!(problem_type(&late, 409).as_deref(), Some("/problems/invalid-status"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages_to(2).len(), 1, "told once");
}

/// Every pending request's deadline one second ago, as if the time had passed.
async fn move_deadlines_into_the_past(url: &str, backend: Backend) {
    let one_second_ago = match backend {
        Backend::Sqlite => "unixepoch() - 1",
        Backend::Postgres => "now() - interval '1 second'",
    };
    let sql = format!("UPDATE bookings SET confirm_by = {one_second_ago} WHERE status = 'pending'");
    sql_execute(backend, url, sql).await;
}

/// Two nodes sweep every 20 ms over the same 24 expired requests (one an hour): each is
/// declined once — one outbox message, one revision step — whichever node
/// wins each race.
#[actix_web::test]
async fn expired_requests_are_declined_exactly_once_with_two_nodes() {
    let Some((db, _redis, a, b)) = two_nodes(&[("DEADLINE_SWEEP_MS", "20")]).await else {
        assert!(std::env::var("CI").is_err(), "CI runs this with PostgreSQL and Redis");
        return;
    };
    let (_, service) = a
        .provider(
            1,
            "anna",
            json!({ "requires_confirmation": true, "confirm_within_min": 60 }),
            every_day("00:00", "24:00"),
        )
        .await;
    let clients = a.many_users(100, 24).await;
    for (n, client) in clients.iter().enumerate() {
        let start = slot(&format!("{n:02}:00"));
        let node = if n % 2 == 0 { &a } else { &b };
        assert_eq!(node.book(client, "anna", &service, &start).await.status, 201, "{start}");
    }
    move_deadlines_into_the_past(&db.url, Backend::Postgres).await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("postgres");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} requests still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both nodes keep sweeping a while longer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pushes: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT b.id, (SELECT count(*) FROM outbox o WHERE o.booking_id = b.id AND o.event = 'expired') \
         FROM bookings b",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(pushes.len(), 24);
    assert!(pushes.iter().all(|(_, told)| *told == 1), "each client told exactly once: {pushes:?}");
    let revisions: Vec<i64> = sqlx::query_scalar("SELECT revision FROM bookings").fetch_all(&pool).await.unwrap();
    assert!(revisions.iter().all(|r| *r == 1), "one change each: {revisions:?}");
}

async fn im_coming_from_the_chat_reaches_the_agenda_live(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake, &[]).await;
    let (anna, service) =
        app.provider(1, "anna", json!({ "reminder_offsets_min": [60] }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let id = id_of(app.book(&carol, "anna", &service, &slot("10:00")).await.ok());
    assert_eq!(app.get("/api/provider/bookings?from=2000-01-01&to=2000-01-01", Some(&anna)).await.status, 200);
    let mut agenda = feed(&app, &anna).await;

    // The reminder's "I'm coming" button, pressed in the chat.
    fake.push_update("callback_query", button_press(2, &format!("attend:{id}"), "coming"));
    let frame = next_booking_event(&mut agenda, "attending").await;
    assert_eq!(frame["booking"]["id"], id.as_str());
    assert_eq!(frame["booking"]["attendance"], "confirmed");
    let answered = fake.wait_for_calls("answerCallbackQuery", 1, WAIT).await;
    assert!(answered[0].body["text"].as_str().unwrap().contains("sees you're coming"), "{:?}", answered[0].body);
    // The reminder stays: the visit is still on. The provider's chat is not flooded.
    let reminders: i64 = reminder_count(&app.database_url(), backend).await;
    assert_eq!(reminders, 1, "the reminder is still due");
    assert_eq!(fake.messages_to(1).len(), 1, "the provider heard of the booking only");
    // Said once; a press by someone else is stale.
    fake.push_update("callback_query", button_press(3, &format!("attend:{id}"), "other"));
    let answers = fake.wait_for_calls("answerCallbackQuery", 2, WAIT).await;
    assert!(answers[1].body["text"].as_str().unwrap().contains("already handled"));
}

async fn reminder_count(url: &str, backend: Backend) -> i64 {
    let sql = "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND state = 'pending'";
    sql_column(backend, url, sql).await[0]
}

/// The digest of [`DAY`] as two nodes would write it at 07:05 Berlin: one
/// message, the day's active visits in time order, who said "I'm coming";
/// none before 07:00 and none for a provider who did not ask for it.
async fn the_morning_digest_lists_the_day_once_with_who_is_coming(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (anna, service) = app.provider(1, "anna", json!({ "morning_digest": true }), every_day("09:00", "13:00")).await;
    let (_, bobs) = app.provider(9, "bob", json!({}), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dave = app.dev_sign_in(3, "Dave").await;
    let erin = app.dev_sign_in(4, "Erin").await;
    let coming = id_of(app.book(&carol, "anna", &service, &slot("11:00")).await.ok());
    app.book(&dave, "anna", &service, &slot("09:00")).await.ok();
    let gone = id_of(app.book(&erin, "anna", &service, &slot("12:00")).await.ok());
    app.book(&erin, "bob", &bobs, &slot("10:00")).await.ok();
    app.request("POST", &format!("/api/bookings/{coming}/attend"), Some(&carol), None).await.ok();
    app.request("POST", &format!("/api/bookings/{gone}/cancel"), Some(&erin), None).await.ok();
    assert_eq!(app.get("/api/provider", Some(&anna)).await.ok()["morning_digest"], true);

    let store = justbookme::store::connect(&app.database_url()).await.expect("the app's store");
    let at = |time: &str| slot(time).parse::<jiff::Timestamp>().expect("an instant");
    use justbookme::deadlines::{DigestsDone, send_digests};
    let (mut node_a, mut node_b) = (DigestsDone::default(), DigestsDone::default());
    assert_eq!(send_digests(&*store, at("06:55"), &mut node_a).await.unwrap(), 0, "not before 07:00");
    // Two nodes at once: one writes it.
    let (first, second) = futures_util::join!(
        send_digests(&*store, at("07:05"), &mut node_a),
        send_digests(&*store, at("07:06"), &mut node_b)
    );
    assert_eq!(first.unwrap() + second.unwrap(), 1, "one digest for the day");
    let mut restarted = DigestsDone::default();
    assert_eq!(send_digests(&*store, at("09:30"), &mut restarted).await.unwrap(), 0, "and only one");
    let texts = digest_texts(&app.database_url(), backend).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    let text = &texts[0];
    assert!(text.starts_with("Good morning! Tue 01 Jun: 2 visit(s), 1 confirmed"), "{text}");
    let (dave_at, carol_at) =
        (text.find("09:00 Visit — Dave").expect("Dave"), text.find("11:00 Visit — Carol ✅ coming"));
    assert!(carol_at.is_some_and(|carol_at| dave_at < carol_at), "in time order, Carol coming: {text}");
    assert!(!text.contains("Erin"), "cancelled visits and other providers' are left out: {text}");
}

async fn digest_texts(url: &str, backend: Backend) -> Vec<String> {
    let sql = "SELECT body FROM outbox WHERE kind = 'text' AND body LIKE 'Good morning! Tue 01 Jun%'";
    sql_column(backend, url, sql).await
}

async fn a_blocked_client_cannot_take_a_proposal_from_the_chat(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = app_with_bot(backend, &fake, &[]).await;
    let (anna, service) = hand_confirmed(&app, json!({})).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let booked = app.book(&carol, "anna", &service, &slot("10:00")).await;
    let (id, card) = (id_of(booked.ok()), booked.body["client"]["id"].as_str().unwrap().to_owned());
    let propose = format!("/api/provider/bookings/{id}/propose");
    app.request("POST", &propose, Some(&anna), Some(json!({ "start": slot("11:00") }))).await.ok();
    let block = json!({ "blocked": true });
    app.request("PATCH", &format!("/api/provider/clients/{card}"), Some(&anna), Some(block)).await.ok();

    let seen = slot("11:00").parse::<jiff::Timestamp>().unwrap().as_second();
    fake.push_update("callback_query", button_press(2, &format!("accept-proposal:{id}:{seen}"), "blocked"));
    let answered = fake.wait_for_calls("answerCallbackQuery", 1, WAIT).await;
    assert!(
        answered[0].body["text"].as_str().unwrap().contains("not taking bookings from you"),
        "{:?}",
        answered[0].body
    );
    let refused = app.request("POST", &format!("/api/bookings/{id}/accept-proposal"), Some(&carol), None).await;
    assert_eq!(problem_type(&refused, 403).as_deref(), Some("/problems/client-blocked"));
    let mine = app.get("/api/bookings", Some(&carol)).await;
    assert_eq!(
        (mine.ok()[0]["status"].as_str(), mine.ok()[0]["start"].as_str()),
        (Some("pending"), Some(slot("10:00").as_str()))
    );
}

/// A proposal waits for the client until its own deadline; unanswered, it
/// ends like a request, and the time asked for (held until then) is free.
async fn an_unanswered_proposal_expires_and_frees_the_time_asked_for(backend: Backend) {
    let app = spawn_app_with(backend, &[("DEADLINE_SWEEP_MS", "100")]).await;
    let (anna, service) = hand_confirmed(&app, json!({ "confirm_within_min": 30 })).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let id = id_of(app.book(&carol, "anna", &service, &slot("10:00")).await.ok());
    let propose = format!("/api/provider/bookings/{id}/propose");
    let proposed = app.request("POST", &propose, Some(&anna), Some(json!({ "start": slot("11:00") }))).await;
    assert!(proposed.ok()["confirm_by"].is_string(), "the client's deadline: {}", proposed.body);
    assert!(!is_free(&app, &service, "10:00").await, "held while the proposal stands");
    move_deadlines_into_the_past(&app.database_url(), backend).await;
    let deadline = Instant::now() + WAIT;
    while app.get("/api/bookings", Some(&carol)).await.ok()[0]["status"] != "cancelled" {
        assert!(Instant::now() < deadline, "the proposal never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(is_free(&app, &service, "10:00").await, "the time asked for is free again");
}

async fn is_free(app: &TestApp, service: &str, time: &str) -> bool {
    let slots = app.get(&format!("/api/providers/anna/slots?service={service}&from={DAY}&to={DAY}"), None).await;
    slots.ok()["slots"].as_array().unwrap().iter().any(|s| s["start"] == slot(time).as_str())
}
