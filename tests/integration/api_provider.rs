//! Provider profile, services and schedule: validation and ownership.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, every_day, on_both_backends, spawn_app};

on_both_backends!(
    profile_is_created_updated_and_validated,
    slug_taken_is_a_409_on_the_field,
    services_are_managed_and_validated,
    schedule_is_replaced_and_validated,
    only_the_owner_changes_a_providers_data,
    bad_bodies_get_problem_json_and_change_nothing,
);

fn profile(slug: &str) -> Value {
    json!({ "slug": slug, "display_name": "Anna Nails", "business_name": "Anna's Studio",
        "contacts": "+49 30 1234567\nKastanienallee 1, Berlin", "timezone": "Europe/Berlin" })
}

async fn signed_in(app: &TestApp, id: i64) -> String {
    app.dev_sign_in(id, "Provider").await
}

async fn profile_is_created_updated_and_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = signed_in(&app, 1).await;
    app.get("/api/provider", Some(&token)).await.problem(404);

    let created = app.request("PUT", "/api/provider", Some(&token), Some(profile("anna-nails"))).await;
    let body = created.ok();
    assert_eq!(body["slug"], "anna-nails");
    assert_eq!(body["slot_step_min"], 30, "default rules");
    assert_eq!(body["reminder_offsets_min"], json!([1440, 120]));

    let mut change = profile("anna-nails");
    change["timezone"] = json!("america/new_york");
    change["requires_confirmation"] = json!(true);
    change["min_notice_min"] = json!(180);
    let updated = app.request("PUT", "/api/provider", Some(&token), Some(change)).await;
    assert_eq!(updated.ok()["id"], body["id"]);
    assert_eq!(updated.body["timezone"], "America/New_York", "canonical IANA spelling");
    assert_eq!(updated.body["requires_confirmation"], true);
    assert_eq!(updated.body["slot_step_min"], 30, "left-out rules keep their value");

    let public = app.get("/api/providers/anna-nails", None).await;
    assert_eq!(public.ok()["display_name"], "Anna Nails");
    assert_eq!(public.body["min_notice_min"], 180);
    assert!(public.body.get("id").is_none() && public.body.get("user_id").is_none());
}

async fn slug_taken_is_a_409_on_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let anna = signed_in(&app, 1).await;
    let bob = signed_in(&app, 2).await;
    app.request("PUT", "/api/provider", Some(&anna), Some(profile("studio"))).await.ok();
    let reply = app.request("PUT", "/api/provider", Some(&bob), Some(profile("studio"))).await;
    assert_eq!(reply.problem(409).as_deref(), Some("slug"));
    assert_eq!(reply.body["type"], "/problems/slug-taken");
    app.get("/api/provider", Some(&bob)).await.problem(404);
}

