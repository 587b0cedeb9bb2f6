//! The HTTP adapter's route table. Handlers take `state::AppState`, read
//! requests through `extract` and `json`, and fail with `problem::ApiError`.

pub mod access_log;
mod auth;
pub(crate) mod bookings;
mod calendar_feed;
pub(crate) mod clients;
pub mod compress;
pub mod deadline;
pub(crate) mod extract;
mod figures;
pub(crate) mod json;
mod live_socket;
mod me;
pub mod metrics;
mod openapi;
mod ops;
pub mod problem;
pub(crate) mod provider;
mod provider_bookings;
mod public;
pub mod request_id;
pub(crate) mod schedule;
pub(crate) mod services;
pub mod state;
pub mod telegram_webhook;
pub mod unread_body;
pub(crate) mod validate;
mod waitlist;
mod web_app;

use actix_web::web;

/// Every route of the API. Keep in step with `openapi::ApiDoc` (a test checks).
/// Each path is a resource, never a bare `.route()`: `.route()` puts the
/// method guard on the path itself, so a wrong method fell through to 404
/// instead of 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(ops::healthz)))
        .service(web::resource("/ws").route(web::get().to(live_socket::connect)))
        .service(web::resource("/readyz").route(web::get().to(ops::readyz)))
        .service(web::resource("/metrics").route(web::get().to(ops::metrics)))
        .service(web::resource("/api/openapi.json").route(web::get().to(ops::openapi)))
        .service(web::resource("/api/app").route(web::get().to(ops::app_settings)))
        .service(web::resource("/api/auth/telegram").route(web::post().to(auth::telegram_sign_in)))
        .service(web::resource("/api/auth/dev").route(web::post().to(auth::dev_sign_in)))
        .service(
            web::resource("/api/me")
                .route(web::get().to(me::get_me))
                .route(web::patch().to(me::patch_me))
                .route(web::delete().to(me::delete_me)),
        )
        .service(web::resource("/api/me/export").route(web::get().to(me::export_me)))
        .service(web::resource("/api/me/policy-ack").route(web::post().to(me::acknowledge_policy)))
        .service(web::resource("/api/me/erasure-requests").route(web::post().to(me::request_erasure)))
        .service(web::resource("/api/policy").route(web::get().to(me::get_policy)))
        .service(web::resource("/api/me/access-log").route(web::get().to(access_log::my_access_log)))
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
        .service(
            web::resource("/api/waitlist").route(web::get().to(waitlist::mine)).route(web::post().to(waitlist::join)),
        )
        .service(web::resource("/api/waitlist/{id}").route(web::delete().to(waitlist::leave)))
        .service(web::resource("/api/provider/waitlist").route(web::get().to(waitlist::of_provider)))
        .service(web::resource("/api/bookings/{id}/cancel").route(web::post().to(bookings::cancel_my_booking)))
        .service(web::resource("/api/bookings/{id}/reschedule").route(web::post().to(bookings::reschedule_my_booking)))
        .service(web::resource("/api/bookings/{id}/ics").route(web::get().to(calendar_feed::booking_file)))
        .service(web::resource("/api/bookings/{id}/accept-proposal").route(web::post().to(bookings::accept_proposal)))
        .service(web::resource("/api/bookings/{id}/decline-proposal").route(web::post().to(bookings::decline_proposal)))
        .service(web::resource("/api/bookings/{id}/attend").route(web::post().to(bookings::attend)))
        .service(
            web::resource("/api/provider/calendar-feed")
                .route(web::post().to(calendar_feed::issue))
                .route(web::delete().to(calendar_feed::revoke)),
        )
        .service(web::resource("/api/provider/stats").route(web::get().to(figures::get_stats)))
        .service(web::resource("/api/provider/calendar.ics").route(web::get().to(calendar_feed::feed)))
        .service(
            web::resource("/api/provider/bookings")
                .route(web::get().to(provider_bookings::list))
                .route(web::post().to(provider_bookings::create)),
        )
        // Before the generic `{action}` route, which would otherwise match it.
        .service(
            web::resource("/api/provider/bookings/{id}/reschedule")
                .route(web::post().to(provider_bookings::reschedule)),
        )
        .service(web::resource("/api/provider/bookings/{id}/propose").route(web::post().to(provider_bookings::propose)))
        .service(web::resource("/api/provider/bookings/{id}/{action}").route(web::post().to(provider_bookings::act)))
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
        .service(web::resource("/api/provider/clients/{id}/export").route(web::get().to(clients::export)))
        .service(web::resource("/api/providers/{slug}").route(web::get().to(public::get_public_provider)))
        .service(web::resource("/api/providers/{slug}/slots").route(web::get().to(public::get_slots)))
        .configure(web_app::routes);
}
