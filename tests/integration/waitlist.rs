//! The waitlist (issue 14): "tell me when something frees up" on a full day.
//! A time that frees up reaches every client waiting for it at once — a bot
//! message and an `offer` frame, once, with two nodes — and the first to
//! book it gets it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, DAY, TestApp, every_day, on_both_backends, slot, spawn_app_with, two_nodes_on},
    live::{next_json, open, send},
};

on_both_backends!(
    a_client_joins_replaces_lists_and_leaves_an_entry,
    bad_waitlist_input_is_refused_naming_the_field,
    a_freed_time_reaches_the_waitlist_once_with_two_nodes_and_the_first_to_book_gets_it,
    a_class_seat_freed_is_offered_and_new_hours_are_too,
    a_socket_signed_in_without_the_feed_hears_no_bookings,
    a_booking_of_the_day_ends_the_entry_whoever_makes_it,
);

/// Anna's day (09:00–13:00, four one-hour slots) booked full by four clients;
/// their tokens and booking ids.
async fn full_day(app: &TestApp) -> (String, String, Vec<(String, String)>) {
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut booked = Vec::new();
    for (n, client) in app.many_users(100, 4).await.into_iter().enumerate() {
        let reply = app.book(&client, "anna", &service, &slot(&format!("{:02}:00", 9 + n))).await;
        let id = reply.ok()["id"].as_str().unwrap().to_owned();
        booked.push((client, id));
    }
    (provider, service, booked)
}

async fn join(app: &TestApp, token: &str, body: Value) -> crate::helpers::Reply {
    app.request("POST", "/api/waitlist", Some(token), Some(body)).await
}

