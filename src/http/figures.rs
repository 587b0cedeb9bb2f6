//! `GET /api/provider/stats`: the provider's figures for a date range.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse};
use jiff::Timestamp;

use super::extract::{DateRange, RangeRule, date_range_by, query_params};
use super::problem::{ApiResult, Problem};
use super::{auth::AuthUser, provider::my_provider, state::State};
use crate::stats::{self, Figures, Price};

/// The last twelve weeks through today by default; at most a year and a day.
const STATS_RANGE: RangeRule = RangeRule { default_from: -83, default_days: 83, max_days: 366 };

/// My figures: bookings, completed, cancelled, no-shows, revenue, by weekday,
/// hour, service and week, over my dates `from`..=`to`.
#[utoipa::path(get, path = "/api/provider/stats", tag = "provider", security(("bearer" = [])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD (default: 83 days before today)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD (default: 83 days after from)")),
    responses((status = 200, body = Figures), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn get_stats(state: State, AuthUser(user): AuthUser, req: HttpRequest) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let tz = &provider.profile.timezone;
    let params = query_params(&req)?;
    let DateRange { from, to, start, end } = date_range_by(&params, tz, Timestamp::now(), STATS_RANGE)?;
    let bookings = state.store.provider_bookings(provider.id, start, end).await?;
    let services = state.store.services(provider.id, true).await?;
    let prices: HashMap<_, _> = services
        .into_iter()
        .filter_map(|s| Some((s.id, Price { minor: s.fields.price_minor?, currency: s.fields.currency? })))
        .collect();
    Ok(HttpResponse::Ok().json(stats::figures(&bookings, &prices, tz, from, to)))
}
