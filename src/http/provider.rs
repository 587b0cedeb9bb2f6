//! `/api/provider`: the signed-in user's provider profile and booking rules.

use actix_web::HttpResponse;
use actors::domain::{BookingRules, ProviderTimeZone, Slug, UserId};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::state::{AppState, State};
use super::{auth::AuthUser, json::ValidJson, validate};
use crate::store::{Provider, ProviderProfile};
use crate::views::ProviderView;

/// A provider profile. Rule fields left out keep their current value (or
/// the default, for a new profile), so a client can edit the profile without
/// knowing every rule.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    #[schema(example = "anna-nails")]
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    /// Free text shown to clients: phone, address, links.
    pub contacts: Option<String>,
    /// IANA time zone name.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    pub slot_step_min: Option<u16>,
    pub min_notice_min: Option<u32>,
    pub horizon_days: Option<u16>,
    pub cancel_cutoff_min: Option<u32>,
    pub requires_confirmation: Option<bool>,
    pub reminder_offsets_min: Option<Vec<u32>>,
    /// Minutes (5 to 10080) within which a pending request must be
    /// confirmed, else it is declined and the client told; `0` turns the
    /// deadline off (left out, like every rule, it stays as it is).
    pub confirm_within_min: Option<u32>,
    /// A morning digest of the day in the chat (at 07:00 in my time zone).
    pub morning_digest: Option<bool>,
}

/// The caller's provider profile, or the problem telling them to create one.
pub async fn my_provider(state: &AppState, user_id: UserId) -> ApiResult<Provider> {
    state.store.provider_of_user(user_id).await?.ok_or_else(|| {
        ApiError::new(ProblemType::NoProviderProfile, "create your provider profile first (PUT /api/provider)")
    })
}

/// The profile `input` asks for, its rules left out taken from `base`
/// (the current rules, or the defaults): every check, no lookup (the
/// `json_bodies` fuzz target drives it).
pub fn profile(input: ProviderInput, base: BookingRules) -> ApiResult<ProviderProfile> {
    let rules = BookingRules {
        slot_step_min: input.slot_step_min.unwrap_or(base.slot_step_min),
        min_notice_min: input.min_notice_min.unwrap_or(base.min_notice_min),
        horizon_days: input.horizon_days.unwrap_or(base.horizon_days),
        cancel_cutoff_min: input.cancel_cutoff_min.unwrap_or(base.cancel_cutoff_min),
        requires_confirmation: input.requires_confirmation.unwrap_or(base.requires_confirmation),
        reminder_offsets_min: input.reminder_offsets_min.unwrap_or(base.reminder_offsets_min),
        confirm_within_min: match input.confirm_within_min {
            None => base.confirm_within_min,
            Some(0) => None,
            Some(within) => Some(within),
        },
        morning_digest: input.morning_digest.unwrap_or(base.morning_digest),
    };
    rules.validate()?;
    let slug = Slug::parse(&input.slug).map_err(|message| ApiError::field("slug", message))?;
    let timezone =
        ProviderTimeZone::parse(input.timezone.trim()).map_err(|message| ApiError::field("timezone", message))?;
    Ok(ProviderProfile {
        slug,
        display_name: validate::text("display_name", &input.display_name, 100, false)?,
        business_name: validate::optional_text("business_name", input.business_name.as_deref(), 100, false)?,
        contacts: validate::optional_text("contacts", input.contacts.as_deref(), 500, true)?,
        timezone,
        rules,
    })
}

/// Create or update my provider profile.
#[utoipa::path(put, path = "/api/provider", tag = "provider", security(("bearer" = [])), request_body = ProviderInput,
    responses((status = 200, body = ProviderView), (status = 401, body = Problem),
        (status = 409, description = "slug taken", body = Problem), (status = 422, body = Problem)))]
pub async fn put_provider(
    state: State,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<ProviderInput>,
) -> ApiResult {
    let current = state.store.provider_of_user(user.id).await?;
    let profile = profile(input, current.map(|p| p.profile.rules).unwrap_or_default())?;
    let provider = state.store.upsert_provider(user.id, &profile, Timestamp::now()).await?;
    Ok(HttpResponse::Ok().json(ProviderView::from(&provider)))
}

/// My provider profile.
#[utoipa::path(get, path = "/api/provider", tag = "provider", security(("bearer" = [])),
    responses((status = 200, body = ProviderView), (status = 401, body = Problem),
        (status = 404, description = "no provider profile yet", body = Problem)))]
pub async fn get_provider(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    Ok(HttpResponse::Ok().json(ProviderView::from(&provider)))
}
