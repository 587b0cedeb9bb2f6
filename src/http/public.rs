//! Public provider pages and free slots: what any client (signed in or not) may see.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use actors::calendar::GetSlots;
use actors::domain::BookingId;
use jiff::Timestamp;

use super::auth::AuthUser;
use super::extract::{DateRange, date_range, parse_id, query_params};
use super::problem::{ApiError, ApiResult, Problem};
use super::state::{AppState, State};
use crate::store::Provider;
use crate::views::{PublicProviderView, PublicServiceView, SlotView, SlotsView};

/// Kept in memory after the first read (see [`crate::memo`]); a slug that
/// names nobody is asked of the database every time.
pub(super) async fn provider_by_slug(state: &AppState, slug: &str) -> ApiResult<Provider> {
    if let Some(provider) = state.providers.get(slug, |_| true) {
        return Ok(provider);
    }
    let started = state.providers.read_started();
    let provider = state.store.provider_by_slug(slug).await?.ok_or_else(|| ApiError::not_found("provider"))?;
    state.providers.keep(started, slug.to_owned(), provider.clone());
    Ok(provider)
}

/// A provider's public page.
#[utoipa::path(get, path = "/api/providers/{slug}", tag = "public", params(("slug" = String, Path)),
    responses((status = 200, body = PublicProviderView), (status = 404, body = Problem)))]
pub async fn get_public_provider(state: State, slug: web::Path<String>) -> ApiResult {
    let provider = provider_by_slug(&state, &slug).await?;
    let services = state.store.services(provider.id, false).await?;
    let p = provider.profile;
    Ok(HttpResponse::Ok().json(PublicProviderView {
        slug: p.slug.as_str().to_owned(),
        display_name: p.display_name,
        business_name: p.business_name,
        contacts: p.contacts,
        timezone: p.timezone.name().to_owned(),
        min_notice_min: p.rules.min_notice_min,
        horizon_days: p.rules.horizon_days,
        cancel_cutoff_min: p.rules.cancel_cutoff_min,
        requires_confirmation: p.rules.requires_confirmation,
        services: services.iter().map(PublicServiceView::from).collect(),
    }))
}

/// The booking `id` of this provider that the caller may move: their own as
/// a client, or any as the provider. Anything else is "not found" (ids reveal
/// nothing, as everywhere).
async fn booking_to_move(state: &AppState, req: &HttpRequest, provider: &Provider, id: &str) -> ApiResult<BookingId> {
    let id = parse_id("moving", id, "a booking id")?;
    let not_found = || ApiError::not_found("booking");
    // The session is looked up only here: plain slot requests never touch it.
    let AuthUser(user) = AuthUser::extract(req).await.map_err(|_| not_found())?;
    let details = state.store.booking(provider.id, id).await?.ok_or_else(not_found)?;
    let mine = provider.user_id == user.id || details.booking.client_user_id == Some(user.id);
    if mine { Ok(id) } else { Err(not_found()) }
}

/// Free slots of a provider for one service, `from`..=`to` (dates in the
/// provider's time zone; default: today and the next six days). With
/// `moving` (a booking of the signed-in client, or of the signed-in provider)
/// that booking's own time counts as free: where it may be moved to.
#[utoipa::path(get, path = "/api/providers/{slug}/slots", tag = "public",
    params(("slug" = String, Path), ("service" = Uuid, Query), ("from" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, at most 62 days after from"),
        ("moving" = Option<Uuid>, Query, description = "a booking of mine to move (needs the bearer token)")),
    responses((status = 200, body = SlotsView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_slots(state: State, slug: web::Path<String>, req: HttpRequest) -> ApiResult {
    let params = query_params(&req)?;
    let service_id = params
        .get("service")
        .ok_or_else(|| ApiError::field("service", "required: the id of one of the provider's services"))?;
    let service_id = parse_id("service", service_id, "a service id")?;

    let provider = provider_by_slug(&state, &slug).await?;
    let tz = &provider.profile.timezone;
    let now = Timestamp::now();
    let DateRange { from, to, .. } = date_range(&params, tz, now)?;
    let moving = match params.get("moving") {
        Some(id) => Some(booking_to_move(&state, &req, &provider, id).await?),
        None => None,
    };

    // Answered from the provider's calendar actor, in memory.
    let slots = state.calendars.send(provider.id, GetSlots { service_id, from, to, now, moving }).await?;
    Ok(HttpResponse::Ok().json(SlotsView {
        provider: provider.profile.slug.as_str().to_owned(),
        service: service_id,
        timezone: tz.name().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        slots: slots.slots.iter().map(|slot| SlotView::new(&slots.time_zone, slot)).collect(),
    }))
}
