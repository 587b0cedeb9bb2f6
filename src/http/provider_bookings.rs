//! `/api/provider/bookings`: the provider's agenda and booking actions.

use actix_web::{HttpRequest, HttpResponse, web};
use actors::domain::Action;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::bookings::{RescheduleInput, change};
use super::extract::{DateRange, date_range, parse_instant, query_params};
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, json::ValidJson, provider::my_provider, state::State};
use crate::views::BookingView;

/// The provider's bookings starting on local dates `from`..=`to` (default:
/// today and the next 6 days; at most 62 days).
#[utoipa::path(get, path = "/api/provider/bookings", tag = "provider", security(("bearer" = [])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD"), ("to" = Option<String>, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = [BookingView]), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn list(state: State, AuthUser(user): AuthUser, req: HttpRequest) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let tz = &provider.profile.timezone;
    let params = query_params(&req)?;
    let DateRange { start, end, .. } = date_range(&params, tz, Timestamp::now())?;
    let bookings = state.store.provider_bookings(provider.id, start, end).await?;
    Ok(HttpResponse::Ok().json(bookings.iter().map(BookingView::from).collect::<Vec<_>>()))
}

/// A provider action on a booking.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderAction {
    Confirm,
    Decline,
    Cancel,
    Complete,
    NoShow,
}

/// Confirm, decline, cancel, complete or mark as no-show.
#[utoipa::path(post, path = "/api/provider/bookings/{id}/{action}", tag = "provider", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("action" = ProviderAction, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "not allowed in the booking's status", body = Problem),
        (status = 422, description = "e.g. completing a visit that has not started", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn act(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (id, action) = path.into_inner();
    // The names are ProviderAction's own (serde's kebab-case), not a second list.
    let action = match serde_json::from_value(serde_json::Value::String(action)) {
        Ok(ProviderAction::Confirm) => Action::Confirm,
        Ok(ProviderAction::Decline) => Action::Decline,
        Ok(ProviderAction::Cancel) => Action::Cancel,
        Ok(ProviderAction::Complete) => Action::Complete,
        Ok(ProviderAction::NoShow) => Action::NoShow,
        Err(_) => return Err(ApiError::new(ProblemType::NotFound, "no such booking action")),
    };
    change(&state, &req, user.id, &id, true, action, None).await
}

/// Move a booking to another free slot.
#[utoipa::path(post, path = "/api/provider/bookings/{id}/reschedule", tag = "provider", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RescheduleInput,
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn reschedule(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
    ValidJson(input): ValidJson<RescheduleInput>,
) -> ApiResult {
    let start = parse_instant("start", &input.start)?;
    change(&state, &req, user.id, &id, true, Action::Reschedule, Some(start)).await
}
