//! Hostile input (issue 16): dates that cannot become instants, an OpenAPI
//! document that must match what the server answers, and names made of
//! invisible or direction-changing characters.

use serde_json::json;

use crate::helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app};

on_both_backends!(
    far_dates_are_refused_never_unbounded,
    names_refuse_invisible_and_bidi_characters,
);

async fn far_dates_are_refused_never_unbounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let (provider, service) = app.provider(1, "anna", json!({}), every_day("09:00", "13:00")).await;
    let client = app.dev_sign_in(2, "Carol").await;
    assert_eq!(app.book(&client, "anna", &service, &slot("10:00")).await.status, 201);

    // 9999-12-31 is a date, but no instant: it once became an unbounded range.
    for (query, field) in [
        ("from=9999-12-31&to=9999-12-31", "from"),
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
