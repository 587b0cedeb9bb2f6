use std::collections::BTreeMap;

use jiff::civil::Date;

use super::{FieldError, TimeOfDay};

/// Longest list a schedule may hold; far above any real week, low enough that
/// a hostile request cannot make slot computation expensive.
const MAX_WEEKLY_INTERVALS: usize = 7 * 12;
const MAX_OVERRIDES: usize = 2 * 366;
const MAX_INTERVALS_PER_OVERRIDE: usize = 12;

/// Working time on one day, in local wall-clock time, half-open `[start, end)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalInterval {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl LocalInterval {
    fn validate(&self) -> Result<(), FieldError> {
        if self.end <= self.start {
            let message = format!("must be after start ({} is not after {})", self.end, self.start);
            return Err(FieldError::new("end", message));
        }
        Ok(())
    }
}

/// A weekly recurring interval: `weekday` is ISO (Monday = 1 … Sunday = 7).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WeeklyInterval {
    pub weekday: u8,
    pub interval: LocalInterval,
}

/// A date that does not follow the weekly pattern: closed (no intervals) or
/// open during its own intervals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateOverride {
    pub date: Date,
    pub intervals: Vec<LocalInterval>,
}

impl DateOverride {
    pub fn is_closed(&self) -> bool {
        self.intervals.is_empty()
    }
}

/// A provider's validated working schedule: weekly hours with breaks (several
/// intervals a day) plus per-date overrides and days off.
///
/// Invariant: each day's intervals are sorted and pairwise disjoint (they may
/// touch), which is what lets slot generation walk them in one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    weekly: [Vec<LocalInterval>; 7],
    overrides: BTreeMap<Date, Vec<LocalInterval>>,
}

impl Schedule {
    /// Validates a schedule as submitted, naming the offending field by its
    /// position in the submitted lists (`weekly[3].end`, `overrides[0].date`).
    pub fn new(weekly: &[WeeklyInterval], overrides: &[DateOverride]) -> Result<Self, FieldError> {
        if weekly.len() > MAX_WEEKLY_INTERVALS {
            return Err(FieldError::new("weekly", format!("at most {MAX_WEEKLY_INTERVALS} intervals")));
        }
        if overrides.len() > MAX_OVERRIDES {
            return Err(FieldError::new("overrides", format!("at most {MAX_OVERRIDES} dates")));
        }

        let mut schedule = Schedule::default();
        for (i, item) in weekly.iter().enumerate() {
            let parent = format!("weekly[{i}]");
            if !(1..=7).contains(&item.weekday) {
                let message = format!("must be 1 (Monday) to 7 (Sunday), got {}", item.weekday);
                return Err(FieldError::new("weekday", message).within(&parent));
            }
            item.interval.validate().map_err(|e| e.within(&parent))?;
            insert_disjoint(&mut schedule.weekly[usize::from(item.weekday - 1)], item.interval)
                .map_err(|e| e.within(&parent))?;
        }

        for (i, item) in overrides.iter().enumerate() {
            let parent = format!("overrides[{i}]");
            if item.intervals.len() > MAX_INTERVALS_PER_OVERRIDE {
                let message = format!("at most {MAX_INTERVALS_PER_OVERRIDE} intervals a day");
                return Err(FieldError::new("intervals", message).within(&parent));
            }
            if schedule.overrides.contains_key(&item.date) {
                return Err(FieldError::new("date", format!("{} is listed twice", item.date)).within(&parent));
            }
            let mut day = Vec::with_capacity(item.intervals.len());
            for (j, interval) in item.intervals.iter().enumerate() {
                let path = format!("{parent}.intervals[{j}]");
                interval.validate().map_err(|e| e.within(&path))?;
                insert_disjoint(&mut day, *interval).map_err(|e| e.within(&path))?;
            }
            schedule.overrides.insert(item.date, day);
        }
        Ok(schedule)
    }

    /// The working intervals on `date`: the override if there is one, else the
    /// weekly pattern for that weekday.
    pub fn intervals_on(&self, date: Date) -> &[LocalInterval] {
        let weekly = &self.weekly[date.weekday().to_monday_zero_offset() as usize];
        self.overrides.get(&date).unwrap_or(weekly)
    }

