//! The HTTP adapter: actix-web routes, the auth extractor, problem+json
//! errors, metrics and the OpenAPI document.

pub mod auth;
mod json;
mod me;
pub mod metrics;
mod openapi;
mod ops;
mod problem;
mod provider;
mod public;
mod schedule;
mod services;
mod validate;
mod views;

use std::sync::Arc;

use actix_web::web;
use metrics_exporter_prometheus::PrometheusHandle;

pub use json::ValidJson;
pub use openapi::ApiDoc;
pub use problem::{ApiError, Problem};

use crate::{config::Config, store::Store};

/// What every handler may reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
}

/// Every route of the API. Keep in step with `openapi::ApiDoc` (a test checks).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/api/openapi.json", web::get().to(ops::openapi))
        .route("/api/auth/telegram", web::post().to(auth::telegram_sign_in))
        .route("/api/auth/dev", web::post().to(auth::dev_sign_in))
        .service(
            web::resource("/api/me")
                .route(web::get().to(me::get_me))
                .route(web::patch().to(me::patch_me)),
        )
        .service(
            web::resource("/api/provider")
                .route(web::get().to(provider::get_provider))
                .route(web::put().to(provider::put_provider)),
        )
        .service(
            web::resource("/api/provider/services")
                .route(web::get().to(services::list_services))
                .route(web::post().to(services::add_service)),
        )
        .service(
            web::resource("/api/provider/services/{id}")
                .route(web::patch().to(services::patch_service))
                .route(web::delete().to(services::retire_service)),
        )
        .service(
            web::resource("/api/provider/schedule")
                .route(web::get().to(schedule::get_schedule))
                .route(web::put().to(schedule::put_schedule)),
        )
        .route(
            "/api/providers/{slug}",
            web::get().to(public::get_public_provider),
        )
        .route(
            "/api/providers/{slug}/slots",
            web::get().to(public::get_slots),
        );
}
