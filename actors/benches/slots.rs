//! Slot computation for a busy provider: 60 days of slots with 1,000 bookings.
//! Target (issue "Foundation"): ≤ 1 ms per computation.
//!
//! Run: `cargo bench -p actors --bench slots`

use actors::domain::{
    BookingRules, Busy, LocalInterval, ProviderTimeZone, Schedule, ServiceTiming, SlotCalendar, TimeOfDay,
    WeeklyInterval, free_slots,
};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{Timestamp, ToSpan};

fn busy_provider(c: &mut Criterion) {
    let tz = ProviderTimeZone::parse("Europe/Berlin").expect("known zone");
    let at = |text: &str| TimeOfDay::parse(text).expect("valid time");
    // Mon–Sat 09:00–13:00 and 14:00–19:00, a lunch break in between.
    let weekly: Vec<WeeklyInterval> = (1..=6)
        .flat_map(|weekday| {
            [("09:00", "13:00"), ("14:00", "19:00")].map(|(start, end)| WeeklyInterval {
                weekday,
                interval: LocalInterval { start: at(start), end: at(end) },
            })
        })
        .collect();
    let schedule = Schedule::new(&weekly, &[]).expect("valid schedule");
    let rules = BookingRules { slot_step_min: 15, min_notice_min: 60, horizon_days: 90, ..Default::default() };
    let service = ServiceTiming { duration_min: 30, buffer_before_min: 5, buffer_after_min: 5 };
    let calendar = SlotCalendar { time_zone: &tz, schedule: &schedule, rules: &rules };

    let now: Timestamp = "2027-03-01T06:00:00Z".parse().expect("timestamp");
    // 1,000 bookings spread over the 60 days, 20 minutes each.
    let busy: Vec<Busy> = (0..1000i64)
        .map(|i| {
            let start = now + (i * 60 * 60 * 24 * 60 / 1000).seconds();
            Busy { start, end: start + 20.minutes() }
        })
        .collect();
    let from = tz.date_of(now);
    let to = from.checked_add(59.days()).expect("date");

    let offered = free_slots(calendar, service, &busy, from, to, now).len();
    assert!(offered > 500, "the benchmark must exercise real work, got {offered} slots");

    c.bench_function("free_slots 60 days, 1000 bookings", |b| {
        b.iter(|| free_slots(calendar, service, std::hint::black_box(&busy), from, to, now))
    });
}

criterion_group!(benches, busy_provider);
criterion_main!(benches);
