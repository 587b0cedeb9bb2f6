use std::fmt;

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A wall-clock time of day in the provider's time zone, to the minute.
///
/// `24:00` is allowed so that "open until midnight" can be said; it means
/// 00:00 of the next day. Seconds are not part of the model: nobody books a
/// haircut at 09:00:30.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(MINUTES_PER_DAY);

    /// Builds a time from minutes after midnight (`0..=1440`).
    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes <= MINUTES_PER_DAY).then_some(TimeOfDay(minutes))
    }

    /// Parses strict `HH:MM` (two digits each), `00:00` to `24:00`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let well_formed =
            bytes.len() == 5 && bytes[2] == b':' && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
        if !well_formed {
            return Err(format!("expected a time as HH:MM, got {text:?}"));
        }
        let digit = |i: usize| u16::from(bytes[i] - b'0');
        let hours = digit(0) * 10 + digit(1);
        let minutes = digit(3) * 10 + digit(4);
        if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
            return Err(format!("{text:?} is not a time between 00:00 and 24:00"));
        }
        Ok(TimeOfDay(hours * 60 + minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The civil date-time this time of day names on `date` (`24:00` is the
    /// next day's midnight). `None` for `24:00` on the last date of the
    /// calendar, which has no next day: folding it back onto the same
    /// midnight once made a whole day an empty range ("no bookings").
    pub fn on(self, date: Date) -> Option<DateTime> {
        let (date, minutes) = if self.0 == MINUTES_PER_DAY { (date.tomorrow().ok()?, 0) } else { (date, self.0) };
        // Both components are in range by construction, so this cannot fail.
        Some(date.to_datetime(jiff::civil::Time::constant((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TimeOfDay::parse(&value)
    }
}

impl From<TimeOfDay> for String {
    fn from(value: TimeOfDay) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for text in ["00:00", "09:05", "23:59", "24:00"] {
            assert_eq!(TimeOfDay::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_times() {
        for text in ["", "9:00", "09:0", "09-00", "24:01", "25:00", "12:60", "ab:cd", "09:00:00", "+9:00"] {
            assert!(TimeOfDay::parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn end_of_day_is_next_midnight() {
        let date = jiff::civil::date(2027, 12, 31);
        assert_eq!(TimeOfDay::END_OF_DAY.on(date), Some(jiff::civil::date(2028, 1, 1).at(0, 0, 0, 0)));
    }
}
