//! The booking domain: schedules, booking rules and slot maths. Pure: no I/O.

/// An enum of plain variants, each named by one word — the same in the
/// database, on the bus and in messages: `as_str`, and `parse` back.
macro_rules! words {
    ($(#[$attr:meta])* pub enum $name:ident { $($(#[$doc:meta])* $variant:ident = $word:literal,)* }) => {
        $(#[$attr])*
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($word => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use words;

mod booking;
mod classes;
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
pub use booking::{
    Action, Actor, Booking, BookingStatus, TransitionError, confirm_deadline, rescheduled_status, transition,
};
pub use classes::{Occurrence, class_slots, lowest_free_seat, occurrences};
pub use field_error::FieldError;
pub use ids::{BookingId, ClientId, ProviderId, ServiceId, UserId};
pub use rules::{BookingRules, ServiceTiming};
pub use schedule::{DateOverride, LocalInterval, Schedule, WeeklyInterval};
pub use slots::{Busy, Slot, SlotCalendar, free_slots, is_free, is_offered};
pub use slug::Slug;
pub use time_of_day::TimeOfDay;
pub use time_zone::ProviderTimeZone;
