//! Bookings as iCalendar: the provider's subscribable feed behind a secret,
//! revocable key, and one booking of mine as an "Add to calendar" file.
//!
//! The feed's URL is the credential (calendar apps cannot send a bearer
//! token), so its key is 256 random bits, kept only as a SHA-256 like the
//! session tokens, shown once when issued, and replaced or revoked by the
//! provider at will; an unknown key is a plain 404. What an event shows is
//! the least a calendar needs: the time, the service and the client's name
//! (no contacts or notes of the provider's client book) — the feed leaves our
//! servers for whatever calendar app the provider chose.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use actors::domain::BookingStatus;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{AuthUser, random_bytes};
use super::extract::{parse_id, query_params};
use super::problem::{ApiError, ApiResult, Problem};
use super::provider::my_provider;
use super::state::State;
use crate::ical::{self, Event, EventStatus};
use crate::session::token_hash;
use crate::store::BookingDetails;

/// How far back the feed reaches: last month stays visible in the calendar.
const FEED_PAST: SignedDuration = SignedDuration::from_hours(31 * 24);
/// How far ahead: past any booking horizon a provider can set.
const FEED_FUTURE: SignedDuration = SignedDuration::from_hours(3 * 366 * 24);
const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";

#[derive(Serialize, ToSchema)]
pub struct CalendarFeedView {
    /// The feed's address, with its secret key: shown only now.
    #[schema(example = "https://example.com/api/provider/calendar.ics?key=…")]
    pub url: String,
}

/// Issue my calendar feed's secret URL, or replace it: the old URL stops
/// working at once.
#[utoipa::path(post, path = "/api/provider/calendar-feed", tag = "provider", security(("bearer" = [])),
    responses((status = 200, body = CalendarFeedView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn issue(state: State, AuthUser(user): AuthUser, req: HttpRequest) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let key = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random_bytes::<32>()?);
    state.store.set_calendar_feed(provider.id, Some(&token_hash(&key)), Timestamp::now()).await?;
    let base = match &state.config.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let url = format!("{base}/api/provider/calendar.ics?key={key}");
    Ok(HttpResponse::Ok().json(CalendarFeedView { url }))
}

/// Revoke my calendar feed: its URL answers 404 from now on.
#[utoipa::path(delete, path = "/api/provider/calendar-feed", tag = "provider", security(("bearer" = [])),
    responses((status = 204, description = "revoked (or there was none)"), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn revoke(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    state.store.set_calendar_feed(provider.id, None, Timestamp::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The provider's bookings of the last month and all ahead, as iCalendar
/// (RFC 5545) for a phone's calendar; cancelled ones as `STATUS:CANCELLED`.
#[utoipa::path(get, path = "/api/provider/calendar.ics", tag = "provider",
    params(("key" = String, Query, description = "the secret key of the feed's URL")),
    responses((status = 200, description = "the feed", body = String, content_type = "text/calendar"),
        (status = 404, description = "no feed has this key (revoked or replaced)", body = Problem)))]
pub async fn feed(state: State, req: HttpRequest) -> ApiResult {
    let params = query_params(&req)?;
    let key = params.get("key").map(|key| key.trim()).filter(|key| !key.is_empty());
    let key = key.ok_or_else(|| ApiError::field("key", "required: the key of the feed's URL"))?;
    let provider = state.store.provider_by_calendar_feed(&token_hash(key)).await?;
    let provider = provider.ok_or_else(|| ApiError::not_found("calendar feed"))?;
    let now = Timestamp::now();
    let bookings = state.store.provider_bookings(provider.id, now - FEED_PAST, now + FEED_FUTURE).await?;
    let events: Vec<Event> =
        bookings.iter().map(|b| event(b, format!("{} — {}", b.service_name, b.client_name))).collect();
    let name = format!("Just Book Me — {}", provider.profile.display_name);
    Ok(HttpResponse::Ok()
        .content_type(TEXT_CALENDAR)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(ical::calendar(&name, &events, now)))
}

/// One booking of mine as an .ics file, to add to my calendar.
#[utoipa::path(get, path = "/api/bookings/{id}/ics", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the booking as iCalendar", body = String, content_type = "text/calendar"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn booking_file(state: State, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    let booking_id = parse_id("id", &id, "an id")?;
    let details = state.store.booking_of_client(user.id, booking_id).await?;
    let details = details.ok_or_else(|| ApiError::not_found("booking"))?;
    let mut event = event(&details, format!("{} — {}", details.service_name, details.provider_name));
    event.description = details.booking.note.clone();
    let ics = ical::calendar(&details.provider_name, &[event], Timestamp::now());
    Ok(HttpResponse::Ok()
        .content_type(TEXT_CALENDAR)
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"booking.ics\""))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(ics))
}

fn event(details: &BookingDetails, summary: String) -> Event {
    let booking = &details.booking;
    let status = match booking.status {
        BookingStatus::Pending => EventStatus::Tentative,
        BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow => EventStatus::Confirmed,
        BookingStatus::Cancelled => EventStatus::Cancelled,
    };
    Event {
        uid: format!("{}@justbookme", booking.id),
        sequence: details.booking.revision,
        status,
        start: booking.start,
        end: booking.end,
        created: booking.created_at,
        last_modified: booking.updated_at,
        summary,
        description: None,
        url: None,
    }
}
