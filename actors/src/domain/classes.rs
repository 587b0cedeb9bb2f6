//! Classes: a service with a capacity above 1 takes up to `capacity` clients
//! at the same start, each with their own booking and seat.
//!
//! Rules, decided once:
//! - A class start (an [`Occurrence`]) occupies the provider once, however
//!   many seats are taken: no other booking may overlap it, and another start
//!   of the same class may not overlap it either.
//! - A start with seats taken is offered while seats are left, and listed
//!   with `seats_left: 0` once full (watchers see it fill up); a start with
//!   none taken is offered with every seat, if the provider is free then.
//! - Only bookings holding a seat make up an occurrence: a one-to-one
//!   booking made before the service became a class keeps the provider busy
//!   like any other booking (the database's no-overlap rule agrees).
//! - Seats are numbered 1..=capacity; a booking takes the lowest free one, so
//!   two nodes racing for a seat race for the same number and the database's
//!   unique seat rule lets exactly one of them have it.

use jiff::{Timestamp, civil::Date};

use super::{Booking, BookingId, Busy, ServiceId, ServiceTiming, Slot, SlotCalendar, free_slots};

/// A class start with seats taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub start: Timestamp,
    /// What the start occupies, buffers included.
    pub occupied: Busy,
    /// The seats taken, in no particular order.
    pub seats: Vec<u16>,
}

/// The occurrences of class `service_id` among the active `bookings`,
/// leaving out `except` (a booking being moved frees its own seat).
pub fn occurrences(bookings: &[Booking], service_id: ServiceId, except: Option<BookingId>) -> Vec<Occurrence> {
    let mut found: Vec<Occurrence> = Vec::new();
    let seated = bookings
        .iter()
        .filter(|b| b.status.is_active() && b.service_id == service_id && Some(b.id) != except && b.seat.is_some());
    for booking in seated {
        let seat = booking.seat.unwrap_or_default();
        match found.iter_mut().find(|o| o.start == booking.start) {
            // Seats booked under other buffers may span differently: the
            // start holds the provider for all of them.
            Some(occurrence) => {
                occurrence.seats.push(seat);
                occurrence.occupied.start = occurrence.occupied.start.min(booking.occupied.start);
                occurrence.occupied.end = occurrence.occupied.end.max(booking.occupied.end);
            }
            None => found.push(Occurrence { start: booking.start, occupied: booking.occupied, seats: vec![seat] }),
        }
    }
    found
}

/// The slots of a class for dates `from..=to`: [`free_slots`] against
/// `others` (every active booking but this class's seats), each with its
/// seats left, minus the starts that would overlap another start of the
/// class. Full starts stay in the list with `seats_left: Some(0)`.
#[allow(clippy::too_many_arguments)]
pub fn class_slots(
    calendar: SlotCalendar<'_>,
    timing: ServiceTiming,
    capacity: u16,
    others: &[Busy],
    occurrences: &[Occurrence],
    from: Date,
    to: Date,
    now: Timestamp,
) -> Vec<Slot> {
    let (before, after) = timing.buffers_secs();
    free_slots(calendar, timing, others, from, to, now)
        .into_iter()
        .filter_map(|slot| {
            // A new seat occupies what the service's timing says now; no
            // other start of the class may overlap that.
            let occupied = Busy {
                start: slot.start - jiff::SignedDuration::from_secs(before),
                end: slot.end + jiff::SignedDuration::from_secs(after),
            };
            let clashes = occurrences
                .iter()
                .filter(|o| o.start != slot.start)
                .any(|o| o.occupied.start < occupied.end && occupied.start < o.occupied.end);
            if clashes {
                return None;
            }
            let taken = occurrences.iter().find(|o| o.start == slot.start).map_or(0, |o| o.seats.len());
            let taken = u16::try_from(taken).unwrap_or(u16::MAX);
            Some(Slot { seats_left: Some(capacity.saturating_sub(taken)), ..slot })
        })
        .collect()
}

