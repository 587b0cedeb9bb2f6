use super::FieldError;
use super::field_error::check_range;

/// A provider's booking rules. Defaults suit a typical one-person business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingRules {
    /// Distance between offered start times, in minutes.
    pub slot_step_min: u16,
    /// How long before its start a slot stops being bookable.
    pub min_notice_min: u32,
    /// How many days ahead (after today, in the provider's calendar) clients may book.
    pub horizon_days: u16,
    /// How long before its start a client may still cancel or reschedule.
    pub cancel_cutoff_min: u32,
    /// New bookings start as `pending` and wait for the provider.
    pub requires_confirmation: bool,
    /// When clients are reminded, in minutes before the visit.
    pub reminder_offsets_min: Vec<u32>,
    /// A pending request not confirmed within this many minutes of being
    /// made is declined by the system and the client told (`None`: requests
    /// wait until the provider answers).
    pub confirm_within_min: Option<u32>,
    /// The provider gets a morning digest of the day in the chat.
    pub morning_digest: bool,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            slot_step_min: 30,
            min_notice_min: 60,
            horizon_days: 60,
            cancel_cutoff_min: 120,
            requires_confirmation: false,
            reminder_offsets_min: vec![24 * 60, 2 * 60],
            confirm_within_min: None,
            morning_digest: false,
        }
    }
}

/// Upper limits: generous for real businesses, small enough to keep slot
/// computation and reminder fan-out bounded.
const MAX_STEP_MIN: u16 = 24 * 60;
const MAX_NOTICE_MIN: u32 = 30 * 24 * 60;
const MAX_HORIZON_DAYS: u16 = 366;
const MAX_REMINDERS: usize = 5;
const MAX_REMINDER_OFFSET_MIN: u32 = 14 * 24 * 60;
/// A request answered within 5 minutes to a week: shorter is no time to
/// look at the phone, longer leaves the client hanging.
const MIN_CONFIRM_WITHIN_MIN: u32 = 5;
const MAX_CONFIRM_WITHIN_MIN: u32 = 7 * 24 * 60;

impl BookingRules {
    pub fn validate(&self) -> Result<(), FieldError> {
        check_range("slot_step_min", self.slot_step_min, 5, MAX_STEP_MIN)?;
        check_range("min_notice_min", self.min_notice_min, 0, MAX_NOTICE_MIN)?;
        check_range("horizon_days", self.horizon_days, 1, MAX_HORIZON_DAYS)?;
        check_range("cancel_cutoff_min", self.cancel_cutoff_min, 0, MAX_NOTICE_MIN)?;
        if self.reminder_offsets_min.len() > MAX_REMINDERS {
            return Err(FieldError::new("reminder_offsets_min", format!("at most {MAX_REMINDERS} reminders")));
        }
        for (i, &offset) in self.reminder_offsets_min.iter().enumerate() {
            check_range(&format!("reminder_offsets_min[{i}]"), offset, 1, MAX_REMINDER_OFFSET_MIN)?;
            if self.reminder_offsets_min[..i].contains(&offset) {
                return Err(FieldError::new(format!("reminder_offsets_min[{i}]"), format!("{offset} is listed twice")));
            }
        }
        if let Some(within) = self.confirm_within_min {
            check_range("confirm_within_min", within, MIN_CONFIRM_WITHIN_MIN, MAX_CONFIRM_WITHIN_MIN)?;
        }
        Ok(())
    }
}

/// How long a service takes and how much free time it needs around it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ServiceTiming {
    pub duration_min: u16,
    /// Preparation time that must be free before the start.
    pub buffer_before_min: u16,
    /// Clean-up time that must be free after the end.
    pub buffer_after_min: u16,
}

const MAX_DURATION_MIN: u16 = 24 * 60;
const MAX_BUFFER_MIN: u16 = 8 * 60;

impl ServiceTiming {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.duration_min == 0 {
            return Err(FieldError::new("duration_min", "must be greater than 0"));
        }
        check_range("duration_min", self.duration_min, 1, MAX_DURATION_MIN)?;
        check_range("buffer_before_min", self.buffer_before_min, 0, MAX_BUFFER_MIN)?;
        check_range("buffer_after_min", self.buffer_after_min, 0, MAX_BUFFER_MIN)?;
        Ok(())
    }

    pub fn duration_secs(&self) -> i64 {
        i64::from(self.duration_min) * 60
    }

    /// The buffers before and after, in seconds.
    pub fn buffers_secs(&self) -> (i64, i64) {
        (i64::from(self.buffer_before_min) * 60, i64::from(self.buffer_after_min) * 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        BookingRules::default().validate().unwrap();
    }

    #[test]
    fn names_the_field_out_of_range() {
        let rules = BookingRules { slot_step_min: 0, ..Default::default() };
        assert_eq!(rules.validate().unwrap_err().field, "slot_step_min");
        let rules = BookingRules { horizon_days: 0, ..Default::default() };
        assert_eq!(rules.validate().unwrap_err().field, "horizon_days");
        let rules = BookingRules { reminder_offsets_min: vec![60, 60], ..Default::default() };
        assert_eq!(rules.validate().unwrap_err().field, "reminder_offsets_min[1]");
        let rules = BookingRules { confirm_within_min: Some(4), ..Default::default() };
        assert_eq!(rules.validate().unwrap_err().field, "confirm_within_min");
        let timing = ServiceTiming { duration_min: 0, buffer_before_min: 0, buffer_after_min: 0 };
        assert_eq!(timing.validate().unwrap_err().field, "duration_min");
        let timing = ServiceTiming { duration_min: 30, buffer_before_min: 0, buffer_after_min: 9999 };
        assert_eq!(timing.validate().unwrap_err().field, "buffer_after_min");
    }
}
