use actors::domain::{Booking, BookingId, Busy, ClientId, ProviderId};
use jiff::{Timestamp, civil::date};

use super::*;

fn booking(service: ServiceId, name: &str, start: &str, status: BookingStatus) -> BookingDetails {
    let start: Timestamp = start.parse().expect("an instant");
    BookingDetails {
        booking: Booking {
            id: BookingId::generate(),
            provider_id: ProviderId(uuid::Uuid::nil()),
            service_id: service,
            client_id: ClientId(uuid::Uuid::nil()),
            client_user_id: None,
            start,
            end: start,
            occupied: Busy { start, end: start },
            status,
            note: None,
            created_by: None,
            idempotency_key: None,
            created_at: start,
            updated_at: start,
            revision: 0,
            confirm_by: None,
            proposed_start: None,
            attendance_confirmed_at: None,
            seat: None,
        },
        provider_slug: "anna".into(),
        provider_name: "Anna".into(),
        timezone: ProviderTimeZone::parse("Europe/Berlin").expect("a zone"),
        service_name: name.into(),
        client_name: "Carol".into(),
    }
}

/// Berlin, autumn 2027: Sat 30 Oct (summer time) and Mon 1 Nov (winter
/// time) — a 09:00Z start is 11:00 on the first and 10:00 on the second.
#[test]
fn counts_by_status_sums_one_currency_and_buckets_in_local_time() {
    let (cut, colour, lesson) = (ServiceId::generate(), ServiceId::generate(), ServiceId::generate());
    let prices = HashMap::from([
        (cut, Price { minor: 3000, currency: "EUR".into() }),
        (colour, Price { minor: 8000, currency: "EUR".into() }),
        (lesson, Price { minor: 5000, currency: "USD".into() }),
    ]);
    use BookingStatus::*;
    let bookings = [
        booking(cut, "Cut", "2027-10-30T09:00:00Z", Completed),
        booking(cut, "Cut", "2027-11-01T09:00:00Z", NoShow),
        booking(colour, "Colour", "2027-11-01T13:00:00Z", Confirmed),
        booking(colour, "Colour", "2027-11-02T13:00:00Z", Cancelled),
        booking(lesson, "Lesson", "2027-11-03T08:00:00Z", Pending),
    ];
    let tz = ProviderTimeZone::parse("Europe/Berlin").expect("a zone");
    let figures = figures(&bookings, &prices, &tz, date(2027, 10, 30), date(2027, 11, 7));

    assert_eq!((figures.bookings, figures.completed, figures.cancelled, figures.no_show), (4, 1, 1, 1));
    assert_eq!(figures.no_show_rate, Some(0.5));
    assert_eq!(figures.currency.as_deref(), Some("EUR"), "three counted bookings in EUR, one in USD");
    assert_eq!(figures.revenue_minor, 3000 + 3000 + 8000, "booked, not paid: the no-show counts; USD does not");
    // Sat, Mon, Mon, Wed; 11:00 (summer), 10:00, 14:00, 09:00 (winter).
    assert_eq!(figures.by_weekday, [2, 0, 1, 0, 0, 1, 0]);
    let hours: Vec<usize> = (0..24).filter(|h| figures.by_hour[*h] > 0).collect();
    assert_eq!(hours, [9, 10, 11, 14]);
    let services: Vec<(&str, u32, i64, Option<&str>)> = figures
        .by_service
        .iter()
        .map(|s| (s.name.as_str(), s.bookings, s.revenue_minor, s.currency.as_deref()))
        .collect();
    assert_eq!(
        services,
        [("Cut", 2, 6000, Some("EUR")), ("Colour", 1, 8000, Some("EUR")), ("Lesson", 1, 5000, Some("USD"))]
    );
    let weeks: Vec<(&str, u32, i64)> =
        figures.by_week.iter().map(|w| (w.week.as_str(), w.bookings, w.revenue_minor)).collect();
    assert_eq!(weeks, [("2027-10-25", 1, 3000), ("2027-11-01", 3, 11000)]);
}

#[test]
fn nothing_booked_is_zero_everywhere_with_every_week_listed() {
    let tz = ProviderTimeZone::parse("Pacific/Kiritimati").expect("a zone");
    let figures = figures(&[], &HashMap::new(), &tz, date(2027, 1, 1), date(2027, 1, 31));
    assert_eq!((figures.bookings, figures.revenue_minor, figures.currency), (0, 0, None));
    assert_eq!(figures.no_show_rate, None);
    let mondays: Vec<&str> = figures.by_week.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(mondays, ["2026-12-28", "2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25"]);
}
