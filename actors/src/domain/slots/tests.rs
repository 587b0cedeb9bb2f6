use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::domain::{DateOverride, LocalInterval, TimeOfDay, WeeklyInterval};

fn t(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

fn every_day(start: &str, end: &str, overrides: &[DateOverride]) -> Schedule {
    let interval = LocalInterval { start: t(start), end: t(end) };
    let weekly: Vec<_> = (1..=7).map(|weekday| WeeklyInterval { weekday, interval }).collect();
    Schedule::new(&weekly, overrides).unwrap()
}

fn hourly_rules() -> BookingRules {
    BookingRules { slot_step_min: 60, min_notice_min: 0, horizon_days: 366, ..Default::default() }
}

const ONE_HOUR: ServiceTiming = ServiceTiming { duration_min: 60, buffer_before_min: 0, buffer_after_min: 0 };

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn formatted(tz: &ProviderTimeZone, slots: &[Slot]) -> Vec<String> {
    slots.iter().map(|s| tz.format(s.start)).collect()
}

fn slots_on(tz_name: &str, schedule: &Schedule, day: Date) -> (ProviderTimeZone, Vec<Slot>) {
    let tz = ProviderTimeZone::parse(tz_name).unwrap();
    let rules = hourly_rules();
    let calendar = SlotCalendar { time_zone: &tz, schedule, rules: &rules };
    let slots = free_slots(calendar, ONE_HOUR, &[], day, day, ts("2027-01-01T00:00:00Z"));
    (tz, slots)
}

/// The hourly slots of `day` in `zone`, open `open`–`close` every day.
fn labels(zone: &str, open: &str, close: &str, day: Date) -> Vec<String> {
    let (tz, slots) = slots_on(zone, &every_day(open, close, &[]), day);
    formatted(&tz, &slots)
}

/// Full labels on `day` from `HH:MM±hh:mm` (wall-clock time and offset).
fn on(day: Date, times: &[&str]) -> Vec<String> {
    times.iter().map(|t| format!("{day}T{}:00{}", &t[..5], &t[5..])).collect()
}

// Offsets and switch instants cross-checked against the IANA reference
// implementation: `zdump -v -c 2027,2028 Europe/Berlin` prints
//   Sun Mar 28 01:00:00 2027 UT = Sun Mar 28 03:00:00 2027 CEST gmtoff=7200
//   Sun Oct 31 01:00:00 2027 UT = Sun Oct 31 02:00:00 2027 CET  gmtoff=3600
#[test]
fn berlin_spring_forward_keeps_nine_daytime_slots_with_the_right_offset() {
    let schedule = every_day("09:00", "18:00", &[]);
    for (day, offset) in [(date(2027, 3, 27), "+01:00"), (date(2027, 3, 28), "+02:00"), (date(2027, 3, 29), "+02:00")] {
        let (tz, slots) = slots_on("Europe/Berlin", &schedule, day);
        let expected: Vec<String> = (9..18).map(|h| format!("{day}T{h:02}:00:00{offset}")).collect();
        assert_eq!(formatted(&tz, &slots), expected, "{day}");
        assert!(slots.iter().all(|s| (s.end - s.start) == jiff::SignedDuration::from_hours(1)));
    }
}

#[test]
fn berlin_overnight_interval_loses_an_hour_in_spring_and_gains_one_in_autumn() {
    let spring = date(2027, 3, 28);
    let expected = on(spring, &["00:00+01:00", "01:00+01:00", "03:00+02:00", "04:00+02:00", "05:00+02:00"]);
    assert_eq!(labels("Europe/Berlin", "00:00", "06:00", spring), expected);
    let autumn = date(2027, 10, 31);
    let expected = on(
        autumn,
        &["00:00+02:00", "01:00+02:00", "02:00+02:00", "02:00+01:00", "03:00+01:00", "04:00+01:00", "05:00+01:00"],
    );
    assert_eq!(labels("Europe/Berlin", "00:00", "06:00", autumn), expected);
}

// `zdump -v -c 2027,2028 America/New_York`:
//   Sun Mar 14 07:00:00 2027 UT = Sun Mar 14 03:00:00 2027 EDT gmtoff=-14400
//   Sun Nov  7 06:00:00 2027 UT = Sun Nov  7 01:00:00 2027 EST gmtoff=-18000
#[test]
fn new_york_offers_nothing_in_the_missing_hour() {
    let schedule = every_day("00:00", "06:00", &[]);
    let tz = ProviderTimeZone::parse("America/New_York").unwrap();
    let rules = BookingRules { slot_step_min: 15, ..hourly_rules() };
    let calendar = SlotCalendar { time_zone: &tz, schedule: &schedule, rules: &rules };
    let short = ServiceTiming { duration_min: 15, ..ONE_HOUR };
    let day = date(2027, 3, 14);
    let slots = free_slots(calendar, short, &[], day, day, ts("2027-01-01T00:00:00Z"));
    let labels = formatted(&tz, &slots);
    assert!(labels.iter().all(|l| !l.starts_with("2027-03-14T02:")), "{labels:?}");
    assert!(labels.contains(&"2027-03-14T01:45:00-05:00".to_owned()));
    assert!(labels.contains(&"2027-03-14T03:00:00-04:00".to_owned()));
    // 6 local hours minus the missing one, four 15-minute slots each.
    assert_eq!(slots.len(), 5 * 4);
}

#[test]
fn new_york_repeated_hour_is_offered_twice_as_distinct_instants() {
    let day = date(2027, 11, 7);
    let expected = on(day, &["00:00-04:00", "01:00-04:00", "01:00-05:00", "02:00-05:00"]);
    assert_eq!(labels("America/New_York", "00:00", "03:00", day), expected);
}

#[test]
fn kolkata_slots_carry_the_half_hour_offset() {
    let day = date(2027, 3, 28);
    let (tz, slots) = slots_on("Asia/Kolkata", &every_day("09:00", "12:00", &[]), day);
    assert_eq!(formatted(&tz, &slots), on(day, &["09:00+05:30", "10:00+05:30", "11:00+05:30"]));
    assert_eq!(slots[0].start, ts("2027-03-28T03:30:00Z"));
}

// `zdump -v -c 2027,2028 Australia/Lord_Howe`:
//   Sat Apr  3 15:00:00 2027 UT = Sun Apr  4 01:30:00 2027 +1030
//   Sat Oct  2 15:30:00 2027 UT = Sun Oct  3 02:30:00 2027 +11
#[test]
fn lord_howe_half_hour_shift() {
    // 4 local hours + 30 repeated minutes = 4.5 h of real time: four 1-hour slots
    // stepping in elapsed time from midnight.
    let autumn = date(2027, 4, 4);
    let expected = on(autumn, &["00:00+11:00", "01:00+11:00", "01:30+10:30", "02:30+10:30"]);
    assert_eq!(labels("Australia/Lord_Howe", "00:00", "04:00", autumn), expected);
    // 3.5 h of real time: 00:00, 01:00, then 02:00 does not exist (02:00 +10:30
    // is 02:30 +11:00) — three slots.
    let spring = date(2027, 10, 3);
    let expected = on(spring, &["00:00+10:30", "01:00+10:30", "02:30+11:00"]);
    assert_eq!(labels("Australia/Lord_Howe", "00:00", "04:00", spring), expected);
}

#[test]
fn working_interval_starting_in_a_gap_starts_when_the_clock_reaches_it() {
    // 02:30 does not exist in Berlin on 2027-03-28: it resolves to 03:30+02:00.
    let day = date(2027, 3, 28);
    assert_eq!(labels("Europe/Berlin", "02:30", "06:00", day), on(day, &["03:30+02:00", "04:30+02:00"]));
}

#[test]
fn notice_horizon_and_buffers_are_respected() {
    let tz = ProviderTimeZone::parse("Europe/Berlin").unwrap();
    let schedule = every_day("09:00", "12:00", &[]);
    let rules = BookingRules { slot_step_min: 30, min_notice_min: 90, horizon_days: 1, ..Default::default() };
    let calendar = SlotCalendar { time_zone: &tz, schedule: &schedule, rules: &rules };
    let service = ServiceTiming { duration_min: 30, buffer_before_min: 15, buffer_after_min: 15 };
    let now = ts("2027-06-01T07:10:00Z"); // 09:10 local
    let busy = [Busy { start: ts("2027-06-02T08:00:00Z"), end: ts("2027-06-02T08:30:00Z") }]; // 10:00–10:30 local
    let slots = free_slots(calendar, service, &busy, date(2027, 6, 1), date(2027, 6, 30), now);
    assert_eq!(
        formatted(&tz, &slots),
        [
            // Today: 10:40 is the earliest start allowed by the notice.
            "2027-06-01T11:00:00+02:00",
            "2027-06-01T11:30:00+02:00",
            // Tomorrow (the horizon): 09:30 would end 10:00 and its after-buffer
            // hits the booking; 10:30 would start right after it, its buffer too.
            "2027-06-02T09:00:00+02:00",
            "2027-06-02T11:00:00+02:00",
            "2027-06-02T11:30:00+02:00",
        ]
    );
    assert!(is_offered(calendar, service, &busy, ts("2027-06-02T09:00:00Z"), now));
    assert!(!is_offered(calendar, service, &busy, ts("2027-06-02T07:30:00Z"), now));
    assert!(!is_offered(calendar, service, &busy, ts("2027-06-02T09:10:00Z"), now), "not on the step grid");
    assert!(!is_offered(calendar, service, &busy, ts("2027-06-03T07:00:00Z"), now), "beyond the horizon");
}

#[test]
fn a_closed_override_and_an_override_with_its_own_hours() {
    let tz = ProviderTimeZone::parse("Europe/Berlin").unwrap();
    let overrides = [
        DateOverride { date: date(2027, 6, 2), intervals: vec![] },
        DateOverride { date: date(2027, 6, 3), intervals: vec![LocalInterval { start: t("15:00"), end: t("16:00") }] },
    ];
    let schedule = every_day("09:00", "11:00", &overrides);
    let rules = hourly_rules();
    let calendar = SlotCalendar { time_zone: &tz, schedule: &schedule, rules: &rules };
    let slots = free_slots(calendar, ONE_HOUR, &[], date(2027, 6, 1), date(2027, 6, 3), ts("2027-01-01T00:00:00Z"));
    assert_eq!(
        formatted(&tz, &slots),
        ["2027-06-01T09:00:00+02:00", "2027-06-01T10:00:00+02:00", "2027-06-03T15:00:00+02:00"]
    );
}

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "UTC",
];

