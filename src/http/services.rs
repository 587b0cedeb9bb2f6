//! `/api/provider/services`: what a provider offers.

use actix_web::{HttpResponse, web};
use actors::domain::ServiceTiming;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, extract::parse_id, json::ValidJson, provider::my_provider, state::State, validate};
use crate::{store::ServiceFields, views::ServiceView};

/// Largest price accepted, in minor units: far above any appointment.
const MAX_PRICE_MINOR: i64 = 10_000_000_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub name: String,
    pub duration_min: u16,
    pub price_minor: Option<i64>,
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    pub buffer_before_min: Option<u16>,
    pub buffer_after_min: Option<u16>,
    /// Clients one start takes, 1..=500 (default 1); above 1 the service is a class.
    pub capacity: Option<u16>,
}

/// Fields left out stay as they are; `null` clears price or currency.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    pub name: Option<String>,
    pub duration_min: Option<u16>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub price_minor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    pub buffer_before_min: Option<u16>,
    pub buffer_after_min: Option<u16>,
    pub capacity: Option<u16>,
}

/// Most clients one class start takes.
const MAX_CAPACITY: u16 = 500;

fn validated(fields: ServiceFields) -> ApiResult<ServiceFields> {
    let name = validate::text("name", &fields.name, 100, false)?;
    fields.timing.validate()?;
    if !(1..=MAX_CAPACITY).contains(&fields.capacity) {
        return Err(ApiError::field("capacity", format!("must be between 1 and {MAX_CAPACITY}")));
    }
    let currency = match fields.currency.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(code.to_ascii_uppercase())
        }
        Some(code) => {
            return Err(ApiError::field("currency", format!("{code:?} is not an ISO 4217 code like EUR")));
        }
    };
    if let Some(price) = fields.price_minor {
        if !(0..=MAX_PRICE_MINOR).contains(&price) {
            return Err(ApiError::field("price_minor", format!("must be between 0 and {MAX_PRICE_MINOR}")));
        }
        if currency.is_none() {
            return Err(ApiError::field("currency", "required when price_minor is set"));
        }
    }
    Ok(ServiceFields { name, currency, ..fields })
}

/// A new service's fields, checked (the `json_bodies` fuzz target drives it).
pub fn new_fields(input: ServiceInput) -> ApiResult<ServiceFields> {
    validated(ServiceFields {
        name: input.name,
        timing: ServiceTiming {
            duration_min: input.duration_min,
            buffer_before_min: input.buffer_before_min.unwrap_or(0),
            buffer_after_min: input.buffer_after_min.unwrap_or(0),
        },
        price_minor: input.price_minor,
        currency: input.currency,
        capacity: input.capacity.unwrap_or(1),
    })
}

/// `current` with `patch` applied, checked as a whole (the `json_bodies`
/// fuzz target drives it).
pub fn patched(patch: ServicePatch, current: ServiceFields) -> ApiResult<ServiceFields> {
    validated(ServiceFields {
        name: patch.name.unwrap_or(current.name),
        timing: ServiceTiming {
            duration_min: patch.duration_min.unwrap_or(current.timing.duration_min),
            buffer_before_min: patch.buffer_before_min.unwrap_or(current.timing.buffer_before_min),
            buffer_after_min: patch.buffer_after_min.unwrap_or(current.timing.buffer_after_min),
        },
        price_minor: patch.price_minor.unwrap_or(current.price_minor),
        currency: patch.currency.unwrap_or(current.currency),
        capacity: patch.capacity.unwrap_or(current.capacity),
    })
}

/// My services, retired ones included.
#[utoipa::path(get, path = "/api/provider/services", tag = "provider", security(("bearer" = [])),
    responses((status = 200, body = [ServiceView]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_services(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let services = state.store.services(provider.id, true).await?;
    Ok(HttpResponse::Ok().json(services.iter().map(ServiceView::from).collect::<Vec<_>>()))
}

/// Add a service.
#[utoipa::path(post, path = "/api/provider/services", tag = "provider", security(("bearer" = [])), request_body = ServiceInput,
    responses((status = 201, body = ServiceView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`SERVICES_MAX` services already, retired ones included", body = Problem),
        (status = 422, body = Problem)))]
pub async fn add_service(
    state: State,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<ServiceInput>,
) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let fields = new_fields(input)?;
    // Retired services count: their bookings still name them. Checked before
    // the insert, like the client book's cap (a bound, not a rule).
    let cap = state.config.caps.services;
    if state.store.services(provider.id, true).await?.len() >= cap {
        let detail = format!("at most {cap} services, retired ones included");
        return Err(ApiError::new(ProblemType::TooManyServices, detail));
    }
    let service = state.store.insert_service(provider.id, &fields, Timestamp::now()).await?;
    Ok(HttpResponse::Created().json(ServiceView::from(&service)))
}

/// Change a service.
#[utoipa::path(patch, path = "/api/provider/services/{id}", tag = "provider", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ServicePatch,
    responses((status = 200, body = ServiceView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn patch_service(
    state: State,
    AuthUser(user): AuthUser,
    path: web::Path<String>,
    ValidJson(patch): ValidJson<ServicePatch>,
) -> ApiResult {
    let id = parse_id("id", &path, "a service id")?;
    let provider = my_provider(&state, user.id).await?;
    let current = state.store.service(provider.id, id).await?.ok_or_else(|| ApiError::not_found("service"))?;
    let fields = patched(patch, current.fields)?;
    let service = state
        .store
        .update_service(provider.id, id, &fields, Timestamp::now())
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    Ok(HttpResponse::Ok().json(ServiceView::from(&service)))
}

/// Retire a service: it stays on existing bookings but is no longer offered.
#[utoipa::path(delete, path = "/api/provider/services/{id}", tag = "provider", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn retire_service(state: State, AuthUser(user): AuthUser, path: web::Path<String>) -> ApiResult {
    let id = parse_id("id", &path, "a service id")?;
    let provider = my_provider(&state, user.id).await?;
    if !state.store.retire_service(provider.id, id, Timestamp::now()).await? {
        return Err(ApiError::not_found("service"));
    }
    Ok(HttpResponse::NoContent().finish())
}
