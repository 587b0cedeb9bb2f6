//! What handlers read from a request: ids, instants, dates and date ranges,
//! the query string, the caller's address and the limits counted against it.

use std::collections::HashMap;

use actix_web::{HttpRequest, http::header::X_FORWARDED_FOR};
use actors::domain::{ProviderTimeZone, TimeOfDay, UserId};
use jiff::{Timestamp, ToSpan, civil::Date};
use uuid::Uuid;

use super::problem::{ApiError, ApiResult, ProblemType};
use super::state::AppState;
use crate::{client_address::TrustedProxies, rate_limit::Rule};

/// What `from`/`to` default to and how far apart they may be.
#[derive(Clone, Copy, Debug)]
pub struct RangeRule {
    /// `from` when left out, in days after today (negative: before).
    pub default_from: i64,
    /// `to` when left out, in days after `from`.
    pub default_days: i64,
    /// Longest range one request may cover (days after `from`).
    pub max_days: i64,
}

/// Agenda and slots: from today, a week by default, at most 62 days apart.
/// Keeps a single request cheap; the Mini App asks week by week.
pub const AGENDA_RANGE: RangeRule = RangeRule { default_from: 0, default_days: 6, max_days: 62 };

/// An id in `field`; `what` names it in the refusal ("a service id").
pub fn parse_id<Id: From<Uuid>>(field: &str, text: &str, what: &str) -> ApiResult<Id> {
    Uuid::parse_str(text).map(Id::from).map_err(|_| ApiError::field(field, format!("{text:?} is not {what}")))
}

/// Parses an RFC 3339 instant; the offset is required (a bare local time is
/// ambiguous). jiff reads offsets up to ±25:59; RFC 3339's hours stop at 23,
/// so `+25:00` is refused (issue 16).
pub fn parse_instant(field: &str, text: &str) -> ApiResult<Timestamp> {
    use jiff::fmt::temporal::{Pieces, PiecesOffset};
    let offset_in_range = match Pieces::parse(text).ok().and_then(|pieces| pieces.offset()) {
        Some(PiecesOffset::Numeric(numeric)) => numeric.offset().seconds().abs() < 24 * 3600,
        _ => true,
    };
    offset_in_range
        .then(|| text.parse::<Timestamp>().ok())
        .flatten()
        .ok_or_else(|| ApiError::field(field, format!("{text:?} is not a time as RFC 3339 with offset")))
}

pub fn parse_date(field: &str, text: &str) -> ApiResult<Date> {
    let well_formed = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    well_formed
        .then(|| text.parse::<Date>().ok())
        .flatten()
        .ok_or_else(|| ApiError::field(field, format!("{text:?} is not a date as YYYY-MM-DD")))
}

/// The query string as a map; a parameter given twice is refused, since
/// which one we would use is a guess.
pub fn query_params(req: &HttpRequest) -> ApiResult<HashMap<String, String>> {
    parse_query(req.query_string())
}

/// [`query_params`] on the raw query string: apart from the request so the
/// `query_parsers` fuzz target reaches it.
pub fn parse_query(query: &str) -> ApiResult<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(key.to_string(), value.into_owned()).is_some() {
            let detail = format!("{key} is given twice");
            return Err(ApiError::blaming(ProblemType::BadRequest, key, detail));
        }
    }
    Ok(params)
}

