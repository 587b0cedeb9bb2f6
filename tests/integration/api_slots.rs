//! Free slots over HTTP: DST-correct, minus bookings with buffers, validated.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app};

on_both_backends!(
    berlin_keeps_nine_slots_across_the_spring_switch,
    new_york_has_no_slot_in_the_missing_hour,
    bookings_and_their_buffers_are_not_offered,
    slot_queries_are_validated,
    a_booking_being_moved_frees_its_own_time_for_its_owner_only,
    a_month_of_slots_travels_gzipped_to_a_client_that_accepts_it,
);

fn starts(reply: &Value) -> Vec<String> {
    reply["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap().to_owned()).collect()
}

async fn berlin_keeps_nine_slots_across_the_spring_switch(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "berlin", json!({}), every_day("09:00", "18:00")).await;
    let reply =
        app.get(&format!("/api/providers/berlin/slots?service={service}&from=2027-03-27&to=2027-03-29"), None).await;
    let body = reply.ok();
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(body["provider"], "berlin");
    let starts = starts(body);
    for (day, offset) in [("2027-03-27", "+01:00"), ("2027-03-28", "+02:00"), ("2027-03-29", "+02:00")] {
        let expected: Vec<String> = (9..18).map(|h| format!("{day}T{h:02}:00:00{offset}")).collect();
        let actual: Vec<String> = starts.iter().filter(|s| s.starts_with(day)).cloned().collect();
        assert_eq!(actual, expected);
    }
    assert_eq!(body["slots"][0]["end"], "2027-03-27T10:00:00+01:00");
}

async fn new_york_has_no_slot_in_the_missing_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let profile = json!({ "timezone": "America/New_York", "slot_step_min": 30 });
    let (token, _) = app.provider(1, "nyc", profile, every_day("00:00", "06:00")).await;
    let short = app
        .request("POST", "/api/provider/services", Some(&token), Some(json!({ "name": "Quick", "duration_min": 30 })))
        .await;
    let service = short.ok()["id"].as_str().unwrap().to_owned();
    let reply =
        app.get(&format!("/api/providers/nyc/slots?service={service}&from=2027-03-14&to=2027-03-14"), None).await;
    let starts = starts(reply.ok());
    assert!(starts.iter().all(|s| !s.starts_with("2027-03-14T02:")), "{starts:?}");
    assert!(starts.contains(&"2027-03-14T01:30:00-05:00".to_owned()));
    assert!(starts.contains(&"2027-03-14T03:00:00-04:00".to_owned()));
    assert_eq!(starts.len(), 10, "5 real hours, two 30-minute slots each: {starts:?}");
}

async fn bookings_and_their_buffers_are_not_offered(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, _) = app.provider(1, "buffers", json!({}), every_day("09:00", "13:00")).await;
    let buffered = app
        .request(
            "POST",
            "/api/provider/services",
            Some(&token),
            Some(json!({ "name": "Color", "duration_min": 60, "buffer_before_min": 30, "buffer_after_min": 30 })),
        )
        .await;
    let service: Uuid = buffered.ok()["id"].as_str().unwrap().parse().unwrap();

    // A client books 10:00–11:00 local; with buffers it occupies 09:30–11:30.
    let client = app.dev_sign_in(50, "Client").await;
    let booked = app
        .request(
            "POST",
            "/api/bookings",
            Some(&client),
            Some(json!({ "provider": "buffers", "service": service, "start": "2027-06-01T10:00:00+02:00" })),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    let reply =
        app.get(&format!("/api/providers/buffers/slots?service={service}&from=2027-06-01&to=2027-06-01"), None).await;
    // Open 09–13 local; booked 10–11 with buffers 09:30–11:30. A new 60-minute
    // visit needs 30 free minutes either side: only 12:00 fits.
    assert_eq!(starts(reply.ok()), ["2027-06-01T12:00:00+02:00"]);
}

async fn slot_queries_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "18:00")).await;
    for (query, status, field) in [
        ("".to_owned(), 422, Some("service")),
        ("service=nope".to_owned(), 422, Some("service")),
        (format!("service={service}&from=2027-13-01"), 422, Some("from")),
        (format!("service={service}&from=tomorrow"), 422, Some("from")),
        (format!("service={service}&from=2027-03-10&to=2027-03-01"), 422, Some("to")),
        (format!("service={service}&from=2027-01-01&to=2027-12-31"), 422, Some("to")),
        (format!("service={service}&service={service}"), 400, Some("service")),
        (format!("service={}", Uuid::now_v7()), 404, None),
    ] {
        let reply = app.get(&format!("/api/providers/anna/slots?{query}"), None).await;
        assert_eq!(reply.problem(status).as_deref(), field, "{query}");
    }
    app.get(&format!("/api/providers/nobody/slots?service={service}"), None).await.problem(404);
    let week = app.get(&format!("/api/providers/anna/slots?service={service}"), None).await;
    assert!(!week.ok()["slots"].as_array().unwrap().is_empty(), "defaults to the coming week");
}