async fn services_are_managed_and_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = signed_in(&app, 1).await;
    let add = json!({ "name": "Manicure", "duration_min": 60 });
    app.request("POST", "/api/provider/services", Some(&token), Some(add.clone())).await.problem(404);
    app.request("PUT", "/api/provider", Some(&token), Some(profile("anna"))).await.ok();

    let created = app
        .request("POST", "/api/provider/services", Some(&token),
            Some(json!({ "name": "Manicure", "duration_min": 60, "price_minor": 3500, "currency": "eur", "buffer_after_min": 15 })))
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["currency"], "EUR");
    assert_eq!(created.body["buffer_before_min"], 0);

    let patched = app
        .request(
            "PATCH",
            &format!("/api/provider/services/{id}"),
            Some(&token),
            Some(json!({ "duration_min": 90, "price_minor": null, "currency": null })),
        )
        .await;
    assert_eq!(patched.ok()["duration_min"], 90);
    assert_eq!(patched.body["price_minor"], Value::Null);
    assert_eq!(patched.body["name"], "Manicure");

    for (body, field) in [
        (json!({ "name": "X", "duration_min": 0 }), "duration_min"),
        (json!({ "name": "X", "duration_min": -5 }), "duration_min"),
        (json!({ "name": "X", "duration_min": 70000 }), "duration_min"),
        (json!({ "name": "", "duration_min": 30 }), "name"),
        (json!({ "duration_min": 30 }), "name"),
        (json!({ "name": "X", "duration_min": 30, "price_minor": 100 }), "currency"),
        (json!({ "name": "X", "duration_min": 30, "price_minor": -1, "currency": "EUR" }), "price_minor"),
        (json!({ "name": "X", "duration_min": 30, "currency": "EURO" }), "currency"),
        (json!({ "name": "X", "duration_min": 30, "buffer_before_min": 10000 }), "buffer_before_min"),
    ] {
        let reply = app.request("POST", "/api/provider/services", Some(&token), Some(body.clone())).await;
        assert_eq!(reply.problem(422).as_deref(), Some(field), "{body}");
    }
    let reply = app.request("PATCH", "/api/provider/services/not-a-uuid", Some(&token), Some(json!({}))).await;
    assert_eq!(reply.problem(422).as_deref(), Some("id"));

    let list = app.get("/api/provider/services", Some(&token)).await;
    assert_eq!(list.ok().as_array().unwrap().len(), 1, "no invalid service was stored");

    let retired = app.request("DELETE", &format!("/api/provider/services/{id}"), Some(&token), None).await;
    assert_eq!(retired.status, 204);
    assert_eq!(app.get("/api/provider/services", Some(&token)).await.body[0]["active"], false);
    assert_eq!(app.get("/api/providers/anna", None).await.body["services"], json!([]));
}

async fn schedule_is_replaced_and_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = signed_in(&app, 1).await;
    app.request("PUT", "/api/provider", Some(&token), Some(profile("anna"))).await.ok();
    let schedule = json!({
        "weekly": [
            { "weekday": 1, "start": "14:00", "end": "18:00" },
            { "weekday": 1, "start": "09:00", "end": "13:00" },
            { "weekday": 5, "start": "18:00", "end": "24:00" }
        ],
        "overrides": [
            { "date": "2027-12-24", "closed": true },
            { "date": "2027-12-31", "intervals": [{ "start": "10:00", "end": "12:00" }] }
        ]
    });
    let saved = app.request("PUT", "/api/provider/schedule", Some(&token), Some(schedule)).await;
    assert_eq!(saved.ok()["weekly"][0], json!({ "weekday": 1, "start": "09:00", "end": "13:00" }), "sorted");
    assert_eq!(saved.body["weekly"][2]["end"], "24:00");
    assert_eq!(saved.body["overrides"][0], json!({ "date": "2027-12-24", "closed": true, "intervals": [] }));
    let read = app.get("/api/provider/schedule", Some(&token)).await;
    assert_eq!(read.ok(), saved.ok());

    let day = |weekday: i64, start: &str, end: &str| json!({ "weekday": weekday, "start": start, "end": end });
    for (body, field) in [
        (json!({ "weekly": [day(1, "18:00", "09:00")] }), "weekly[0].end"),
        (json!({ "weekly": [day(1, "09:00", "09:00")] }), "weekly[0].end"),
        (json!({ "weekly": [day(1, "09:00", "12:00"), day(1, "11:00", "13:00")] }), "weekly[1].start"),
        (json!({ "weekly": [day(8, "09:00", "12:00")] }), "weekly[0].weekday"),
        (json!({ "weekly": [day(1, "9:00", "12:00")] }), "weekly[0].start"),
        (json!({ "weekly": [day(1, "09:00", "24:30")] }), "weekly[0].end"),
        (json!({ "weekly": [], "overrides": [{ "date": "2027-02-30", "closed": true }] }), "overrides[0].date"),
        (json!({ "weekly": [], "overrides": [{ "date": "31.12.2027", "closed": true }] }), "overrides[0].date"),
        (json!({ "weekly": [], "overrides": [{ "date": "2027-12-31" }] }), "overrides[0].intervals"),
        (
            json!({ "weekly": [], "overrides": [{ "date": "2027-12-31", "closed": true, "intervals": [{ "start": "10:00", "end": "11:00" }] }] }),
            "overrides[0].intervals",
        ),
        (
            json!({ "weekly": [], "overrides": [{ "date": "2027-12-31", "closed": true }, { "date": "2027-12-31", "closed": true }] }),
            "overrides[1].date",
        ),
        (
            json!({ "weekly": [], "overrides": [{ "date": "2027-12-31", "intervals": [{ "start": "10:00", "end": "12:00" }, { "start": "11:00", "end": "13:00" }] }] }),
            "overrides[0].intervals[1].start",
        ),
        (json!({ "overrides": [] }), "weekly"),
    ] {
        let reply = app.request("PUT", "/api/provider/schedule", Some(&token), Some(body.clone())).await;
        assert_eq!(reply.problem(422).as_deref(), Some(field), "{body}");
    }
    assert_eq!(app.get("/api/provider/schedule", Some(&token)).await.ok(), saved.ok(), "nothing changed");
}