/// A range of the provider's local dates, and the instants it spans (from
/// `from`'s midnight to the end of `to`).
pub struct DateRange {
    pub from: Date,
    pub to: Date,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The `from`/`to` query dates (provider's calendar) by [`AGENDA_RANGE`].
pub fn date_range(params: &HashMap<String, String>, tz: &ProviderTimeZone, now: Timestamp) -> ApiResult<DateRange> {
    date_range_by(params, tz, now, AGENDA_RANGE)
}

/// The `from`/`to` query dates (provider's calendar) by `rule`. A date the
/// time zone cannot place on the time line (near year 9999) is refused,
/// never widened into an unbounded range: that once returned every booking.
pub fn date_range_by(
    params: &HashMap<String, String>,
    tz: &ProviderTimeZone,
    now: Timestamp,
    rule: RangeRule,
) -> ApiResult<DateRange> {
    let date = |field: &str| params.get(field).map(|text| parse_date(field, text)).transpose();
    let today = tz.date_of(now);
    let from = date("from")?.unwrap_or_else(|| today.checked_add(rule.default_from.days()).unwrap_or(today));
    let to = date("to")?.unwrap_or_else(|| from.checked_add(rule.default_days.days()).unwrap_or(from));
    if to < from {
        return Err(ApiError::field("to", "must not be before from"));
    }
    if i64::from((to - from).get_days()) > rule.max_days {
        return Err(ApiError::field("to", format!("at most {} days after from", rule.max_days)));
    }
    // The end of `to` is the next day's midnight, which the last date of the
    // calendar does not have: refused like a date the zone cannot place.
    let instant = |field: &str, time: TimeOfDay, date: Date| {
        time.on(date)
            .and_then(|local| tz.resolve(local))
            .ok_or_else(|| ApiError::field(field, format!("{date} is beyond the dates we can serve")))
    };
    let start = instant("from", TimeOfDay::MIDNIGHT, from)?;
    let end = instant("to", TimeOfDay::END_OF_DAY, to)?;
    Ok(DateRange { from, to, start, end })
}

/// The client's address: the socket's peer, or — only when that peer is in
/// `TRUSTED_PROXIES` — the address `X-Forwarded-For` traces back to (see
/// [`TrustedProxies::client`]). The rate limits and the access log both ask
/// here, so they always agree on who the client is.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr().map(|addr| addr.ip()) else { return "unknown".into() };
    if !trusted.contains(peer.to_canonical()) {
        // The usual case (no TRUSTED_PROXIES): the headers are not read at all.
        return peer.to_canonical().to_string();
    }
    let forwarded: Vec<&str> = req.headers().get_all(X_FORWARDED_FOR).filter_map(|value| value.to_str().ok()).collect();
    trusted.client(peer, &forwarded).to_string()
}

/// Counts the request against `rule`'s limit for the caller's address.
pub async fn limit_per_ip(state: &AppState, req: &HttpRequest, rule: Rule) -> ApiResult<()> {
    state.limiter.check(rule, &client_ip(req, &state.config.trusted_proxies)).await.map_err(ApiError::TooManyRequests)
}

/// A booking write (book, cancel, reschedule, provider action) counts against
/// the user's and the address's limits.
pub async fn limit_booking_write(state: &AppState, req: &HttpRequest, user_id: UserId) -> ApiResult<()> {
    state.limiter.check(Rule::BookingPerUser, &user_id.to_string()).await.map_err(ApiError::TooManyRequests)?;
    limit_per_ip(state, req, Rule::BookingPerIp).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str) -> HashMap<String, String> {
        HashMap::from([("from".to_owned(), from.to_owned()), ("to".to_owned(), to.to_owned())])
    }

    /// Found by the `query_parsers` fuzz target: in UTC+14 the last date of
    /// the calendar has a start but no end, and the range came back empty
    /// ("no bookings") instead of refused.
    #[test]
    fn the_last_date_of_the_calendar_is_refused_not_emptied() {
        // Further west the day's midnight is already past the last instant
        // jiff knows (9999-12-30T22:00Z), and `from` is to blame.
        for (zone, blamed) in [("Pacific/Kiritimati", "to"), ("UTC", "from"), ("America/Los_Angeles", "from")] {
            let tz = ProviderTimeZone::parse(zone).expect("a real zone");
            let refused = date_range(&params("9999-12-31", "9999-12-31"), &tz, Timestamp::now());
            match refused {
                Err(ApiError::Validation(error)) => assert_eq!(error.field, blamed, "{zone}"),
                Err(other) => panic!("{zone}: refused as {other}, not blaming {blamed}"),
                Ok(range) => panic!("{zone}: accepted as {}..{}", range.start, range.end),
            }
        }
        let tz = ProviderTimeZone::parse("Pacific/Kiritimati").expect("a real zone");
        let range = date_range(&params("2026-03-01", "2026-03-02"), &tz, Timestamp::now()).expect("an ordinary range");
        assert_eq!(range.end.duration_since(range.start).as_secs(), 48 * 3600);
    }
}