/// `moving=<booking>`: where a booking may go, its own time counted free —
/// but only for the client who holds it or its provider.
async fn a_booking_being_moved_frees_its_own_time_for_its_owner_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) =
        app.provider(1, "mover", json!({ "slot_step_min": 30 }), every_day("09:00", "18:00")).await;
    let client = app.dev_sign_in(2, "Client").await;
    let stranger = app.dev_sign_in(3, "Stranger").await;
    let booking = app.book(&client, "mover", &service, &slot("10:00")).await;
    let id = booking.ok()["id"].as_str().expect("id").to_owned();
    let path = format!("/api/providers/mover/slots?service={service}&from={DAY}&to={DAY}");

    let plain = starts(app.get(&path, None).await.ok());
    for taken in ["09:30", "10:00", "10:30"] {
        assert!(!plain.contains(&slot(taken)), "{taken} overlaps the booking: {plain:?}");
    }
    let moving = format!("{path}&moving={id}");
    for token in [&client, &provider] {
        let free = starts(app.get(&moving, Some(token)).await.ok());
        for own in ["09:30", "10:00", "10:30"] {
            assert!(free.contains(&slot(own)), "{own} is only held by the booking being moved: {free:?}");
        }
    }
    app.get(&moving, Some(&stranger)).await.problem(404);
    app.get(&moving, None).await.problem(404);
    let unknown = format!("{path}&moving={}", Uuid::now_v7());
    app.get(&unknown, Some(&client)).await.problem(404);
    let field = app.get(&format!("{path}&moving=nope"), Some(&client)).await.problem(422);
    assert_eq!(field.as_deref(), Some("moving"));

    let moved = app
        .request(
            "POST",
            &format!("/api/bookings/{id}/reschedule"),
            Some(&client),
            Some(json!({ "start": slot("10:30") })),
        )
        .await;
    assert_eq!(moved.ok()["start"], slot("10:30"), "a move onto its own old time is allowed");
}

/// JSON over 1 KiB goes gzipped when accepted (issue 15); small answers and
/// clients that do not accept gzip get it as it is.
async fn a_month_of_slots_travels_gzipped_to_a_client_that_accepts_it(backend: Backend) {
    use std::io::Read;
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({}), every_day("09:00", "18:00")).await;
    let url = format!("{}/api/providers/anna/slots?service={service}&from=2027-06-01&to=2027-07-01", app.address);
    let get = |accept: &'static str| {
        let request = app.client.get(&url);
        async move {
            let request = if accept.is_empty() { request } else { request.header("accept-encoding", accept) };
            let response = request.send().await.expect("slots");
            let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
            let (encoding, vary) = (header("content-encoding"), header("vary"));
            (encoding, vary, response.bytes().await.expect("body").to_vec())
        }
    };
    let (encoding, vary, plain) = get("").await;
    assert_eq!(encoding, None, "not asked for: not compressed");
    assert!(plain.len() > 10_000, "a month of slots is large: {} bytes", plain.len());
    assert!(vary.is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
    let (encoding, _, zipped) = get("br;q=1.0, gzip;q=0.8").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice()).read_to_end(&mut unzipped).expect("valid gzip");
    assert_eq!(
        serde_json::from_slice::<Value>(&unzipped).unwrap(),
        serde_json::from_slice::<Value>(&plain).unwrap(),
        "the same answer"
    );
    eprintln!("{backend:?}: 31 days of slots, {} bytes of JSON, {} gzipped", plain.len(), zipped.len());
    assert!(zipped.len() * 4 < plain.len(), "{} → {}", plain.len(), zipped.len());
    let (encoding, _, _) = get("gzip;q=0").await;
    assert_eq!(encoding, None, "refused with q=0");

    // A small answer is not worth it.
    let small = app.client.get(format!("{}/api/providers/anna", app.address)).header("accept-encoding", "gzip");
    let small = small.send().await.unwrap();
    assert!(small.headers().get("content-encoding").is_none(), "{:?}", small.headers());
}
