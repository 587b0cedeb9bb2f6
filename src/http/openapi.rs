//! The OpenAPI document: every route of the API, generated from the handlers.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{
    access_log, auth, bookings, clients, live_socket, me, ops, provider, provider_bookings, public, schedule, services,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Just Book Me", description = "Bookings inside Telegram: providers, services, schedules and live free slots."),
    paths(
        auth::telegram_sign_in, auth::dev_sign_in,
        me::get_me, me::patch_me, me::delete_me, me::export_me, me::get_policy, me::acknowledge_policy,
        me::request_erasure, access_log::my_access_log,
        provider::put_provider, provider::get_provider,
        services::list_services, services::add_service, services::patch_service, services::retire_service,
        schedule::put_schedule, schedule::get_schedule,
        public::get_public_provider, public::get_slots,
        bookings::create_booking, bookings::my_bookings, bookings::cancel_my_booking, bookings::reschedule_my_booking,
        provider_bookings::list, provider_bookings::act, provider_bookings::reschedule,
        clients::list, clients::add, clients::get, clients::patch, clients::delete, clients::export,
        live_socket::connect,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, ops::app_settings,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
