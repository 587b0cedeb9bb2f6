//! The HTTP adapter's route table. Handlers take `state::AppState`, read
//! requests through `extract` and `json`, and fail with `problem::ApiError`.

pub mod access_log;
mod auth;
mod bookings;
mod clients;
pub mod deadline;
mod extract;
mod json;
mod live_socket;
mod me;
pub mod metrics;
mod openapi;
mod ops;
pub mod problem;
mod provider;
mod provider_bookings;
mod public;
pub mod request_id;
mod schedule;
mod services;
pub mod state;
pub mod telegram_webhook;
pub mod unread_body;
mod validate;
mod web_app;

use actix_web::web;

/// Every route of the API. Keep in step with `openapi::ApiDoc` (a test checks).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/ws", web::get().to(live_socket::connect))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/api/openapi.json", web::get().to(ops::openapi))
        .route("/api/app", web::get().to(ops::app_settings))
        .route("/api/auth/telegram", web::post().to(auth::telegram_sign_in))
        .route("/api/auth/dev", web::post().to(auth::dev_sign_in))
        .service(
            web::resource("/api/me")
                .route(web::get().to(me::get_me))
                .route(web::patch().to(me::patch_me))
                .route(web::delete().to(me::delete_me)),
        )
        .route("/api/me/export", web::get().to(me::export_me))
        .route("/api/me/policy-ack", web::post().to(me::acknowledge_policy))
        .route("/api/me/erasure-requests", web::post().to(me::request_erasure))
        .route("/api/policy", web::get().to(me::get_policy))
        .route("/api/me/access-log", web::get().to(access_log::my_access_log))
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
        .service(
            web::resource("/api/bookings")
                .route(web::get().to(bookings::my_bookings))
                .route(web::post().to(bookings::create_booking)),
        )
        .route("/api/bookings/{id}/cancel", web::post().to(bookings::cancel_my_booking))
        .route("/api/bookings/{id}/reschedule", web::post().to(bookings::reschedule_my_booking))
        .route("/api/provider/bookings", web::get().to(provider_bookings::list))
        // Before the generic `{action}` route, which would otherwise match it.
        .route("/api/provider/bookings/{id}/reschedule", web::post().to(provider_bookings::reschedule))
        .route("/api/provider/bookings/{id}/{action}", web::post().to(provider_bookings::act))
        .service(
            web::resource("/api/provider/clients")
                .route(web::get().to(clients::list))
                .route(web::post().to(clients::add)),
        )
        .service(
            web::resource("/api/provider/clients/{id}")
                .route(web::get().to(clients::get))
                .route(web::patch().to(clients::patch))
                .route(web::delete().to(clients::delete)),
        )
        .route("/api/provider/clients/{id}/export", web::get().to(clients::export))
        .route("/api/providers/{slug}", web::get().to(public::get_public_provider))
        .route("/api/providers/{slug}/slots", web::get().to(public::get_slots))
        .configure(web_app::routes);
}
