//! `/api/provider/schedule`: weekly hours with breaks, days off and date overrides.

use actix_web::HttpResponse;
use actors::domain::{DateOverride, LocalInterval, Schedule, TimeOfDay, WeeklyInterval};
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem};
use super::{auth::AuthUser, json::ValidJson, provider::my_provider, state::State};
use crate::views::ScheduleView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntervalInput {
    #[schema(value_type = String, example = "09:00")]
    pub start: TimeOfDay,
    /// `24:00` means until midnight.
    #[schema(value_type = String, example = "13:00")]
    pub end: TimeOfDay,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyInput {
    /// ISO weekday, Monday = 1 … Sunday = 7.
    pub weekday: u8,
    #[schema(value_type = String, example = "09:00")]
    pub start: TimeOfDay,
    #[schema(value_type = String, example = "18:00")]
    pub end: TimeOfDay,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    #[schema(value_type = String, example = "2027-12-31")]
    pub date: Date,
    /// A day off. Otherwise `intervals` replace the weekly hours that day.
    #[serde(default)]
    pub closed: bool,
    pub intervals: Option<Vec<IntervalInput>>,
}

/// The whole schedule; a PUT replaces it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub weekly: Vec<WeeklyInput>,
    #[serde(default)]
    pub overrides: Vec<OverrideInput>,
}

/// The schedule `input` describes, every check applied (the `json_bodies`
/// fuzz target drives it).
pub fn to_schedule(input: ScheduleInput) -> ApiResult<Schedule> {
    let weekly: Vec<WeeklyInterval> = input
        .weekly
        .iter()
        .map(|w| WeeklyInterval { weekday: w.weekday, interval: LocalInterval { start: w.start, end: w.end } })
        .collect();
    let mut overrides = Vec::with_capacity(input.overrides.len());
    for (i, item) in input.overrides.into_iter().enumerate() {
        let intervals: Vec<LocalInterval> = item
            .intervals
            .unwrap_or_default()
            .iter()
            .map(|iv| LocalInterval { start: iv.start, end: iv.end })
            .collect();
        let problem = match (item.closed, intervals.is_empty()) {
            (true, false) => "a closed day has no intervals",
            (false, true) => "give the day's intervals, or set closed: true for a day off",
            _ => {
                overrides.push(DateOverride { date: item.date, intervals });
                continue;
            }
        };
        return Err(ApiError::field(format!("overrides[{i}].intervals"), problem));
    }
    Ok(Schedule::new(&weekly, &overrides)?)
}

/// Replace my schedule.
#[utoipa::path(put, path = "/api/provider/schedule", tag = "provider", security(("bearer" = [])), request_body = ScheduleInput,
    responses((status = 200, body = ScheduleView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn put_schedule(
    state: State,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<ScheduleInput>,
) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let schedule = to_schedule(input)?;
    state.store.replace_schedule(provider.id, &schedule).await?;
    Ok(HttpResponse::Ok().json(ScheduleView::from(&schedule)))
}

/// My schedule.
#[utoipa::path(get, path = "/api/provider/schedule", tag = "provider", security(("bearer" = [])),
    responses((status = 200, body = ScheduleView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_schedule(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let schedule = state.store.schedule(provider.id).await?;
    Ok(HttpResponse::Ok().json(ScheduleView::from(&schedule)))
}
