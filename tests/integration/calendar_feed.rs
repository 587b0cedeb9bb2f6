//! The iCalendar output (issue 13, DESIGN §8): the provider's secret feed and
//! a client's .ics, read back by an iCalendar parser that is not ours
//! (Python's `icalendar`, from PyPI; `.ci/run` installs it) across the
//! autumn DST change in Berlin.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, every_day, on_both_backends, skip_loudly, spawn_app};

on_both_backends!(
    the_feed_parses_elsewhere_and_matches_the_bookings_across_dst,
    a_client_adds_only_their_own_booking_to_their_calendar,
);

/// Reads the calendar on stdin with `icalendar` and prints what a calendar
/// app would take from it, with every parse error the library noticed.
const PARSE: &str = r#"
import json, sys, datetime, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
errors = [str(e) for c in cal.walk() for e in getattr(c, "errors", [])]
def utc(prop):
    return prop.dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
events = [{"uid": str(e["UID"]), "start": utc(e["DTSTART"]), "end": utc(e["DTEND"]),
           "status": str(e["STATUS"]), "sequence": int(e["SEQUENCE"]), "summary": str(e["SUMMARY"]),
           "description": str(e.get("DESCRIPTION", ""))} for e in cal.walk("VEVENT")]
print(json.dumps({"version": str(cal["VERSION"]), "name": str(cal.get("X-WR-CALNAME", "")),
                  "errors": errors, "events": events}))
"#;