fn arb_schedule() -> impl Strategy<Value = Schedule> {
    // Per weekday, a sorted set of cut points in 15-minute units, paired up into
    // disjoint intervals.
    proptest::collection::vec(proptest::collection::btree_set(0u16..=96, 0..6), 7).prop_map(|days| {
        let quarter = |n: u16| TimeOfDay::from_minutes(n * 15).unwrap();
        let mut weekly = Vec::new();
        for (cuts, weekday) in days.iter().zip(1u8..) {
            let cuts: Vec<u16> = cuts.iter().copied().collect();
            for pair in cuts.chunks_exact(2) {
                let interval = LocalInterval { start: quarter(pair[0]), end: quarter(pair[1]) };
                weekly.push(WeeklyInterval { weekday, interval });
            }
        }
        Schedule::new(&weekly, &[]).unwrap()
    })
}

fn arb_busy(base: i64) -> impl Strategy<Value = Vec<Busy>> {
    proptest::collection::vec((0i64..40 * 24 * 4, 1i64..16), 0..40).prop_map(move |items| {
        items
            .into_iter()
            .map(|(start, len)| Busy {
                start: Timestamp::from_second(base + start * 900).unwrap(),
                end: Timestamp::from_second(base + (start + len) * 900).unwrap(),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn offered_slots_are_really_bookable(
        zone in proptest::sample::select(ZONES),
        schedule in arb_schedule(),
        busy in arb_busy(1_800_000_000),
        step in proptest::sample::select(&[5u16, 10, 15, 20, 30, 45, 60, 90][..]),
        duration in 5u16..=180,
        buffer_before in 0u16..=30,
        buffer_after in 0u16..=30,
        notice in 0u32..=3000,
        horizon in 1u16..=40,
        now_offset in 0i64..=20 * 86_400,
        from_offset in -3i64..=40,
        span in 0i64..=14,
    ) {
        let tz = ProviderTimeZone::parse(zone).unwrap();
        let rules = BookingRules { slot_step_min: step, min_notice_min: notice, horizon_days: horizon, ..Default::default() };
        let service = ServiceTiming { duration_min: duration, buffer_before_min: buffer_before, buffer_after_min: buffer_after };
        let calendar = SlotCalendar { time_zone: &tz, schedule: &schedule, rules: &rules };
        // Around 2027-01-15, so that DST switches of both hemispheres are in range.
        let now = Timestamp::from_second(1_800_000_000 + now_offset).unwrap();
        let today = tz.date_of(now);
        let from = today.checked_add(from_offset.days()).unwrap();
        let to = from.checked_add(span.days()).unwrap();

        let slots = free_slots(calendar, service, &busy, from, to, now);

        for pair in slots.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "sorted and never offered twice");
        }
        let last_bookable = today.checked_add(i64::from(horizon).days()).unwrap();
        for slot in &slots {
            let date = tz.date_of(slot.start);
            prop_assert!(date >= from && date <= to, "inside the asked range");
            prop_assert!(date <= last_bookable, "inside the horizon");
            prop_assert!(slot.start.as_second() >= now.as_second() + i64::from(notice) * 60, "after the notice");
            prop_assert_eq!(slot.end.as_second() - slot.start.as_second(), i64::from(duration) * 60);
            let inside_hours = schedule.intervals_on(date).iter().any(|iv| {
                let open = iv.start.on(date).and_then(|local| tz.resolve(local)).unwrap();
                let close = iv.end.on(date).and_then(|local| tz.resolve(local)).unwrap();
                open <= slot.start && slot.end <= close
            });
            prop_assert!(inside_hours, "inside working hours: {}", tz.format(slot.start));
            let occupied = (
                slot.start.as_second() - i64::from(buffer_before) * 60,
                slot.end.as_second() + i64::from(buffer_after) * 60,
            );
            for b in &busy {
                prop_assert!(
                    !(occupied.0 < b.end.as_second() && b.start.as_second() < occupied.1),
                    "overlaps a booking or its buffer"
                );
            }
            prop_assert!(is_offered(calendar, service, &busy, slot.start, now));
        }
    }
}

/// What the provider's booking outside the hours must still keep: half-open
/// ranges, so touching is not overlapping, against unsorted, overlapping busy.
#[test]
fn is_free_means_no_overlap_with_any_busy_range() {
    let busy = |from: &str, to: &str| Busy { start: ts(from), end: ts(to) };
    let taken = [
        busy("2027-06-02T12:00:00Z", "2027-06-02T13:00:00Z"),
        busy("2027-06-02T08:00:00Z", "2027-06-02T09:30:00Z"),
        busy("2027-06-02T09:00:00Z", "2027-06-02T10:00:00Z"),
    ];
    assert!(is_free(&taken, busy("2027-06-02T10:00:00Z", "2027-06-02T12:00:00Z")), "between, touching both");
    assert!(!is_free(&taken, busy("2027-06-02T09:45:00Z", "2027-06-02T10:15:00Z")));
    assert!(!is_free(&taken, busy("2027-06-02T07:00:00Z", "2027-06-02T14:00:00Z")), "around everything");
    assert!(!is_free(&taken, busy("2027-06-02T12:15:00Z", "2027-06-02T12:30:00Z")), "inside one");
    assert!(is_free(&[], busy("2027-06-02T12:15:00Z", "2027-06-02T12:30:00Z")));
}
