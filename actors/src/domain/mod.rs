//! The booking domain: schedules, booking rules and slot maths. Pure: no I/O.

mod booking;
mod field_error;
mod ids;
mod rules;
mod schedule;
mod slots;
mod slug;
mod time_of_day;
mod time_zone;

#[cfg(test)]
pub(crate) use booking::sample_booking;
pub use booking::{Action, Actor, Booking, BookingStatus, TransitionError, rescheduled_status, transition};
pub use field_error::FieldError;
pub use ids::{BookingId, ClientId, ProviderId, ServiceId, UserId};
pub use rules::{BookingRules, ServiceTiming};
pub use schedule::{DateOverride, LocalInterval, Schedule, WeeklyInterval};
pub use slots::{Busy, Slot, SlotCalendar, free_slots, is_offered};
pub use slug::Slug;
pub use time_of_day::TimeOfDay;
pub use time_zone::ProviderTimeZone;