/// A Python with `icalendar`, or `None` after saying loudly why not.
fn python() -> Option<String> {
    let python = std::env::var("ICALENDAR_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python).args(["-c", "import icalendar"]).output();
    match found {
        Ok(output) if output.status.success() => Some(python),
        _ => {
            let reason = format!(
                "`{python}` cannot import icalendar; `pip install icalendar` and set ICALENDAR_PYTHON, \
                 or `bash .ci/run`"
            );
            skip_loudly("the iCalendar suite", &reason);
            None
        }
    }
}

/// The calendar as the independent parser reads it.
fn parse(python: &str, ics: &str) -> Value {
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().expect("stdin").write_all(ics.as_bytes()).expect("the calendar is written");
    let output = child.wait_with_output().expect("python ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "icalendar refused the output: {stderr}\n{ics}");
    let parsed: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");
    assert_eq!(parsed["errors"], json!([]), "{ics}");
    assert_eq!(parsed["version"], "2.0");
    parsed
}

/// Berlin leaves summer time on 31 October 2027: 10:00 is 08:00Z before it,
/// 09:00Z after.
const BEFORE_DST: &str = "2027-10-30";
const AFTER_DST: &str = "2027-11-01";

async fn get_text(app: &TestApp, url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, response.text().await.unwrap_or_default())
}

async fn the_feed_parses_elsewhere_and_matches_the_bookings_across_dst(backend: Backend) {
    let Some(python) = python() else { return };
    let app = spawn_app(backend).await;
    let profile = json!({ "display_name": "Anna; Hair, Nails" });
    let (anna, service) = app.provider(1, "anna", profile, every_day("09:00", "13:00")).await;
    let (carol, dora, emil) =
        (app.dev_sign_in(2, "Carol; C, Jr").await, app.dev_sign_in(3, "Dora").await, app.dev_sign_in(4, "Emil").await);
    let book =
        |start: String| json!({ "provider": "anna", "service": service, "start": start, "note": "gate code 4711" });
    let mut ids = Vec::new();
    for (token, start) in [
        (&carol, format!("{BEFORE_DST}T10:00:00+02:00")),
        (&dora, format!("{AFTER_DST}T10:00:00+01:00")),
        (&emil, format!("{BEFORE_DST}T12:00:00+02:00")),
    ] {
        let booked = app.request("POST", "/api/bookings", Some(token), Some(book(start))).await;
        ids.push(booked.ok()["id"].as_str().expect("an id").to_owned());
    }
    let [carols, doras, emils] = <[String; 3]>::try_from(ids).expect("three bookings");
    // Emil cancels (stays in the feed as cancelled); Carol moves to 11:00.
    app.request("POST", &format!("/api/bookings/{emils}/cancel"), Some(&emil), None).await.ok();
    let moved = json!({ "start": format!("{BEFORE_DST}T11:00:00+02:00") });
    app.request("POST", &format!("/api/bookings/{carols}/reschedule"), Some(&carol), Some(moved)).await.ok();

    let issued = app.request("POST", "/api/provider/calendar-feed", Some(&anna), None).await;
    let url = issued.ok()["url"].as_str().expect("a feed url").to_owned();
    assert!(url.starts_with(&format!("{}/api/provider/calendar.ics?key=", app.address)), "{url}");
    let (status, content_type, ics) = get_text(&app, &url, None).await;
    assert_eq!(status, 200, "{ics}");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let feed = parse(&python, &ics);
    // X-WR-CALNAME is no standard property: the parser keeps it raw.
    assert_eq!(feed["name"], "Just Book Me — Anna\\; Hair\\, Nails");
    let mut events = feed["events"].as_array().expect("events").clone();
    events.sort_by_key(|e| e["start"].as_str().unwrap_or_default().to_owned());
    let seen: Vec<(String, &str, &str, &str, i64)> = events
        .iter()
        .map(|e| {
            (
                e["uid"].as_str().unwrap().to_owned(),
                e["start"].as_str().unwrap(),
                e["end"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
                e["sequence"].as_i64().unwrap(),
            )
        })
        .collect();
    let uid = |id: &str| format!("{id}@justbookme");
    assert_eq!(
        seen,
        [
            (uid(&carols), "2027-10-30T09:00:00Z", "2027-10-30T10:00:00Z", "CONFIRMED", 1),
            (uid(&emils), "2027-10-30T10:00:00Z", "2027-10-30T11:00:00Z", "CANCELLED", 1),
            (uid(&doras), "2027-11-01T09:00:00Z", "2027-11-01T10:00:00Z", "CONFIRMED", 0),
        ]
    );
    assert_eq!(events[0]["summary"], "Visit — Carol; C, Jr", "escaped text reads back whole");
    assert!(!ics.contains("gate code"), "the client's note stays in the app");

    // Another change bumps the SEQUENCE again; the UID stays.
    app.request("POST", &format!("/api/bookings/{carols}/cancel"), Some(&carol), None).await.ok();
    let again = parse(&python, &get_text(&app, &url, None).await.2);
    let carol_event = again["events"].as_array().unwrap().iter().find(|e| e["uid"] == uid(&carols)).cloned();
    let carol_event = carol_event.expect("still in the feed");
    assert_eq!((carol_event["status"].as_str(), carol_event["sequence"].as_i64()), (Some("CANCELLED"), Some(2)));

    // Replaced: the old URL is dead at once; revoked: the new one too.
    let rotated = app.request("POST", "/api/provider/calendar-feed", Some(&anna), None).await;
    let new_url = rotated.ok()["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(get_text(&app, &url, None).await.0, 404);
    assert_eq!(get_text(&app, &new_url, None).await.0, 200);
    assert_eq!(app.request("DELETE", "/api/provider/calendar-feed", Some(&anna), None).await.status, 204);
    let (status, content_type, _) = get_text(&app, &new_url, None).await;
    assert_eq!((status, content_type.as_str()), (404, "application/problem+json"));

    // Nobody else's key opens Anna's feed; a client without a provider profile has none.
    let bob = app.provider(5, "bob", json!({}), every_day("09:00", "13:00")).await.0;
    let bobs = app.request("POST", "/api/provider/calendar-feed", Some(&bob), None).await;
    let bobs_feed = parse(&python, &get_text(&app, bobs.ok()["url"].as_str().unwrap(), None).await.2);
    assert_eq!(bobs_feed["events"], json!([]));
    assert_eq!(app.request("POST", "/api/provider/calendar-feed", Some(&carol), None).await.status, 404);
    let guessed = format!("{}/api/provider/calendar.ics?key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", app.address);
    assert_eq!(get_text(&app, &guessed, None).await.0, 404);
    assert_eq!(app.get("/api/provider/calendar.ics", None).await.problem(422).as_deref(), Some("key"));
}

async fn a_client_adds_only_their_own_booking_to_their_calendar(backend: Backend) {
    let Some(python) = python() else { return };
    let app = spawn_app(backend).await;
    let (_, service) = app.provider(1, "anna", json!({ "display_name": "Anna" }), every_day("09:00", "13:00")).await;
    let carol = app.dev_sign_in(2, "Carol").await;
    let dora = app.dev_sign_in(3, "Dora").await;
    let body = json!({ "provider": "anna", "service": service, "start": format!("{AFTER_DST}T10:00:00+01:00"),
        "note": "window seat, please" });
    let id =
        app.request("POST", "/api/bookings", Some(&carol), Some(body)).await.ok()["id"].as_str().unwrap().to_owned();
    let path = format!("{}/api/bookings/{id}/ics", app.address);

    let (status, content_type, ics) = get_text(&app, &path, Some(&carol)).await;
    assert_eq!((status, content_type.as_str()), (200, "text/calendar; charset=utf-8"), "{ics}");
    let file = parse(&python, &ics);
    let event = &file["events"][0];
    assert_eq!(file["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (event["start"].as_str(), event["end"].as_str()),
        (Some("2027-11-01T09:00:00Z"), Some("2027-11-01T10:00:00Z"))
    );
    assert_eq!(
        (event["summary"].as_str(), event["description"].as_str()),
        (Some("Visit — Anna"), Some("window seat, please"))
    );
    assert_eq!(event["uid"], format!("{id}@justbookme"));

    assert_eq!(get_text(&app, &path, Some(&dora)).await.0, 404, "another client's booking does not exist for Dora");
    assert_eq!(get_text(&app, &path, None).await.0, 401);
}