async fn a_client_joins_replaces_lists_and_leaves_an_entry(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, service, _) = full_day(&app).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let body = json!({ "provider": "anna", "service": service, "date": DAY, "from": "10:00", "to": "12:00" });
    let joined = join(&app, &carol, body).await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let id = joined.body["id"].as_str().unwrap().to_owned();
    assert_eq!((joined.body["from"].as_str(), joined.body["to"].as_str()), (Some("10:00"), Some("12:00")));
    assert_eq!(joined.body["service_name"], "Visit");
    // Joining the same day again replaces the window of the entry there.
    let again = join(&app, &carol, json!({ "provider": "anna", "service": service, "date": DAY })).await;
    assert_eq!(again.status, 200);
    assert_eq!((again.body["id"].as_str(), again.body["from"].as_str()), (Some(id.as_str()), None));

    let mine = app.get("/api/waitlist", Some(&carol)).await;
    assert_eq!(mine.ok().as_array().unwrap().len(), 1);
    // The provider sees who waits for which day; nobody else's list shows it.
    let theirs = app.get(&format!("/api/provider/waitlist?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(theirs.ok()[0]["client_name"], "Carol");
    assert!(mine.body[0].get("client_name").is_none());
    let dave = app.dev_sign_in(3, "Dave").await;
    assert_eq!(app.get("/api/waitlist", Some(&dave)).await.ok().as_array().unwrap().len(), 0);
    assert_eq!(app.request("DELETE", &format!("/api/waitlist/{id}"), Some(&dave), None).await.status, 404);
    // It is in Carol's export, and leaving ends it.
    let export = app.get("/api/me/export", Some(&carol)).await;
    assert_eq!(export.ok()["waitlist"][0]["id"], id.as_str());
    assert_eq!(app.request("DELETE", &format!("/api/waitlist/{id}"), Some(&carol), None).await.status, 204);
    assert_eq!(app.request("DELETE", &format!("/api/waitlist/{id}"), Some(&carol), None).await.status, 404);
    assert_eq!(app.get("/api/waitlist", Some(&carol)).await.ok().as_array().unwrap().len(), 0);

    // An account deleted takes its entries along: the provider's list forgets it at once.
    assert_eq!(join(&app, &dave, json!({ "provider": "anna", "service": service, "date": DAY })).await.status, 201);
    assert_eq!(app.request("DELETE", "/api/me", Some(&dave), None).await.status, 204);
    let theirs = app.get(&format!("/api/provider/waitlist?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(theirs.ok().as_array().unwrap().len(), 0, "{}", theirs.body);
}

async fn bad_waitlist_input_is_refused_naming_the_field(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (_, service, _) = full_day(&app).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let entry = |extra: Value| {
        let mut body = json!({ "provider": "anna", "service": service, "date": DAY });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, field) in [
        (json!({ "date": "2027-13-01" }), "date"),
        (json!({ "date": "2020-01-01" }), "date"),
        (json!({ "date": "2099-01-01" }), "date"),
        (json!({ "from": "25:00" }), "from"),
        (json!({ "from": "12:00", "to": "11:00" }), "to"),
    ] {
        let refused = join(&app, &carol, entry(extra.clone())).await;
        assert_eq!(refused.problem(422).as_deref(), Some(field), "{extra}");
    }
    let unknown = entry(json!({ "service": "00000000-0000-0000-0000-000000000000" }));
    assert_eq!(join(&app, &carol, unknown).await.status, 404);
    assert_eq!(join(&app, &carol, entry(json!({ "provider": "nobody" }))).await.status, 404);
    assert_eq!(app.get("/api/waitlist", Some(&carol)).await.ok().as_array().unwrap().len(), 0, "nothing was added");

    // One client cannot flood a provider's list: a cap on days waited for.
    let day: jiff::civil::Date = DAY.parse().unwrap();
    for n in 0..20 {
        let date = day.checked_add(jiff::Span::new().days(n)).unwrap().to_string();
        assert_eq!(join(&app, &carol, entry(json!({ "date": date }))).await.status, 201);
    }
    let one_more = join(&app, &carol, entry(json!({ "date": "2027-07-01" }))).await;
    one_more.problem(409);
    assert!(one_more.body["type"].as_str().unwrap().ends_with("/waitlist-full"), "{}", one_more.body);
    // Changing the window of an entry held is no new entry.
    assert_eq!(join(&app, &carol, entry(json!({ "from": "10:00" }))).await.status, 200);
}

async fn a_freed_time_reaches_the_waitlist_once_with_two_nodes_and_the_first_to_book_gets_it(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let config = [("TELEGRAM_API_URL", fake.url.as_str()), ("PUBLIC_URL", "https://app.example.test/")];
    let Some((_db, _redis, a, b)) = two_nodes_on(backend, &config).await else { return };
    let (_, service, booked) = full_day(&a).await;
    // Three clients wait: two for any time, one only for 12:00–13:00.
    let (wendy, walt, wes) =
        (a.dev_sign_in(21, "Wendy").await, b.dev_sign_in(22, "Walt").await, a.dev_sign_in(23, "Wes").await);
    let any_time = json!({ "provider": "anna", "service": service, "date": DAY });
    assert_eq!(join(&a, &wendy, any_time.clone()).await.status, 201);
    assert_eq!(join(&b, &walt, any_time).await.status, 201);
    let late = json!({ "provider": "anna", "service": service, "date": DAY, "from": "12:00", "to": "13:00" });
    assert_eq!(join(&a, &wes, late).await.status, 201);
    // Wendy has the Mini App open, on the other node than the cancel's.
    let mut socket = open(&b).await;
    send(&mut socket, json!({ "type": "auth", "token": wendy })).await;
    assert_eq!(next_json(&mut socket, Duration::from_secs(5)).await.unwrap()["type"], "authenticated");
    // Somebody else signed in on the cancel's node, waiting for nothing.
    let sam = a.dev_sign_in(24, "Sam").await;
    let mut bystander = open(&a).await;
    send(&mut bystander, json!({ "type": "auth", "token": sam })).await;
    assert_eq!(next_json(&mut bystander, Duration::from_secs(5)).await.unwrap()["type"], "authenticated");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The 10:00 client cancels on node A.
    let (client, id) = &booked[1];
    a.request("POST", &format!("/api/bookings/{id}/cancel"), Some(client), None).await.ok();
    let told = std::time::Instant::now();
    let to_wendy = fake.wait_for_messages(21, 1, Duration::from_secs(5)).await;
    let to_walt = fake.wait_for_messages(22, 1, Duration::from_secs(5)).await;
    // A figure to read, not a target: speed is measured by `loadtest`, not asserted here.
    let within = told.elapsed();
    eprintln!("{backend:?}: the freed time reached both waiting clients at the Bot API {within:?} after the cancel");
    assert_eq!((to_wendy.len(), to_walt.len()), (1, 1), "both waiting clients told");
    let text = to_wendy[0].body["text"].as_str().unwrap();
    assert!(text.contains("Visit") && text.contains("10:00"), "{text}");
    let button = &to_wendy[0].body["reply_markup"]["inline_keyboard"][0][0];
    let url = button["web_app"]["url"].as_str().unwrap();
    assert!(url.contains("startapp=anna") && url.contains(&format!("service={service}")), "{url}");
    let offer = next_json(&mut socket, Duration::from_secs(2)).await.expect("an offer frame");
    assert_eq!((offer["type"].as_str(), offer["start"].as_str()), (Some("offer"), Some(slot("10:00").as_str())));
    assert_eq!(offer["service"], service.as_str());
    let overheard = next_json(&mut bystander, Duration::from_millis(500)).await;
    assert!(overheard.is_none(), "an offer reached a session of someone else: {overheard:?}");

    // Once: however many nodes, and not to the client outside their window.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((fake.messages_to(21).len(), fake.messages_to(22).len(), fake.messages_to(23).len()), (1, 1, 0));

    // Wendy books from the offer; Walt, a moment later, finds it gone and keeps his place.
    let start = offer["start"].as_str().unwrap();
    assert_eq!(b.book(&wendy, "anna", &service, start).await.status, 201);
    let late = a.book(&walt, "anna", &service, start).await;
    late.problem(409);
    assert_eq!(a.get("/api/waitlist", Some(&walt)).await.ok().as_array().unwrap().len(), 1, "Walt keeps his place");
    assert_eq!(a.get("/api/waitlist", Some(&wendy)).await.ok().as_array().unwrap().len(), 0, "Wendy is done waiting");
}

async fn a_class_seat_freed_is_offered_and_new_hours_are_too(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let config = [("TELEGRAM_API_URL", fake.url.as_str())];
    let app = spawn_app_with(backend, &config).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("10:00", "11:00")).await;
    let patch = json!({ "capacity": 2 });
    app.request("PATCH", &format!("/api/provider/services/{service}"), Some(&provider), Some(patch)).await.ok();
    let seats: Vec<String> = app.many_users(100, 2).await;
    let mut ids = Vec::new();
    for client in &seats {
        ids.push(app.book(client, "anna", &service, &slot("10:00")).await.ok()["id"].as_str().unwrap().to_owned());
    }
    let wendy = app.dev_sign_in(21, "Wendy").await;
    assert_eq!(join(&app, &wendy, json!({ "provider": "anna", "service": service, "date": DAY })).await.status, 201);
    // A seat cancelled: offered.
    app.request("POST", &format!("/api/bookings/{}/cancel", ids[0]), Some(&seats[0]), None).await.ok();
    let told = fake.wait_for_messages(21, 1, Duration::from_secs(5)).await;
    assert_eq!(told.len(), 1, "the freed seat is offered");
    assert!(told[0].body["text"].as_str().unwrap().contains("10:00"));
    // Retaken, then the provider opens an extra hour: offered too, once.
    app.book(&seats[0], "anna", &service, &slot("10:00")).await.ok();
    app.request("PUT", "/api/provider/schedule", Some(&provider), Some(every_day("10:00", "12:00"))).await.ok();
    let told = fake.wait_for_messages(21, 2, Duration::from_secs(5)).await;
    assert_eq!(told.len(), 2, "the new hour is offered");
    assert!(told[1].body["text"].as_str().unwrap().contains("11:00"), "{}", told[1].body);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fake.messages_to(21).len(), 2, "each time once");
}

/// The Mini App's own offers socket signs in with `feed: false`: a
/// provider's bookings reach their screens' socket, not that one too.
async fn a_socket_signed_in_without_the_feed_hears_no_bookings(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let mut sockets = Vec::new();
    for frame in
        [json!({ "type": "auth", "token": provider }), json!({ "type": "auth", "token": provider, "feed": false })]
    {
        let mut socket = open(&app).await;
        send(&mut socket, frame).await;
        assert_eq!(next_json(&mut socket, Duration::from_secs(5)).await.unwrap()["type"], "authenticated");
        sockets.push(socket);
    }
    let client = app.dev_sign_in(2, "Carol").await;
    app.book(&client, "anna", &service, &slot("10:00")).await.ok();
    let feed = next_json(&mut sockets[0], Duration::from_secs(5)).await.expect("the feed hears the booking");
    assert_eq!(feed["type"], "booking");
    assert!(next_json(&mut sockets[1], Duration::from_millis(700)).await.is_none(), "feed: false heard the feed");
}

/// The entry ends in the booking's transaction, so a visit the provider
/// books for a waiting client ends it just as her own booking does; an
/// entry for another service that day stays.
async fn a_booking_of_the_day_ends_the_entry_whoever_makes_it(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let (provider, service, booked) = full_day(&app).await;
    let other = app
        .request(
            "POST",
            "/api/provider/services",
            Some(&provider),
            Some(json!({ "name": "Long visit", "duration_min": 60 })),
        )
        .await;
    let other = other.ok()["id"].as_str().unwrap().to_owned();
    let carol = app.dev_sign_in(2, "Carol").await;
    // Carol is a client of Anna's (a visit the day before), and waits for the full day.
    let day_before = "2027-05-31T09:00:00+02:00";
    app.book(&carol, "anna", &service, day_before).await.ok();
    for waited in [&service, &other] {
        let body = json!({ "provider": "anna", "service": waited, "date": DAY });
        assert_eq!(join(&app, &carol, body).await.status, 201);
    }
    // A time frees; Anna books Carol into it from her card.
    let (client, id) = &booked[1];
    app.request("POST", &format!("/api/bookings/{id}/cancel"), Some(client), None).await.ok();
    let clients = app.get("/api/provider/clients", Some(&provider)).await;
    let card = clients.ok().as_array().unwrap().iter().find(|c| c["name"] == "Carol").cloned().expect("Carol's card");
    let body = json!({ "client_id": card["id"], "service": service, "start": slot("10:00") });
    let made = app.request("POST", "/api/provider/bookings", Some(&provider), Some(body)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let mine = app.get("/api/waitlist", Some(&carol)).await;
    let waiting: Vec<&str> = mine.ok().as_array().unwrap().iter().filter_map(|e| e["service_name"].as_str()).collect();
    assert_eq!(waiting, ["Long visit"], "only the entry for the service booked ended");
}
