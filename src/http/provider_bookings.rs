//! `/api/provider/bookings`: the provider's agenda and booking actions.

use actix_web::{HttpRequest, HttpResponse, web};
use actors::calendar::{Book, Booker, BookingClient};
use actors::domain::{Action, ClientId, ServiceId};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::bookings::{RescheduleInput, change, view};
use super::extract::{DateRange, date_range, limit_booking_write, parse_instant, query_params};
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, json::ValidJson, provider::my_provider, state::State, validate};
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

/// A client typed in with the booking (a phone call, a walk-in).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientInput {
    pub name: String,
    pub contacts: Option<String>,
}

/// A booking the provider makes for a client: `client_id` (an entry of my
/// client book) or `client` (a new one, added by the booking), not both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderBookingInput {
    #[schema(value_type = Option<Uuid>)]
    pub client_id: Option<ClientId>,
    pub client: Option<NewClientInput>,
    #[schema(value_type = Uuid)]
    pub service: ServiceId,
    /// RFC 3339 with offset.
    #[schema(example = "2027-03-28T09:00:00+02:00")]
    pub start: String,
    pub note: Option<String>,
    /// Book a time outside the hours or off the grid; it still may not
    /// overlap another booking.
    #[serde(default)]
    pub outside_hours: bool,
}

/// Book for a client (a phone call, a walk-in): confirmed at once, through
/// the calendar like every booking; a client who is a Telegram user is told.
#[utoipa::path(post, path = "/api/provider/bookings", tag = "provider", security(("bearer" = [])),
    request_body = ProviderBookingInput,
    responses((status = 201, body = BookingView), (status = 401, body = Problem),
        (status = 404, description = "no such client or service of yours", body = Problem),
        (status = 409, description = "the time is taken, or the client book is full", body = Problem),
        (status = 422, description = "not bookable, or the client given twice or not at all", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem),
        (status = 503, description = "retry shortly", body = Problem)))]
pub async fn create(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<ProviderBookingInput>,
) -> ApiResult {
    limit_booking_write(&state, &req, user.id).await?;
    let provider = my_provider(&state, user.id).await?;
    let start = parse_instant("start", &input.start)?;
    let note = validate::optional_text("note", input.note.as_deref(), 500, true)?;
    let client = match (input.client_id, input.client) {
        (Some(id), None) => {
            let card = state.store.client(provider.id, id).await?.ok_or_else(|| ApiError::not_found("client"))?;
            BookingClient::Existing { id, user_id: card.user_id }
        }
        (None, Some(new)) => {
            let fields = super::clients::validated(&new.name, new.contacts.as_deref(), None)
                .map_err(|error| prefixed("client", error))?;
            super::clients::ensure_room(&state, provider.id).await?;
            BookingClient::New { name: fields.name, contacts: fields.contacts }
        }
        _ => {
            return Err(ApiError::field(
                "client_id",
                "give client_id (a client of yours) or client (a new one), one of them",
            ));
        }
    };
    let book = Book {
        service_id: input.service,
        start,
        client,
        note,
        requested_by: user.id,
        booker: Booker::Provider { outside_hours: input.outside_hours },
        idempotency_key: None,
        now: Timestamp::now(),
    };
    let booked = state.calendars.send(provider.id, book).await?;
    Ok(HttpResponse::Created().json(view(&state, provider.id, booked.booking.id).await?))
}

/// A field error of a nested object, named from the top (`client.name`).
fn prefixed(parent: &str, error: ApiError) -> ApiError {
    match error {
        ApiError::Validation(mut field) => {
            field.field = format!("{parent}.{}", field.field);
            ApiError::Validation(field)
        }
        other => other,
    }
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

/// Offer another time for a pending request: the client is asked (bot
/// buttons, the Mini App) and accepts or declines. The time is checked to be
/// one the provider could book, but not held: whoever books it first gets it.
#[utoipa::path(post, path = "/api/provider/bookings/{id}/propose", tag = "provider", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RescheduleInput,
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "not pending, or the time is taken", body = Problem),
        (status = 422, description = "not a time of mine to offer", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn propose(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
    ValidJson(input): ValidJson<RescheduleInput>,
) -> ApiResult {
    let start = parse_instant("start", &input.start)?;
    change(&state, &req, user.id, &id, true, Action::Propose, Some(start)).await
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
