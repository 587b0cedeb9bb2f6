//! Free-slot computation: working hours in the provider's time zone, minus
//! notice, horizon and everything already booked (with buffers).
//!
//! Rules, decided once and relied on everywhere:
//! - A working interval `[start, end)` on a date is the real elapsed time
//!   between its resolved start and end instants ([`ProviderTimeZone::resolve`]).
//!   On a spring-forward night an interval is shorter, on a fall-back night longer.
//! - Slot starts step from the interval's start in *elapsed* time, so the hour
//!   that does not exist gets no slot, and a repeated hour gets two slots with
//!   the same wall-clock label and different offsets (they are different instants).
//! - The service itself (`[start, start + duration)`) must lie inside the
//!   working interval; its buffers only have to be free of other bookings and
//!   may extend past closing time (preparing before opening is the provider's
//!   own business).
//! - Notice: a slot starts no earlier than `now + min_notice`. Horizon: a slot's
//!   local date is at most `today + horizon_days` in the provider's calendar.

use jiff::{Timestamp, ToSpan, civil::Date};

use super::{BookingRules, ProviderTimeZone, Schedule, ServiceTiming, TimeOfDay};

/// Time a booking keeps busy, buffers included, half-open `[start, end)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Busy {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// An offered slot: when the service starts and ends (buffers not included).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    /// A class's free seats at this start (0: full, shown but not
    /// bookable); `None` for a one-to-one service.
    pub seats_left: Option<u16>,
}

impl Slot {
    /// Whether a client could book this slot now.
    pub fn bookable(&self) -> bool {
        self.seats_left != Some(0)
    }
}

/// Everything about a provider that decides which slots exist.
#[derive(Copy, Clone, Debug)]
pub struct SlotCalendar<'a> {
    pub time_zone: &'a ProviderTimeZone,
    pub schedule: &'a Schedule,
    pub rules: &'a BookingRules,
}

/// The free slots for `service` whose local start date lies in `from..=to`.
///
/// `busy` may come in any order and may overlap. The result is sorted by start
/// and never lists a start twice.
pub fn free_slots(
    calendar: SlotCalendar<'_>,
    service: ServiceTiming,
    busy: &[Busy],
    from: Date,
    to: Date,
    now: Timestamp,
) -> Vec<Slot> {
    let SlotCalendar { time_zone, schedule, rules } = calendar;
    let today = time_zone.date_of(now);
    let last_bookable = today.checked_add(i64::from(rules.horizon_days).days()).unwrap_or(Date::MAX);
    let from = from.max(today);
    let to = to.min(last_bookable);
    if from > to {
        return Vec::new();
    }

    let busy = merge(busy);
    let earliest = now.as_second() + i64::from(rules.min_notice_min) * 60;
    let step = i64::from(rules.slot_step_min.max(1)) * 60;
    let duration = service.duration_secs();
    let (before, after) = service.buffers_secs();
    let mut slots = Vec::new();

    let mut date = from;
    loop {
        for interval in schedule.intervals_on(date) {
            let resolve = |time: TimeOfDay| time.on(date).and_then(|local| time_zone.resolve(local));
            let (Some(open), Some(close)) = (resolve(interval.start), resolve(interval.end)) else {
                continue;
            };
            let (open, close) = (open.as_second(), close.as_second());
            // Jump straight to the first aligned start that respects the notice.
            let mut start = open;
            if start < earliest {
                start += (earliest - start + step - 1) / step * step;
            }
            while start + duration <= close {
                let occupied = (start - before, start + duration + after);
                if !overlaps_any(&busy, occupied)
                    && let (Ok(start), Ok(end)) =
                        (Timestamp::from_second(start), Timestamp::from_second(start + duration))
                {
                    slots.push(Slot { start, end, seats_left: None });
                }
                start += step;
            }
        }
        match date.tomorrow() {
            Ok(next) if date < to => date = next,
            _ => break,
        }
    }
    // Local intervals resolve monotonically except right at a DST gap, so one
    // cheap pass makes order and uniqueness hold unconditionally.
    slots.sort_unstable();
    slots.dedup_by_key(|slot| slot.start);
    slots
}

/// Whether `start` is a slot [`free_slots`] offers for `service` right now.
/// This is the check a booking must pass (DESIGN §3 invariant 3).
pub fn is_offered(
    calendar: SlotCalendar<'_>,
    service: ServiceTiming,
    busy: &[Busy],
    start: Timestamp,
    now: Timestamp,
) -> bool {
    let date = calendar.time_zone.date_of(start);
    free_slots(calendar, service, busy, date, date, now).binary_search_by_key(&start, |slot| slot.start).is_ok()
}

/// Whether `occupied` overlaps none of `busy`: the one rule a provider's
/// booking outside the hours must still keep (DESIGN §3 invariant 1).
pub fn is_free(busy: &[Busy], occupied: Busy) -> bool {
    !overlaps_any(&merge(busy), (occupied.start.as_second(), occupied.end.as_second()))
}

/// Sorted, disjoint busy ranges in seconds. Because they are disjoint, their
/// ends are sorted too, which lets [`overlaps_any`] binary-search.
fn merge(busy: &[Busy]) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> =
        busy.iter().map(|b| (b.start.as_second(), b.end.as_second())).filter(|(start, end)| start < end).collect();
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Half-open overlap of `(from, to)` with any merged busy range.
fn overlaps_any(busy: &[(i64, i64)], (from, to): (i64, i64)) -> bool {
    let first_ending_after = busy.partition_point(|&(_, end)| end <= from);
    busy.get(first_ending_after).is_some_and(|&(start, _)| start < to)
}

#[cfg(test)]
mod tests;
