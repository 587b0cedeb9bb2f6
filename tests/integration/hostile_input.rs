//! Hostile input (issue 16): dates that cannot become instants, an OpenAPI
//! document that must match what the server answers, and names made of
//! invisible or direction-changing characters.

use serde_json::{Value, json};

use crate::helpers::{BOT_TOKEN, Backend, DAY, every_day, now_unix, on_both_backends, sign_init_data, slot, spawn_app};

on_both_backends!(
    far_dates_are_refused_never_unbounded,
    names_refuse_invisible_and_bidi_characters,
    telegram_names_are_kept_but_cannot_disguise_a_booking,
    the_openapi_document_matches_the_server,
);

async fn far_dates_are_refused_never_unbounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);

    // 9999-12-31 is a date, but no instant: it once became an unbounded range.
    // As `to` it has no end (no next midnight), refused before `from` is read.
    for (query, field) in [
        ("from=9999-12-31&to=9999-12-31", "to"),
        ("from=9999-12-30&to=9999-12-31", "to"),
        ("from=-009999-01-01&to=-009999-01-02", "from"),
    ] {
        let agenda = app.get(&format!("/api/provider/bookings?{query}"), Some(&provider)).await;
        assert_eq!(agenda.problem(422).as_deref(), Some(field), "{query}: {}", agenda.body);
        let slots = app.get(&format!("/api/providers/anna/slots?service={service}&{query}"), None).await;
        assert_eq!(slots.problem(422).as_deref(), Some(field), "{query}: {}", slots.body);
    }
    // The range cap always applies.
    let wide = app.get("/api/provider/bookings?from=2027-01-01&to=9999-12-31", Some(&provider)).await;
    assert_eq!(wide.problem(422).as_deref(), Some("to"));
    // And an ordinary day still answers.
    let day = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(day.ok().as_array().map(Vec::len), Some(1));
}

async fn names_refuse_invisible_and_bidi_characters(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let profile = |name: &str| json!({ "slug": "anna", "display_name": name, "timezone": "Europe/Berlin" });
    let hostile = [
        "\u{FEFF}",
        " \u{200B}\u{2060} ",
        "Anna\u{202E}nnA",
        "\u{2066}Anna\u{2069}",
        "Anna\u{200F}",
        "Anna\u{061C}",
        "An\u{200B}na",
        "\u{200D}Anna",
        "Anna\u{200C}",
    ];
    for name in hostile {
        let display = app.request("PUT", "/api/provider", Some(&provider), Some(profile(name))).await;
        assert_eq!(display.problem(422).as_deref(), Some("display_name"), "{name:?}");
        let first = app.request("PATCH", "/api/me", Some(&provider), Some(json!({ "first_name": name }))).await;
        assert_eq!(first.problem(422).as_deref(), Some("first_name"), "{name:?}");
        let body = json!({ "name": name, "duration_min": 30 });
        let added = app.request("POST", "/api/provider/services", Some(&provider), Some(body)).await;
        assert_eq!(added.problem(422).as_deref(), Some("name"), "{name:?}");
        let renamed = app
            .request(
                "PATCH",
                &format!("/api/provider/services/{service}"),
                Some(&provider),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(renamed.problem(422).as_deref(), Some("name"), "{name:?}");
        let client = app.request("POST", "/api/provider/clients", Some(&provider), Some(json!({ "name": name }))).await;
        assert_eq!(client.problem(422).as_deref(), Some("name"), "{name:?}");
    }

    // Joiners inside an emoji sequence or between letters are writing, not tricks.
    for name in ["👩\u{200D}🔧 Anna", "می\u{200C}خواهم"] {
        let display = app.request("PUT", "/api/provider", Some(&provider), Some(profile(name))).await;
        assert_eq!(display.ok()["display_name"], name);
        let first = app.request("PATCH", "/api/me", Some(&provider), Some(json!({ "first_name": name }))).await;
        assert_eq!(first.ok()["first_name"], name);
        let body = json!({ "name": name, "duration_min": 30 });
        assert_eq!(app.request("POST", "/api/provider/services", Some(&provider), Some(body)).await.ok()["name"], name);
        let client = app.request("POST", "/api/provider/clients", Some(&provider), Some(json!({ "name": name }))).await;
        assert_eq!(client.ok()["name"], name);
    }
}

/// A name as Telegram sends it is the user's own and signs in as it is; what
/// others see of it (a booking's client, the client book) shows no control
/// that could disguise it.
async fn telegram_names_are_kept_but_cannot_disguise_a_booking(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let user = json!({ "id": 777, "first_name": "Mallory\u{202E}gpj.exe", "last_name": "\u{FEFF}" }).to_string();
    let fields = [("user", user), ("auth_date", now_unix().to_string())];
    let signed_in = app
        .request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": sign_init_data(BOT_TOKEN, &fields) })))
        .await;
    let token = signed_in.ok()["token"].as_str().expect("token").to_owned();
    assert_eq!(app.get("/api/me", Some(&token)).await.ok()["first_name"], "Mallory\u{202E}gpj.exe");

    let booked = app.book(&token, "anna", &service, &slot("10:00")).await;
    assert_eq!(booked.ok()["client"]["name"], "Mallorygpj.exe");
    let agenda = app.get(&format!("/api/provider/bookings?from={DAY}&to={DAY}"), Some(&provider)).await;
    assert_eq!(agenda.ok()[0]["client"]["name"], "Mallorygpj.exe");
    let book = app.get("/api/provider/clients", Some(&provider)).await;
    assert_eq!(book.ok()[0]["name"], "Mallorygpj.exe");
}

/// Every `$ref` string anywhere in `value`.
fn refs<'v>(value: &'v Value, found: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

async fn the_openapi_document_matches_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api/openapi.json", None).await.ok().clone();

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}: not a schema"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{target} is referenced but not defined");
    }

    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("methods") {
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> =
                        response["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
                    assert_eq!(types, ["application/problem+json"], "{method} {path} {status}");
                }
            }
            let documents = |status: &str| responses.contains_key(status);
            if operation.get("requestBody").is_some() {
                assert!(documents("400") && documents("415"), "{method} {path}: malformed JSON, wrong media type");
            }
            let params = operation["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "query") {
                assert!(documents("400"), "{method} {path}: a query parameter given twice");
            }
            if params.iter().any(|p| p["in"] == "path" && p["name"] == "id") {
                assert!(documents("422"), "{method} {path}: a malformed id");
            }
        }
    }
    for path in ["/api/bookings", "/api/bookings/{id}/cancel", "/api/provider/bookings/{id}/{action}"] {
        assert!(doc["paths"][path]["post"]["responses"].get("429").is_some(), "{path}: the booking rate limit");
    }
    assert!(doc["paths"]["/ws"]["get"]["responses"].get("400").is_some(), "/ws: not a WebSocket handshake");

    // /ws answers a wrong method like the other resources, and a plain GET with a problem.
    for method in ["POST", "PUT", "DELETE"] {
        app.request(method, "/ws", None, None).await.problem(405);
    }
    app.request("PUT", "/api/me", None, None).await.problem(405);
    app.get("/ws", None).await.problem(400);
}
