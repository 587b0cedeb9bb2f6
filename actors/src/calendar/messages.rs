//! The messages a calendar understands.

use actix::Message;
use jiff::{Timestamp, civil::Date};

use super::{BookingClient, CalendarError};
use crate::domain::{Action, Actor, Booking, BookingId, ProviderTimeZone, ServiceId, Slot, UserId};

/// A message with the span it was sent from (see `CalendarHandle::send`).
pub struct Traced<M> {
    pub message: M,
    pub span: tracing::Span,
}

impl<M: Message> Message for Traced<M> {
    type Result = M::Result;
}

/// Take a slot.
#[derive(Debug, Message)]
#[rtype(result = "Result<Booked, CalendarError>")]
pub struct Book {
    pub service_id: ServiceId,
    pub start: Timestamp,
    pub client: BookingClient,
    pub note: Option<String>,
    /// Who asks (recorded as `created_by`; scopes the idempotency key).
    pub requested_by: UserId,
    /// In whose role: it decides which starts are allowed.
    pub booker: Booker,
    pub idempotency_key: Option<String>,
    pub now: Timestamp,
}

/// Who books, which decides what a start must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booker {
    /// The client, for themselves: a slot as offered (hours, grid, notice,
    /// horizon); pending when the provider confirms bookings by hand.
    Client,
    /// The provider, for a client of theirs: confirmed at once; a slot as
    /// offered but without the minimum notice (the provider knows they can
    /// make it), or — `outside_hours` — any start from a day ago to the
    /// horizon, as long as it overlaps no other booking.
    Provider { outside_hours: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub booking: Booking,
    /// `false` when an Idempotency-Key replay returned the earlier booking.
    pub created: bool,
    /// The names to show it with, when the write read them (see
    /// [`super::ports::CreatedBooking`]); `None`: read them yourself.
    pub labels: Option<super::ports::BookingLabels>,
}

/// Change a booking's status, or move it (`Action::Reschedule` with `new_start`).
#[derive(Debug, Message)]
#[rtype(result = "Result<Booking, CalendarError>")]
pub struct ChangeBooking {
    pub booking_id: BookingId,
    pub actor: Actor,
    pub action: Action,
    /// The start a reschedule moves to, a proposal offers, or (accepting
    /// one) the proposed start the client saw.
    pub new_start: Option<Timestamp>,
    /// The user making the change (recorded as `updated_by`); `None` for
    /// the system's own (an expiry).
    pub by_user: Option<UserId>,
    pub now: Timestamp,
}

/// Free slots for a service, answered from memory.
#[derive(Debug, Message)]
#[rtype(result = "Result<Availability, CalendarError>")]
pub struct GetSlots {
    pub service_id: ServiceId,
    pub from: Date,
    pub to: Date,
    pub now: Timestamp,
    /// A booking being moved: its own time counts as free, so it can move
    /// to a start that overlaps where it is now (10:00 → 10:30).
    pub moving: Option<BookingId>,
}

/// Free slots, with the time zone to show them in.
#[derive(Debug, Clone)]
pub struct Availability {
    pub time_zone: ProviderTimeZone,
    pub slots: Vec<Slot>,
}

/// The provider's schedule, services or rules changed (here or on another
/// node): reload them before handling anything else.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), CalendarError>")]
pub struct Reload;

/// A booking of this calendar changed on another node: read that booking
/// and take it in — one row instead of a reload of the whole calendar. (A
/// change of availability is always published right after its booking's
/// event, so this is all a remote booking change needs.)
#[derive(Debug, Message)]
#[rtype(result = "Result<(), CalendarError>")]
pub struct ApplyBooking(pub BookingId);

/// Faults for tests of supervision (feature `test-faults`, which only the
/// test builds turn on): a panic inside the next booking, or an
/// abrupt stop. Only reachable from code, never from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "test-faults")]
pub enum Fault {
    PanicOnNextBook,
    Stop,
    /// Hold the mailbox for this long on the next booking (overload tests).
    DelayNextBook(std::time::Duration),
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
#[cfg(feature = "test-faults")]
pub struct InjectFault(pub Fault);

/// Stop for good (sent by the registry when the calendar was idle).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Shutdown;