/// The lowest seat number in `1..=capacity` not in `taken`; none once as
/// many seats are taken as there are (a capacity lowered below a seat
/// number held leaves a gap that is no free seat).
pub fn lowest_free_seat(taken: &[u16], capacity: u16) -> Option<u16> {
    if taken.len() >= usize::from(capacity) {
        return None;
    }
    (1..=capacity).find(|seat| !taken.contains(seat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        BookingRules, BookingStatus, LocalInterval, ProviderTimeZone, Schedule, TimeOfDay, WeeklyInterval,
    };

    fn at(hour: i8) -> Timestamp {
        format!("2027-06-01T{hour:02}:00:00Z").parse().unwrap()
    }

    fn seat(start: Timestamp, seat: u16) -> Booking {
        let mut booking = crate::domain::sample_booking(BookingStatus::Confirmed, &start.to_string());
        booking.end = start + jiff::SignedDuration::from_hours(1);
        booking.occupied = Busy { start, end: booking.end };
        booking.seat = Some(seat);
        booking.id = BookingId(uuid::Uuid::now_v7());
        booking
    }

    fn slots(capacity: u16, others: &[Busy], bookings: &[Booking]) -> Vec<(i8, Option<u16>)> {
        let zone = ProviderTimeZone::parse("UTC").unwrap();
        let weekly: Vec<WeeklyInterval> = (1..=7)
            .map(|weekday| WeeklyInterval {
                weekday,
                interval: LocalInterval {
                    start: TimeOfDay::parse("09:00").unwrap(),
                    end: TimeOfDay::parse("13:00").unwrap(),
                },
            })
            .collect();
        let schedule = Schedule::new(&weekly, &[]).unwrap();
        let rules = BookingRules { slot_step_min: 60, min_notice_min: 0, horizon_days: 366, ..Default::default() };
        let calendar = SlotCalendar { time_zone: &zone, schedule: &schedule, rules: &rules };
        let timing = ServiceTiming { duration_min: 60, buffer_before_min: 0, buffer_after_min: 0 };
        let service = bookings.first().map_or(ServiceId(uuid::Uuid::nil()), |b| b.service_id);
        let day = jiff::civil::date(2027, 6, 1);
        let now = at(0) - jiff::SignedDuration::from_hours(24);
        class_slots(calendar, timing, capacity, others, &occurrences(bookings, service, None), day, day, now)
            .into_iter()
            .map(|slot| (i8::try_from(slot.start.as_second().rem_euclid(86_400) / 3600).unwrap(), slot.seats_left))
            .collect()
    }

    #[test]
    fn an_empty_class_offers_every_seat_at_every_free_start() {
        let got: Vec<_> = slots(8, &[], &[]).into_iter().map(|(_, left)| left).collect();
        assert_eq!(got, [Some(8); 4]);
    }

    #[test]
    fn seats_count_down_and_a_full_start_stays_listed_with_none_left() {
        let ten = at(10);
        let got = slots(2, &[], &[seat(ten, 1)]);
        assert!(got.contains(&(10, Some(1))), "{got:?}");
        let got = slots(2, &[], &[seat(ten, 1), seat(ten, 2)]);
        assert!(got.contains(&(10, Some(0))), "{got:?}");
    }

    #[test]
    fn another_booking_or_an_overlapping_start_of_the_class_hides_a_start() {
        let got = slots(4, &[Busy { start: at(9), end: at(10) }], &[]);
        assert!(!got.iter().any(|(hour, _)| *hour == 9), "{got:?}");
        // A class start at 10:00 taking 90 minutes blocks 11:00 for the class.
        let mut long = seat(at(10), 1);
        long.occupied.end = at(11) + jiff::SignedDuration::from_mins(30);
        let got = slots(4, &[], &[long]);
        assert!(got.contains(&(10, Some(3))) && !got.iter().any(|(hour, _)| *hour == 11), "{got:?}");
    }

    #[test]
    fn the_lowest_free_seat_is_taken_and_none_beyond_the_capacity() {
        assert_eq!(lowest_free_seat(&[], 3), Some(1));
        assert_eq!(lowest_free_seat(&[1, 3], 3), Some(2));
        assert_eq!(lowest_free_seat(&[2, 1, 3], 3), None);
        // Capacity lowered from 5 to 4 with seats 2..=5 held: full, though seat 1 is unused.
        assert_eq!(lowest_free_seat(&[2, 3, 4, 5], 4), None);
    }
}
