//! Query strings: the parse into parameters (a key given twice is refused),
//! then what handlers read from them — the `from`/`to` date range in a
//! provider's time zone, ids, instants, times of day, time zone names.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use actors::domain::{ProviderTimeZone, ServiceId, TimeOfDay};
use jiff::{SignedDuration, Timestamp, tz::TimeZoneDatabase};
use justbookme::fuzzing::{
    AGENDA_RANGE, ApiError, DateRange, ProblemType, date_range, parse_id, parse_instant, parse_query,
};
use libfuzzer_sys::fuzz_target;

/// Zones at the edges: UTC+14 and UTC-11 (the calendar's ends bite first),
/// zones that skipped a whole day (Apia 2011, Kiritimati 1994), quarter and
/// half hours, thirty-minute DST (Lord Howe), and ordinary DST.
const ZONES: [&str; 10] = [
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Pacific/Apia",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Europe/Berlin",
    "Pacific/Chatham",
    "America/Los_Angeles",
];

/// The same database the server's zones come from, for their offsets.
static TZDB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

fn field_of(error: &ApiError) -> Option<&str> {
    match error {
        ApiError::Validation(error) => Some(&error.field),
        ApiError::Problem { field, .. } => field.as_deref(),
        _ => None,
    }
}

fn check_range(params: &HashMap<String, String>, tz: &ProviderTimeZone, now: Timestamp) {
    match date_range(params, tz, now) {
        Ok(DateRange { from, to, start, end }) => {
            assert!(from <= to, "from {from} after to {to}");
            let days = i64::from((to - from).get_days());
            assert!(days <= AGENDA_RANGE.max_days, "{days} days accepted");
            assert!(start <= end, "{from}..{to} in {}: start {start} after end {end}", tz.name());
            // Empty only when every date in it was skipped by the zone (a
            // day that did not exist there): otherwise "no bookings" lies.
            assert!(start < end || tz.date_of(start) > to, "{from}..{to} in {}: empty range {start}..{end}", tz.name());
            // Bounded: the days asked for, plus at most one day a zone lived
            // twice (Alaska's 1867 change of date line).
            let length = end.duration_since(start);
            assert!(length <= SignedDuration::from_hours(24 * (days + 2)), "{from}..{to}: {length:?} long");
            assert!(tz.date_of(start) >= from, "{from}..{to} starts on {}", tz.date_of(start));
            if start < end {
                let last = tz.date_of(end - SignedDuration::from_secs(1));
                assert!(last <= to, "{from}..{to} in {} reaches {last}", tz.name());
            }
            if let (Some(given_from), Some(given_to)) = (params.get("from"), params.get("to")) {
                assert_eq!(&from.to_string(), given_from, "from read as another date");
                assert_eq!(&to.to_string(), given_to, "to read as another date");
            }
        }
        Err(error) => {
            let field = field_of(&error);
            assert!(matches!(field, Some("from" | "to")), "a range refused blaming {field:?}: {error:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&zone, rest)) = data.split_first() else { return };
    let Ok(query) = std::str::from_utf8(rest) else { return };
    let params = match parse_query(query) {
        Ok(params) => params,
        Err(error) => {
            let twice = match &error {
                ApiError::Problem { kind: ProblemType::BadRequest, field: Some(key), .. } => key.clone(),
                other => panic!("query refused as {other:?}"),
            };
            let keys = url::form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| *key == twice).count();
            assert!(keys >= 2, "{twice:?} refused as given twice, but appears {keys} times");
            return;
        }
    };
    let keys: Vec<_> = url::form_urlencoded::parse(query.as_bytes()).map(|(key, _)| key.into_owned()).collect();
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len(), "a duplicate key passed");
    assert_eq!(params.len(), keys.len());

    // The zone: a named one if the query names a valid one, else a fixed one.
    let tz = match params.get("tz").map(|name| ProviderTimeZone::parse(name.trim())) {
        Some(Ok(tz)) => {
            let again = ProviderTimeZone::parse(tz.name()).expect("a canonical name parses");
            assert_eq!(again.name(), tz.name(), "the canonical name is not canonical");
            tz
        }
        _ => ProviderTimeZone::parse(ZONES[usize::from(zone) % ZONES.len()]).expect("a real zone"),
    };
    // "Now" decides the default range; the query may move it anywhere.
    let now = match params.get("now").map(|text| parse_instant("now", text)) {
        Some(Ok(now)) => now,
        Some(Err(error)) => {
            assert_eq!(field_of(&error), Some("now"));
            Timestamp::from_second(1_780_000_000).expect("in range")
        }
        None => Timestamp::from_second(1_780_000_000).expect("in range"),
    };
    check_range(&params, &tz, now);

    for field in ["service", "moving"] {
        if let Some(text) = params.get(field) {
            match parse_id::<ServiceId>(field, text, "an id") {
                Ok(id) => {
                    let again: ServiceId = parse_id(field, &id.to_string(), "an id").expect("an id's own text");
                    assert_eq!(again, id);
                }
                Err(error) => assert_eq!(field_of(&error), Some(field)),
            }
        }
    }
    if let Some(text) = params.get("start") {
        match parse_instant("start", text) {
            Ok(instant) => {
                assert_eq!(parse_instant("start", &instant.to_string()).ok(), Some(instant));
                // A slot's start as shown is what a client books with: it
                // must name the same instant. RFC 3339 offsets are whole
                // minutes, so a local mean time's (before 1972) is rounded.
                let shown = tz.format(instant);
                let read = parse_instant("start", &shown).expect("a shown instant parses");
                let offset = TZDB.get(tz.name()).expect("a known zone").to_offset(instant);
                if offset.seconds() % 60 == 0 {
                    assert_eq!(read, instant, "{shown} is another instant");
                } else {
                    assert!(read.duration_since(instant).abs() < SignedDuration::from_secs(60), "{shown}");
                }
            }
            Err(error) => assert_eq!(field_of(&error), Some("start")),
        }
    }
    if let Some(text) = params.get("time")
        && let Ok(time) = TimeOfDay::parse(text)
    {
        assert!(time.minutes() <= 24 * 60);
        assert_eq!(TimeOfDay::parse(&time.to_string()), Ok(time));
        assert_eq!(&time.to_string(), text, "HH:MM is read back as written");
    }
});
