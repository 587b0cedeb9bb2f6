use std::sync::LazyLock;

use jiff::{
    Timestamp,
    civil::{Date, DateTime},
    tz::{TimeZone, TimeZoneDatabase},
};

/// The IANA database compiled into the binary.
///
/// We use jiff with its bundled copy of the IANA tz database instead of the
/// host's `/usr/share/zoneinfo` so that every node of a cluster (and every test
/// machine) computes the very same slots, whatever `tzdata` package the host
/// happens to have. jiff was chosen over chrono-tz because it models the
/// ambiguity of local times explicitly (gaps and folds are values, not panics)
/// and follows RFC 5545 / Temporal's "compatible" disambiguation.
static TZDB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// A provider's time zone: a validated IANA name (`Europe/Berlin`) and its rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderTimeZone {
    name: String,
    tz: TimeZone,
}

impl ProviderTimeZone {
    /// Looks `name` up in the IANA database. Fixed offsets (`+02:00`) and POSIX
    /// strings are refused on purpose: a provider lives in a place, and places
    /// change their clocks.
    pub fn parse(name: &str) -> Result<Self, String> {
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
        if !well_formed {
            return Err(format!("{name:?} is not an IANA time zone name"));
        }
        let tz =
            TZDB.get(name).map_err(|_| format!("unknown time zone {name:?}; use an IANA name like Europe/Berlin"))?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    /// The canonical spelling of the IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant a local wall-clock time names.
    ///
    /// Rule (RFC 5545 §3.3.5 and TC39 Temporal's `"compatible"`): a local time
    /// that happens twice (clocks go back) means its *earlier* occurrence; a
    /// local time that does not exist (clocks go forward) is moved forward by
    /// the length of the gap, so 02:30 on Berlin's spring-forward day is
    /// 03:30+02:00. `None` only outside the representable range.
    pub fn resolve(&self, local: DateTime) -> Option<Timestamp> {
        self.tz.to_ambiguous_timestamp(local).compatible().ok()
    }

    /// The provider's wall-clock date and time at `instant`.
    pub fn datetime_of(&self, instant: Timestamp) -> DateTime {
        self.tz.to_datetime(instant)
    }

    /// The provider's calendar date at `instant`.
    pub fn date_of(&self, instant: Timestamp) -> Date {
        self.tz.to_datetime(instant).date()
    }

    /// `instant` as RFC 3339 with the provider's offset at that instant,
    /// e.g. `2027-03-28T09:00:00+02:00`.
    pub fn format(&self, instant: Timestamp) -> String {
        instant.display_with_offset(self.tz.to_offset(instant)).to_string()
    }

    /// `instant` as local wall-clock text (`strftime` pattern), for messages.
    pub fn local_text(&self, instant: Timestamp, pattern: &str) -> String {
        self.tz.to_datetime(instant).strftime(pattern).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> ProviderTimeZone {
        ProviderTimeZone::parse(name).unwrap()
    }

    #[test]
    fn accepts_iana_names_case_insensitively_and_canonicalizes() {
        assert_eq!(tz("europe/berlin").name(), "Europe/Berlin");
        assert_eq!(tz("Asia/Kolkata").name(), "Asia/Kolkata");
    }

    #[test]
    fn rejects_unknown_and_malformed_names() {
        for name in ["", "Mars/Olympus", "+02:00", "Europe/Berlin\n", "../../etc/passwd", "EST5EDT,M3.2.0,M11.1.0"] {
            assert!(ProviderTimeZone::parse(name).is_err(), "{name:?}");
        }
    }

    // Expected instants below were read off the IANA reference implementation
    // (Debian tzdata), not computed with jiff:
    // `zdump -v -c 2027,2028 Europe/Berlin`
    //   Sun Mar 28 01:00:00 2027 UT = Sun Mar 28 03:00:00 2027 CEST gmtoff=7200
    //   Sun Oct 31 01:00:00 2027 UT = Sun Oct 31 02:00:00 2027 CET  gmtoff=3600
    // `zdump -v -c 2027,2028 Australia/Lord_Howe` (shifts by thirty minutes)
    //   Sat Apr  3 15:00:00 2027 UT = Sun Apr  4 01:30:00 2027 +1030
    //   Sat Oct  2 15:30:00 2027 UT = Sun Oct  3 02:30:00 2027 +11
    #[test]
    fn local_times_resolve_the_compatible_way() {
        let lh = "Australia/Lord_Howe";
        let cases = [
            // A nonexistent local time moves forward by the gap.
            ("Europe/Berlin", date(2027, 3, 28).at(2, 30, 0, 0), "2027-03-28T03:30:00+02:00", "2027-03-28T01:30:00Z"),
            // A repeated local time means its earlier occurrence.
            ("Europe/Berlin", date(2027, 10, 31).at(2, 30, 0, 0), "2027-10-31T02:30:00+02:00", "2027-10-31T00:30:00Z"),
            // Kolkata has a half-hour offset and no DST.
            ("Asia/Kolkata", date(2027, 3, 28).at(9, 0, 0, 0), "2027-03-28T09:00:00+05:30", "2027-03-28T03:30:00Z"),
            (lh, date(2027, 4, 4).at(1, 0, 0, 0), "2027-04-04T01:00:00+11:00", "2027-04-03T14:00:00Z"),
            (lh, date(2027, 4, 4).at(2, 0, 0, 0), "2027-04-04T02:00:00+10:30", "2027-04-03T15:30:00Z"),
            // 01:45 exists twice on 2027-04-04: the earlier one is at +11:00.
            (lh, date(2027, 4, 4).at(1, 45, 0, 0), "2027-04-04T01:45:00+11:00", "2027-04-03T14:45:00Z"),
            // 02:15 does not exist on 2027-10-03: moved forward 30 minutes.
            (lh, date(2027, 10, 3).at(2, 15, 0, 0), "2027-10-03T02:45:00+11:00", "2027-10-02T15:45:00Z"),
        ];
        for (zone, local, shown, utc) in cases {
            let instant = tz(zone).resolve(local).unwrap();
            assert_eq!(tz(zone).format(instant), shown, "{zone} {local}");
            assert_eq!(instant.to_string(), utc, "{zone} {local}");
        }
    }
}
