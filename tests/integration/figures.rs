//! The provider's figures over HTTP (issue 13, DESIGN §8 `GET
//! /api/provider/stats`); the arithmetic itself is unit-tested in
//! `src/stats/tests.rs`.

use serde_json::json;

use crate::helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app};

on_both_backends!(the_figures_count_what_was_booked_in_the_range);

async fn the_figures_count_what_was_booked_in_the_range(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, visit) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let priced = json!({ "name": "Colour", "duration_min": 60, "price_minor": 8000, "currency": "EUR" });
    let colour = app.request("POST", "/api/provider/services", Some(&anna), Some(priced)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carol = app.dev_sign_in(2, "Carol").await;
    app.book(&carol, "anna", &colour, &slot("09:00")).await.ok();
    app.book(&carol, "anna", &colour, &slot("11:00")).await.ok();
    let cancelled = app.book(&carol, "anna", &visit, &slot("12:00")).await.ok()["id"].as_str().unwrap().to_owned();
    app.request("POST", &format!("/api/bookings/{cancelled}/cancel"), Some(&carol), None).await.ok();

    let stats = app.get(&format!("/api/provider/stats?from={DAY}&to={DAY}"), Some(&anna)).await;
    let figures = stats.ok();
    assert_eq!((figures["bookings"].as_u64(), figures["cancelled"].as_u64()), (Some(2), Some(1)), "{figures}");
    assert_eq!((figures["revenue_minor"].as_i64(), figures["currency"].as_str()), (Some(16000), Some("EUR")));
    // 2027-06-01 is a Tuesday; 09:00 and 11:00 Berlin time.
    assert_eq!(figures["by_weekday"], json!([0, 2, 0, 0, 0, 0, 0]));
    assert_eq!((figures["by_hour"][9].as_u64(), figures["by_hour"][11].as_u64()), (Some(1), Some(1)));
    assert_eq!(figures["by_week"], json!([{ "week": "2027-05-31", "bookings": 2, "revenue_minor": 16000 }]));
    assert_eq!(figures["no_show_rate"], serde_json::Value::Null);

    // Another day: nothing; a range past a year or backwards: refused on `to`.
    let empty = app.get("/api/provider/stats?from=2027-07-01&to=2027-07-31", Some(&anna)).await;
    assert_eq!(empty.ok()["bookings"], 0);
    let year = app.get("/api/provider/stats?from=2027-01-01&to=2028-12-31", Some(&anna)).await;
    assert_eq!(year.problem(422).as_deref(), Some("to"));
    let backwards = app.get("/api/provider/stats?from=2027-07-01&to=2027-06-01", Some(&anna)).await;
    assert_eq!(backwards.problem(422).as_deref(), Some("to"));
    // By default: the twelve weeks through today.
    let default = app.get("/api/provider/stats", Some(&anna)).await;
    // 84 days: twelve weeks when they start on a Monday, else thirteen touched.
    let weeks = default.ok()["by_week"].as_array().map_or(0, Vec::len);
    assert!((12..=13).contains(&weeks), "{}", default.body);
}
