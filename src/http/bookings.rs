//! `/api/bookings`: a client's own bookings. Every change goes through the
//! provider's calendar actor.

use actix_web::{HttpRequest, HttpResponse, web};
use actors::calendar::{Book, Booker, BookingClient, ChangeBooking};
use actors::domain::{Action, Actor, BookingId, ProviderId, ServiceId, UserId};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{limit_booking_write, parse_id, parse_instant};
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::state::{AppState, State};
use super::{auth::AuthUser, json::ValidJson, provider::my_provider, validate};
use crate::{
    store::{BookingDetails, User},
    views::BookingView,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// The provider's slug.
    pub provider: String,
    /// The service id.
    #[schema(value_type = Uuid)]
    pub service: ServiceId,
    /// A slot start as offered by the slots endpoint (RFC 3339 with offset).
    #[schema(example = "2027-03-28T09:00:00+02:00")]
    pub start: String,
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleInput {
    #[schema(example = "2027-03-28T11:00:00+02:00")]
    pub start: String,
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 200);
    key.map(|k| Some(k.to_owned()))
        .ok_or_else(|| ApiError::field("Idempotency-Key", "must be 1 to 200 visible ASCII characters"))
}

/// The client's name as the provider sees it (booking, client book, bot
/// messages): see [`validate::shown_name`].
fn display_name(user: &User) -> String {
    validate::shown_name(&user.profile.first_name, user.profile.last_name.as_deref())
}

pub(super) async fn view(state: &AppState, provider_id: ProviderId, booking_id: BookingId) -> ApiResult<BookingView> {
    let details = state.store.booking(provider_id, booking_id).await?.ok_or_else(|| ApiError::not_found("booking"))?;
    Ok(BookingView::from(&details))
}

/// The start and note of a booking body, checked before any lookup (the
/// `json_bodies` fuzz target drives it).
pub fn checked(input: &BookingInput) -> ApiResult<(Timestamp, Option<String>)> {
    let start = parse_instant("start", &input.start)?;
    let note = validate::optional_text("note", input.note.as_deref(), 500, true)?;
    Ok((start, note))
}

/// Book a slot.
#[utoipa::path(post, path = "/api/bookings", tag = "bookings", security(("bearer" = [])), request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the same booking")),
    responses((status = 201, body = BookingView), (status = 401, body = Problem),
        (status = 403, description = "the provider blocked you (`client-blocked`)", body = Problem), (status = 404, body = Problem),
        (status = 409, description = "slot taken", body = Problem), (status = 422, description = "not bookable", body = Problem),
        (status = 503, description = "retry shortly", body = Problem), (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn create_booking(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<BookingInput>,
) -> ApiResult {
    limit_booking_write(&state, &req, user.id).await?;
    let (start, note) = checked(&input)?;
    let idempotency_key = idempotency_key(&req)?;
    let provider = super::public::provider_by_slug(&state, &input.provider).await?;
    // Whether the provider blocked this client is checked in the booking's
    // transaction (`CalendarError::ClientBlocked`): no read of its own.
    let booked = state
        .calendars
        .send(
            provider.id,
            Book {
                service_id: input.service,
                start,
                client: BookingClient::User { user_id: user.id, name: display_name(&user) },
                note,
                requested_by: user.id,
                booker: Booker::Client,
                idempotency_key,
                now: Timestamp::now(),
            },
        )
        .await?;
    let body = match booked.labels {
        // Read in the booking's own transaction: no read of its own.
        Some(labels) => BookingView::from(&BookingDetails::labelled(booked.booking, labels)),
        None => view(&state, provider.id, booked.booking.id).await?,
    };
    let mut response = HttpResponse::Created();
    if !booked.created {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(body))
}

/// My bookings as a client, newest first.
#[utoipa::path(get, path = "/api/bookings", tag = "bookings", security(("bearer" = [])),
    responses((status = 200, body = [BookingView]), (status = 401, body = Problem)))]
pub async fn my_bookings(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let bookings = state.store.client_bookings(user.id).await?;
    Ok(HttpResponse::Ok().json(bookings.iter().map(BookingView::from).collect::<Vec<_>>()))
}

/// A client the provider blocked books nothing more with them. Told
/// politely, and nothing else: not why, not by whom, not what the card says.
/// A new booking is checked in its own transaction (no race with the block);
/// a move or a waitlist entry here, before the calendar, so a move racing
/// the block itself may still pass.
pub(super) async fn refuse_if_blocked(state: &AppState, provider_id: ProviderId, user_id: UserId) -> ApiResult<()> {
    if state.store.blocks(provider_id, user_id).await? {
        return Err(ApiError::new(ProblemType::ClientBlocked, BLOCKED));
    }
    Ok(())
}

