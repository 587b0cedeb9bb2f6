//! Operations endpoints and the OpenAPI document.

use std::collections::BTreeSet;

use crate::helpers::{Backend, on_both_backends, spawn_app};

on_both_backends!(health_readiness_and_metrics, openapi_describes_every_route, unknown_routes_get_problem_json);

async fn health_readiness_and_metrics(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/healthz", None).await.ok()["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.ok()["status"], "ready");
    app.get("/api/providers/nobody", None).await.problem(404);
    let text = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains(r#"route="/api/providers/{slug}""#), "labelled by route pattern, not path: {text}");
    assert!(!text.contains("nobody"), "concrete paths never become labels");
    assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
}

#[actix_web::test]
async fn every_answer_carries_a_request_id_and_a_problem_names_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.address)).send();
    let header = |response: &reqwest::Response| {
        let value = response.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_owned();
        uuid::Uuid::parse_str(&value).expect("a UUID")
    };
    let ok = get("/healthz").await.unwrap();
    let (first, second) = (header(&ok), header(&get("/healthz").await.unwrap()));
    assert_ne!(first, second, "one id per request");
    for path in ["/api/providers/nobody", "/no/such/route", "/api/me"] {
        let response = get(path).await.unwrap();
        let id = header(&response);
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["instance"], format!("urn:uuid:{id}"), "{path}: {problem}");
    }
}

/// Every route the server answers (DESIGN §7 and §8 rows built so far).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/telegram"),
    ("post", "/api/auth/dev"),
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("delete", "/api/me"),
    ("get", "/api/me/export"),
    ("get", "/api/me/access-log"),
    ("put", "/api/provider"),
    ("get", "/api/provider"),
    ("get", "/api/provider/services"),
    ("post", "/api/provider/services"),
    ("patch", "/api/provider/services/{id}"),
    ("delete", "/api/provider/services/{id}"),
    ("put", "/api/provider/schedule"),
    ("get", "/api/provider/schedule"),
    ("get", "/api/providers/{slug}"),
    ("get", "/api/providers/{slug}/slots"),
    ("post", "/api/bookings"),
    ("get", "/api/bookings"),
    ("post", "/api/bookings/{id}/cancel"),
    ("post", "/api/bookings/{id}/reschedule"),
    ("post", "/api/bookings/{id}/accept-proposal"),
    ("post", "/api/bookings/{id}/decline-proposal"),
    ("post", "/api/bookings/{id}/attend"),
    ("get", "/api/waitlist"),
    ("post", "/api/waitlist"),
    ("delete", "/api/waitlist/{id}"),
    ("get", "/api/provider/waitlist"),
    ("post", "/api/provider/bookings/{id}/propose"),
    ("get", "/api/provider/bookings"),
    ("post", "/api/provider/bookings/{id}/{action}"),
    ("post", "/api/provider/bookings/{id}/reschedule"),
    ("get", "/api/provider/clients"),
    ("post", "/api/provider/clients"),
    ("get", "/api/provider/clients/{id}"),
    ("patch", "/api/provider/clients/{id}"),
    ("delete", "/api/provider/clients/{id}"),
    ("get", "/api/provider/clients/{id}/export"),
    ("get", "/api/policy"),
    ("post", "/api/me/policy-ack"),
    ("post", "/api/me/erasure-requests"),
    ("get", "/ws"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    ("get", "/api/app"),
    // DESIGN §8 "The provider's working day", built so far.
    ("post", "/api/provider/bookings"),
    ("get", "/api/provider/stats"),
    ("post", "/api/provider/calendar-feed"),
    ("delete", "/api/provider/calendar-feed"),
    ("get", "/api/provider/calendar.ics"),
    ("get", "/api/bookings/{id}/ics"),
];

async fn openapi_describes_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api/openapi.json", None).await;
    let paths = doc.ok()["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|methods| methods.keys())
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(documented, expected);
    // And each of them is really served (anything but the fallback 404).
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{slug}", "nobody")
            .replace("{action}", "confirm");
        let reply = app.request(&method.to_uppercase(), &concrete, None, None).await;
        assert_ne!(reply.body["detail"], "no such route", "{method} {path} is not routed");
    }
    // A method a path does not serve is 405, on every path (not the 404 fallback).
    for (_, path) in ROUTES {
        let served: Vec<&str> = ROUTES.iter().filter(|(_, p)| p == path).map(|(m, _)| *m).collect();
        let wrong = ["put", "patch", "delete", "post", "get"].into_iter().find(|m| !served.contains(m)).unwrap();
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{slug}", "nobody")
            .replace("{action}", "confirm");
        let reply = app.request(&wrong.to_uppercase(), &concrete, None, None).await;
        reply.problem(405);
    }
}

async fn unknown_routes_get_problem_json(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/api/nothing-here", None).await.problem(404);
}
