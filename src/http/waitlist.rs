//! `/api/waitlist`: "tell me when something frees up" on a day (issue 14).
//! What happens when something does is `crate::waitlist`.

use actix_web::{HttpRequest, HttpResponse, web};
use actors::calendar::GetSlots;
use actors::domain::{ServiceId, TimeOfDay};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{DateRange, date_range, limit_booking_write, parse_date, parse_id, query_params};
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, bookings::refuse_if_blocked, json::ValidJson, provider::my_provider, state::State};
use crate::{store::WaitlistEntry, views::WaitlistView};

/// Entries one client may hold for days still to come: enough for every
/// day of a busy week at a few providers, not enough to spam a provider's list.
pub const MAX_ENTRIES: u64 = 20;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitlistInput {
    /// The provider's slug.
    pub provider: String,
    #[schema(value_type = Uuid)]
    pub service: ServiceId,
    /// The provider's local date, YYYY-MM-DD.
    #[schema(example = "2027-06-01")]
    pub date: String,
    /// Earliest local start wanted, HH:MM (default: any).
    #[schema(example = "10:00")]
    pub from: Option<String>,
    /// Starts before this local time, HH:MM (default: any).
    #[schema(example = "14:00")]
    pub to: Option<String>,
}

fn time(field: &str, text: Option<&str>) -> ApiResult<Option<TimeOfDay>> {
    text.map(|text| TimeOfDay::parse(text).map_err(|why| ApiError::field(field, why))).transpose()
}

/// Wait for a time to free up on a day, optionally within a window. One
/// entry per service and day: joining again replaces the window (200).
#[utoipa::path(post, path = "/api/waitlist", tag = "bookings", security(("bearer" = [])), request_body = WaitlistInput,
    responses((status = 201, body = WaitlistView), (status = 200, description = "the window of the entry there was replaced", body = WaitlistView),
        (status = 401, body = Problem), (status = 403, description = "the provider blocked you (`client-blocked`)", body = Problem),
        (status = 404, body = Problem), (status = 409, description = "`waitlist-full`: too many entries", body = Problem),
        (status = 422, body = Problem), (status = 429, description = "over the booking rate limit", body = Problem)))]
pub async fn join(
    state: State,
    req: HttpRequest,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<WaitlistInput>,
) -> ApiResult {
    limit_booking_write(&state, &req, user.id).await?;
    let date = parse_date("date", &input.date)?;
    let from = time("from", input.from.as_deref())?;
    let to = time("to", input.to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(ApiError::field("to", "must be after from"));
    }
    let provider = super::public::provider_by_slug(&state, &input.provider).await?;
    refuse_if_blocked(&state, provider.id, user.id).await?;
    let zone = &provider.profile.timezone;
    let now = Timestamp::now();
    let today = zone.date_of(now);
    let horizon = i64::from(provider.profile.rules.horizon_days);
    let last = today.checked_add(jiff::Span::new().days(horizon)).unwrap_or(today);
    if date < today || date > last {
        return Err(ApiError::field("date", format!("must be a day from {today} to {last} (the provider's horizon)")));
    }
    // The service must be one offered now; what is free in the window now is
    // known, so only a time that frees up later is offered.
    let slots = state
        .calendars
        .send(provider.id, GetSlots { service_id: input.service, from: date, to: date, now, moving: None })
        .await?;
    let free_known = crate::waitlist::free_in_window(&slots.slots, zone, from, to);
    if state.store.waitlist_count(user.id, today).await? >= MAX_ENTRIES {
        let already = state.store.my_waitlist(user.id, today).await?;
        if !already.iter().any(|d| d.entry.service_id == input.service && d.entry.date == date) {
            return Err(ApiError::new(
                ProblemType::WaitlistFull,
                format!("you wait for {MAX_ENTRIES} days already; leave one first"),
            ));
        }
    }
    let entry = WaitlistEntry {
        id: Uuid::now_v7(),
        user_id: user.id,
        provider_id: provider.id,
        service_id: input.service,
        date,
        from,
        to,
        free_known,
        created_at: now,
    };
    let (entry, created) = state.store.join_waitlist(&entry).await?;
    let mine = state.store.my_waitlist(user.id, date).await?;
    let details = mine.iter().find(|d| d.entry.id == entry.id).ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    let body = WaitlistView::new(details, false);
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// My waitlist entries, today's and later.
#[utoipa::path(get, path = "/api/waitlist", tag = "bookings", security(("bearer" = [])),
    responses((status = 200, body = [WaitlistView]), (status = 401, body = Problem)))]
pub async fn mine(state: State, AuthUser(user): AuthUser) -> ApiResult {
    // From the earliest today any provider has, then each entry against its provider's today.
    let now = Timestamp::now();
    let entries = state.store.my_waitlist(user.id, crate::waitlist::utc_yesterday()).await?;
    let live = entries.iter().filter(|d| d.entry.date >= d.timezone.date_of(now));
    Ok(HttpResponse::Ok().json(live.map(|d| WaitlistView::new(d, false)).collect::<Vec<_>>()))
}

/// Leave the waitlist.
#[utoipa::path(delete, path = "/api/waitlist/{id}", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn leave(state: State, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    let id: Uuid = parse_id("id", &id, "a waitlist entry id")?;
    if !state.store.leave_waitlist(user.id, id).await? {
        return Err(ApiError::not_found("waitlist entry"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Who waits for which of my days (default: today and the next 6 days).
#[utoipa::path(get, path = "/api/provider/waitlist", tag = "provider", security(("bearer" = [])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD"), ("to" = Option<String>, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = [WaitlistView]), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn of_provider(state: State, AuthUser(user): AuthUser, req: HttpRequest) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let params = query_params(&req)?;
    let DateRange { from, to, .. } = date_range(&params, &provider.profile.timezone, Timestamp::now())?;
    let entries = state.store.provider_waitlist(provider.id, from, to).await?;
    Ok(HttpResponse::Ok().json(entries.iter().map(|d| WaitlistView::new(d, true)).collect::<Vec<_>>()))
}