/// What a blocked client is told: politely, and nothing else.
pub(super) const BLOCKED: &str =
    "this provider is not taking bookings from you through Just Book Me; please contact them directly";

/// Hands a change to the provider's calendar (which checks and applies it in
/// turn with every other change) and answers with the booking as it now is.
pub(super) async fn change(
    state: &AppState,
    req: &HttpRequest,
    user_id: UserId,
    id: &str,
    as_provider: bool,
    action: Action,
    new_start: Option<Timestamp>,
) -> ApiResult {
    limit_booking_write(state, req, user_id).await?;
    let booking_id = parse_id("id", id, "an id")?;
    let (provider_id, actor) = if as_provider {
        (my_provider(state, user_id).await?.id, Actor::Provider)
    } else {
        // Only bookings whose client is this user exist for them at all.
        let details = state.store.booking_of_client(user_id, booking_id).await?;
        let details = details.ok_or_else(|| ApiError::not_found("booking"))?;
        // Taking a (new) time is booking; a blocked client books nothing more.
        if matches!(action, Action::Reschedule | Action::AcceptProposal) {
            refuse_if_blocked(state, details.booking.provider_id, user_id).await?;
        }
        (details.booking.provider_id, Actor::Client(user_id))
    };
    let change = ChangeBooking { booking_id, actor, action, new_start, by_user: Some(user_id), now: Timestamp::now() };
    state.calendars.send(provider_id, change).await?;
    Ok(HttpResponse::Ok().json(view(state, provider_id, booking_id).await?))
}

/// Cancel my booking (until the provider's cut-off).
#[utoipa::path(post, path = "/api/bookings/{id}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, description = "past the cut-off", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn cancel_my_booking(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
) -> ApiResult {
    change(&state, &req, user.id, &id, false, Action::Cancel, None).await
}

/// Move my booking to another free slot (until the provider's cut-off).
#[utoipa::path(post, path = "/api/bookings/{id}/reschedule", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RescheduleInput,
    responses((status = 200, body = BookingView), (status = 401, body = Problem),
        (status = 403, description = "the provider blocked you (`client-blocked`)", body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn reschedule_my_booking(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
    ValidJson(input): ValidJson<RescheduleInput>,
) -> ApiResult {
    let start = parse_instant("start", &input.start)?;
    change(&state, &req, user.id, &id, false, Action::Reschedule, Some(start)).await
}

/// Take the time the provider proposed: the booking moves there, confirmed,
/// through the calendar — unless someone booked it first (409 `slot-taken`;
/// the live slots show what is still free).
///
/// `start` (optional, RFC 3339): the proposed time the client saw; if the
/// provider has proposed another one since, nothing is accepted (409
/// `no-proposal`) and the client looks again.
#[utoipa::path(post, path = "/api/bookings/{id}/accept-proposal", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("start" = Option<String>, Query, description = "RFC 3339: the proposed time as seen")),
    responses((status = 200, body = BookingView), (status = 401, body = Problem),
        (status = 403, description = "the provider blocked you (`client-blocked`)", body = Problem), (status = 404, body = Problem),
        (status = 409, description = "no proposal to answer (`no-proposal`), or the time was taken (`slot-taken`)", body = Problem),
        (status = 422, description = "the proposed time is no longer offered", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn accept_proposal(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
) -> ApiResult {
    let params = super::extract::query_params(&req)?;
    let seen = params.get("start").map(|start| parse_instant("start", start)).transpose()?;
    change(&state, &req, user.id, &id, false, Action::AcceptProposal, seen).await
}

/// Turn the proposed time down: the request ends (cancelled), the provider is told.
#[utoipa::path(post, path = "/api/bookings/{id}/decline-proposal", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "no proposal to answer (`no-proposal`)", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn decline_proposal(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
) -> ApiResult {
    change(&state, &req, user.id, &id, false, Action::DeclineProposal, None).await
}

/// "I'm coming": `attendance: "confirmed"` on the booking, shown on the
/// provider's agenda live and in their morning digest.
#[utoipa::path(post, path = "/api/bookings/{id}/attend", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "the booking is not active", body = Problem),
        (status = 422, description = "the visit already started (`already-started`)", body = Problem),
        (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn attend(state: State, req: HttpRequest, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    change(&state, &req, user.id, &id, false, Action::Attend, None).await
}
