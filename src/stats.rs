//! The provider's figures (issue 13, DESIGN §8 `GET /api/provider/stats`):
//! pure arithmetic over the bookings of a date range, no store or HTTP.
//!
//! What counts (DESIGN §8): `bookings` and revenue are what was booked in the
//! range and not cancelled or declined (a decline ends as `cancelled`), so a
//! pending request and a no-show count — the figure is "booked", not "paid".
//! Revenue is summed in one currency, the one most of the counted bookings'
//! services are priced in; services priced in another currency keep their
//! own sum in `by_service`. Days, weekdays and hours are the provider's.

use std::collections::{BTreeMap, HashMap};

use actors::domain::{BookingStatus, ProviderTimeZone, ServiceId};
use jiff::{ToSpan, civil::Date};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::BookingDetails;

/// A service's price, as the figures need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    pub minor: i64,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// The range, as the provider's dates.
    pub from: String,
    pub to: String,
    /// Booked in the range and not cancelled or declined.
    pub bookings: u32,
    pub completed: u32,
    /// Cancelled or declined.
    pub cancelled: u32,
    pub no_show: u32,
    /// `no_show / (completed + no_show)`; `null` before any visit was due.
    pub no_show_rate: Option<f64>,
    /// In minor units of `currency`, over the counted bookings priced in it.
    pub revenue_minor: i64,
    pub currency: Option<String>,
    /// Counted bookings by weekday of their start, Monday first.
    pub by_weekday: [u32; 7],
    /// Counted bookings by hour of their start, 0–23.
    pub by_hour: [u32; 24],
    /// Per service, the busiest first.
    pub by_service: Vec<ServiceFigures>,
    /// Per week (Monday to Sunday) touching the range, oldest first, none left out.
    pub by_week: Vec<WeekFigures>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ServiceFigures {
    #[schema(value_type = Uuid)]
    pub id: ServiceId,
    pub name: String,
    pub bookings: u32,
    pub revenue_minor: i64,
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WeekFigures {
    /// The week's Monday.
    pub week: String,
    pub bookings: u32,
    /// In `currency` of the whole answer.
    pub revenue_minor: i64,
}

/// The figures of `bookings` (those starting on `from..=to`, any status).
pub fn figures(
    bookings: &[BookingDetails],
    prices: &HashMap<ServiceId, Price>,
    tz: &ProviderTimeZone,
    from: Date,
    to: Date,
) -> Figures {
    let counted: Vec<&BookingDetails> =
        bookings.iter().filter(|d| d.booking.status != BookingStatus::Cancelled).collect();
    let status_count = |status| bookings.iter().filter(|d| d.booking.status == status).count() as u32;
    let (completed, no_show) = (status_count(BookingStatus::Completed), status_count(BookingStatus::NoShow));
    let price_of = |d: &BookingDetails| prices.get(&d.booking.service_id);
    let currency = most_common(counted.iter().filter_map(|d| price_of(d)).map(|p| p.currency.as_str()));
    let revenue_in = |d: &BookingDetails| match (price_of(d), &currency) {
        (Some(price), Some(currency)) if &price.currency == currency => price.minor,
        _ => 0,
    };

    let mut by_weekday = [0u32; 7];
    let mut by_hour = [0u32; 24];
    let mut by_service: BTreeMap<ServiceId, ServiceFigures> = BTreeMap::new();
    let mut by_week: BTreeMap<Date, WeekFigures> = weeks(from, to)
        .map(|monday| (monday, WeekFigures { week: monday.to_string(), bookings: 0, revenue_minor: 0 }))
        .collect();
    for details in &counted {
        let local = tz.datetime_of(details.booking.start);
        by_weekday[local.weekday().to_monday_zero_offset() as usize] += 1;
        by_hour[local.hour() as usize] += 1;
        let service = by_service.entry(details.booking.service_id).or_insert_with(|| ServiceFigures {
            id: details.booking.service_id,
            name: details.service_name.clone(),
            bookings: 0,
            revenue_minor: 0,
            currency: price_of(details).map(|p| p.currency.clone()),
        });
        service.bookings += 1;
        service.revenue_minor += price_of(details).map_or(0, |p| p.minor);
        if let Some(week) = by_week.get_mut(&monday_of(local.date())) {
            week.bookings += 1;
            week.revenue_minor += revenue_in(details);
        }
    }
    let mut by_service: Vec<ServiceFigures> = by_service.into_values().collect();
    by_service.sort_by(|a, b| b.bookings.cmp(&a.bookings).then_with(|| a.name.cmp(&b.name)));
    let due = completed + no_show;
    Figures {
        from: from.to_string(),
        to: to.to_string(),
        bookings: counted.len() as u32,
        completed,
        cancelled: status_count(BookingStatus::Cancelled),
        no_show,
        no_show_rate: (due > 0).then(|| f64::from(no_show) / f64::from(due)),
        revenue_minor: counted.iter().map(|d| revenue_in(d)).sum(),
        currency,
        by_weekday,
        by_hour,
        by_service,
        by_week: by_week.into_values().collect(),
    }
}

/// The Monday of `date`'s week.
fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(back.days()).unwrap_or(date)
}

/// The Mondays of every week touching `from..=to`.
fn weeks(from: Date, to: Date) -> impl Iterator<Item = Date> {
    let mut next = Some(monday_of(from));
    std::iter::from_fn(move || {
        let monday = next.filter(|monday| *monday <= to)?;
        next = monday.checked_add(7.days()).ok();
        Some(monday)
    })
}

/// The value seen most often; ties go to the alphabetically first.
fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, count)| *count == best).map(|(value, _)| value.to_owned())
}

#[cfg(test)]
mod tests;
