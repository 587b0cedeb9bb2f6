//! The OpenAPI document: every route of the API, generated from the handlers.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, Ref, RefOr, Response, ResponseBuilder,
        path::ParameterIn,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{
    access_log, auth, bookings, calendar_feed, clients, figures, live_socket, me, ops, provider, provider_bookings,
    public, schedule, services, waitlist,
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
        bookings::accept_proposal, bookings::decline_proposal, bookings::attend, provider_bookings::propose,
        provider_bookings::list, provider_bookings::create, provider_bookings::act, provider_bookings::reschedule,
        waitlist::join, waitlist::mine, waitlist::leave, waitlist::of_provider,
        figures::get_stats,
        calendar_feed::issue, calendar_feed::revoke, calendar_feed::feed, calendar_feed::booking_file,
        clients::list, clients::add, clients::get, clients::patch, clients::delete, clients::export,
        live_socket::connect,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, ops::app_settings,
    ),
    // Referenced only as a path parameter, which utoipa does not collect.
    components(schemas(provider_bookings::ProviderAction)),
    modifiers(&BearerAuth, &ProblemResponses),
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

/// Error responses as the server sends them: every 4xx/5xx body is an
/// RFC 9457 problem (`application/problem+json`), and the answers every
/// route of a kind can give are documented once here instead of on each
/// path — a request body that is not JSON (400) or not declared JSON (415),
/// a query parameter given twice (400), an unknown body field or an `{id}`
/// that is not a UUID (422), a body too slow (408) or too large (413), and
/// the deadline's 503, which any route can give.
struct ProblemResponses;

const PROBLEM_JSON: &str = "application/problem+json";

fn problem(description: &str) -> RefOr<Response> {
    let content = Content::new(Some(Ref::from_schema_name("Problem")));
    RefOr::T(ResponseBuilder::new().description(description).content(PROBLEM_JSON, content).build())
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let params = operation.parameters.as_deref().unwrap_or_default();
                let has_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let has_id = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path) && p.name == "id");
                let has_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                if has_body || has_query {
                    let why = match (has_body, has_query) {
                        (true, false) => "malformed JSON body",
                        (false, true) => "a query parameter given twice",
                        _ => "malformed JSON body, or a query parameter given twice",
                    };
                    responses.entry("400".into()).or_insert_with(|| problem(why));
                }
                if has_body {
                    responses.entry("415".into()).or_insert_with(|| problem("the body is not declared as JSON"));
                    responses.entry("408".into()).or_insert_with(|| problem("the body did not arrive in time"));
                    responses.entry("413".into()).or_insert_with(|| problem("the body is larger than 64 KiB"));
                }
                // Every input is validated: an unknown or ill-typed body field,
                // a query value that is no date, an id that is no UUID.
                if has_body || has_query || has_id {
                    responses.entry("422".into()).or_insert_with(|| {
                        problem(
                            "invalid input, named in `field`: e.g. an unknown body field, or an id that is not a UUID",
                        )
                    });
                }
                // The per-request deadline (`deadline.rs`) answers 503 on any route.
                responses.entry("503".into()).or_insert_with(|| {
                    problem("the request did not finish within the deadline, or a dependency is down; retry after `Retry-After`")
                });
                for (status, response) in responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if status.starts_with('4') || status.starts_with('5') {
                        let schema = response.content.values().next().and_then(|c| c.schema.clone());
                        let schema = schema.unwrap_or_else(|| Ref::from_schema_name("Problem").into());
                        response.content.clear();
                        response.content.insert(PROBLEM_JSON.into(), Content::new(Some(schema)));
                    }
                }
            }
        }
    }
}