    /// The weekly pattern, Monday first, each day's intervals in order.
    pub fn weekly(&self) -> impl Iterator<Item = WeeklyInterval> + '_ {
        self.weekly
            .iter()
            .zip(1u8..)
            .flat_map(|(day, weekday)| day.iter().map(move |&interval| WeeklyInterval { weekday, interval }))
    }

    /// The date overrides in date order.
    pub fn overrides(&self) -> impl Iterator<Item = DateOverride> + '_ {
        self.overrides.iter().map(|(&date, intervals)| DateOverride { date, intervals: intervals.clone() })
    }
}

/// Inserts `interval` keeping `day` sorted, refusing an overlap (touching is fine).
fn insert_disjoint(day: &mut Vec<LocalInterval>, interval: LocalInterval) -> Result<(), FieldError> {
    let at = day.partition_point(|existing| existing.start < interval.start);
    let overlaps_previous = at > 0 && day[at - 1].end > interval.start;
    let overlaps_next = at < day.len() && day[at].start < interval.end;
    if overlaps_previous || overlaps_next {
        let other = if overlaps_previous { day[at - 1] } else { day[at] };
        let message =
            format!("{}–{} overlaps {}–{} on the same day", interval.start, interval.end, other.start, other.end);
        return Err(FieldError::new("start", message));
    }
    day.insert(at, interval);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn t(text: &str) -> TimeOfDay {
        TimeOfDay::parse(text).unwrap()
    }

    fn iv(start: &str, end: &str) -> LocalInterval {
        LocalInterval { start: t(start), end: t(end) }
    }

    fn weekly(weekday: u8, start: &str, end: &str) -> WeeklyInterval {
        WeeklyInterval { weekday, interval: iv(start, end) }
    }

    #[test]
    fn breaks_are_several_intervals_and_come_back_sorted() {
        let schedule = Schedule::new(&[weekly(1, "14:00", "18:00"), weekly(1, "09:00", "13:00")], &[]).unwrap();
        // 2027-03-29 is a Monday.
        assert_eq!(schedule.intervals_on(date(2027, 3, 29)), &[iv("09:00", "13:00"), iv("14:00", "18:00")]);
        assert!(schedule.intervals_on(date(2027, 3, 30)).is_empty());
    }

    #[test]
    fn overrides_replace_the_weekly_pattern() {
        let schedule = Schedule::new(
            &[weekly(1, "09:00", "18:00")],
            &[
                DateOverride { date: date(2027, 3, 29), intervals: vec![] },
                DateOverride { date: date(2027, 3, 30), intervals: vec![iv("10:00", "12:00")] },
            ],
        )
        .unwrap();
        assert!(schedule.intervals_on(date(2027, 3, 29)).is_empty());
        assert_eq!(schedule.intervals_on(date(2027, 3, 30)), &[iv("10:00", "12:00")]);
        assert_eq!(schedule.intervals_on(date(2027, 4, 5)), &[iv("09:00", "18:00")]);
    }

    #[test]
    fn names_the_offending_field() {
        let day_off = DateOverride { date: date(2027, 1, 1), intervals: vec![] };
        let bad = DateOverride { date: date(2027, 1, 2), intervals: vec![iv("10:00", "11:00"), iv("10:30", "12:00")] };
        let cases = [
            (vec![weekly(1, "09:00", "12:00"), weekly(1, "11:00", "13:00")], vec![], "weekly[1].start"),
            (vec![weekly(2, "12:00", "09:00")], vec![], "weekly[0].end"),
            (vec![weekly(2, "12:00", "12:00")], vec![], "weekly[0].end"),
            (vec![weekly(8, "09:00", "10:00")], vec![], "weekly[0].weekday"),
            (vec![], vec![day_off.clone(), day_off], "overrides[1].date"),
            (vec![], vec![bad], "overrides[0].intervals[1].start"),
        ];
        for (weekly, overrides, field) in cases {
            assert_eq!(Schedule::new(&weekly, &overrides).unwrap_err().field, field);
        }
    }

    #[test]
    fn touching_intervals_are_not_an_overlap() {
        assert!(Schedule::new(&[weekly(3, "09:00", "12:00"), weekly(3, "12:00", "24:00")], &[]).is_ok());
    }
}