async fn only_the_owner_changes_a_providers_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let (anna, service) = app.provider(1, "anna", json!({}), every_day("09:00", "17:00")).await;
    let bob = signed_in(&app, 2).await;
    app.request("PUT", "/api/provider", Some(&bob), Some(profile("bob"))).await.ok();

    let path = format!("/api/provider/services/{service}");
    app.request("PATCH", &path, Some(&bob), Some(json!({ "name": "Hijacked" }))).await.problem(404);
    app.request("DELETE", &path, Some(&bob), None).await.problem(404);
    assert!(app.get("/api/provider/services", Some(&bob)).await.ok().as_array().unwrap().is_empty());
    assert_eq!(app.get("/api/provider/schedule", Some(&bob)).await.ok()["weekly"], json!([]));

    let mine = app.get("/api/provider/services", Some(&anna)).await;
    assert_eq!(mine.ok()[0]["name"], "Visit");
    assert_eq!(mine.body[0]["active"], true);
    // A provider edits only their own profile: Bob's PUT never touches Anna's.
    assert_eq!(app.get("/api/provider", Some(&anna)).await.ok()["slug"], "anna");
}

async fn bad_bodies_get_problem_json_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = signed_in(&app, 1).await;
    app.request("PUT", "/api/provider", Some(&token), Some(profile("anna"))).await.ok();
    let before = app.get("/api/provider", Some(&token)).await.body;

    let mut cases: Vec<(Value, &str)> = Vec::new();
    for (key, value, field) in [
        ("timezone", json!("Mars/Olympus"), "timezone"),
        ("timezone", json!("+02:00"), "timezone"),
        ("slug", json!("Anna Nails"), "slug"),
        ("slug", json!("api"), "slug"),
        ("display_name", json!(""), "display_name"),
        ("slot_step_min", json!(0), "slot_step_min"),
        ("horizon_days", json!(5000), "horizon_days"),
        ("min_notice_min", json!(-1), "min_notice_min"),
        ("reminder_offsets_min", json!([60, 60]), "reminder_offsets_min[1]"),
        ("requires_confirmation", json!("yes"), "requires_confirmation"),
        ("surprise", json!(1), "surprise"),
    ] {
        let mut body = profile("anna-2");
        body[key] = value;
        cases.push((body, field));
    }
    for (body, field) in cases {
        let reply = app.request("PUT", "/api/provider", Some(&token), Some(body.clone())).await;
        assert_eq!(reply.problem(422).as_deref(), Some(field), "{body}");
    }

    // Not JSON at all, or not declared as JSON.
    let raw = app
        .client
        .put(format!("{}/api/provider", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"slug\": ")
        .send()
        .await
        .unwrap();
    crate::helpers::read(raw).await.problem(400);
    let plain = app
        .client
        .put(format!("{}/api/provider", app.address))
        .bearer_auth(&token)
        .body(profile("anna-3").to_string())
        .send()
        .await
        .unwrap();
    crate::helpers::read(plain).await.problem(415);

    assert_eq!(app.get("/api/provider", Some(&token)).await.body, before, "nothing changed");
}
