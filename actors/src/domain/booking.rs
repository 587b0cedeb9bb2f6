//! Bookings and their life cycle: which status change is allowed, by whom,
//! and when.

use jiff::Timestamp;

use super::{BookingId, BookingRules, Busy, ClientId, ProviderId, ServiceId, UserId};

super::words! {
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
    pub enum BookingStatus {
        /// Waiting for the provider (manual confirmation); holds the slot.
        Pending = "pending",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Completed = "completed",
        NoShow = "no_show",
    }
}

impl BookingStatus {
    /// Active bookings hold their time; the others free it.
    pub fn is_active(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Confirmed)
    }
}

/// A booking as the calendar sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub id: BookingId,
    pub provider_id: ProviderId,
    pub service_id: ServiceId,
    pub client_id: ClientId,
    /// The Telegram user behind the client, if the client booked themselves.
    pub client_user_id: Option<UserId>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// `[start - buffer_before, end + buffer_after)`: what no other active
    /// booking may overlap.
    pub occupied: Busy,
    pub status: BookingStatus,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
    pub idempotency_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who asks for a change: rules differ for the client and the provider.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Client(UserId),
    Provider,
}

super::words! {
    /// A status change a booking can go through.
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    pub enum Action {
        Cancel = "cancel",
        Confirm = "confirm",
        Decline = "decline",
        Complete = "complete",
        NoShow = "no-show",
        Reschedule = "reschedule",
    }
}

impl Action {
    /// What the action does to a booking, for messages ("cannot be declined").
    pub fn past_participle(self) -> &'static str {
        match self {
            Action::Cancel => "cancelled",
            Action::Confirm => "confirmed",
            Action::Decline => "declined",
            Action::Complete => "completed",
            Action::NoShow => "marked a no-show",
            Action::Reschedule => "rescheduled",
        }
    }
}

/// Why a change is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The booking is not the actor's to change (treated as "not found" so
    /// that ids of other people's bookings reveal nothing).
    #[error("booking not found")]
    NotYours,
    #[error("a {status} booking cannot be {done}", status = .0.as_str(), done = .1.past_participle())]
    WrongStatus(BookingStatus, Action),
    #[error("changes by the client close {0} minutes before the visit; contact the provider")]
    PastCutoff(u32),
    #[error("the visit has not started yet")]
    NotStarted,
}

/// Checks that `actor` may apply `action` to `booking` at `now`, and returns
/// the status the booking ends up in (reschedule: see [`rescheduled_status`]).
pub fn transition(
    booking: &Booking,
    actor: Actor,
    action: Action,
    rules: &BookingRules,
    now: Timestamp,
) -> Result<BookingStatus, TransitionError> {
    use BookingStatus::*;
    if let Actor::Client(user) = actor {
        if booking.client_user_id != Some(user) || !matches!(action, Action::Cancel | Action::Reschedule) {
            return Err(TransitionError::NotYours);
        }
        let cutoff = i64::from(rules.cancel_cutoff_min) * 60;
        if booking.start.as_second() - now.as_second() < cutoff {
            return Err(TransitionError::PastCutoff(rules.cancel_cutoff_min));
        }
    }
    let wrong = || TransitionError::WrongStatus(booking.status, action);
    match (action, booking.status) {
        (Action::Cancel, Pending | Confirmed) => Ok(Cancelled),
        (Action::Reschedule, Pending | Confirmed) => Ok(booking.status),
        (Action::Confirm, Pending) => Ok(Confirmed),
        (Action::Decline, Pending) => Ok(Cancelled),
        (Action::Complete | Action::NoShow, Confirmed) if booking.start > now => Err(TransitionError::NotStarted),
        (Action::Complete, Confirmed) => Ok(Completed),
        (Action::NoShow, Confirmed) => Ok(NoShow),
        _ => Err(wrong()),
    }
}

/// A client's reschedule of a manually confirmed provider goes back to
/// `pending`: the provider agreed to the old time, not the new one.
pub fn rescheduled_status(current: BookingStatus, actor: Actor, rules: &BookingRules) -> BookingStatus {
    match actor {
        Actor::Client(_) if rules.requires_confirmation => BookingStatus::Pending,
        _ => current,
    }
}

/// A booking of client user 7 at `start`, for tests across the crate.
#[cfg(test)]
pub(crate) fn sample_booking(status: BookingStatus, start: &str) -> Booking {
    let start: Timestamp = start.parse().expect("a timestamp");
    Booking {
        id: BookingId(uuid::Uuid::nil()),
        provider_id: ProviderId(uuid::Uuid::nil()),
        service_id: ServiceId(uuid::Uuid::nil()),
        client_id: ClientId(uuid::Uuid::nil()),
        client_user_id: Some(UserId(uuid::Uuid::from_u128(7))),
        start,
        end: start,
        occupied: Busy { start, end: start },
        status,
        note: None,
        created_by: None,
        idempotency_key: None,
        created_at: start,
        updated_at: start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2027-05-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn client_may_cancel_own_booking_before_the_cutoff_only() {
        let rules = BookingRules { cancel_cutoff_min: 120, ..Default::default() };
        let me = Actor::Client(UserId(uuid::Uuid::from_u128(7)));
        let early = sample_booking(BookingStatus::Confirmed, "2027-05-01T12:00:00Z");
        assert_eq!(transition(&early, me, Action::Cancel, &rules, now()), Ok(BookingStatus::Cancelled));
        let late = sample_booking(BookingStatus::Confirmed, "2027-05-01T11:59:00Z");
        assert_eq!(transition(&late, me, Action::Cancel, &rules, now()), Err(TransitionError::PastCutoff(120)));
        let other = Actor::Client(UserId(uuid::Uuid::from_u128(8)));
        assert_eq!(transition(&early, other, Action::Cancel, &rules, now()), Err(TransitionError::NotYours));
        assert_eq!(transition(&early, me, Action::Confirm, &rules, now()), Err(TransitionError::NotYours));
        // The provider is not bound by the cut-off.
        assert_eq!(transition(&late, Actor::Provider, Action::Cancel, &rules, now()), Ok(BookingStatus::Cancelled));
    }

    #[test]
    fn provider_life_cycle() {
        let rules = BookingRules::default();
        let p = Actor::Provider;
        let pending = sample_booking(BookingStatus::Pending, "2027-05-02T10:00:00Z");
        assert_eq!(transition(&pending, p, Action::Confirm, &rules, now()), Ok(BookingStatus::Confirmed));
        assert_eq!(transition(&pending, p, Action::Decline, &rules, now()), Ok(BookingStatus::Cancelled));
        assert!(matches!(
            transition(&pending, p, Action::Complete, &rules, now()),
            Err(TransitionError::WrongStatus(..))
        ));
        let future = sample_booking(BookingStatus::Confirmed, "2027-05-02T10:00:00Z");
        assert_eq!(transition(&future, p, Action::Complete, &rules, now()), Err(TransitionError::NotStarted));
        let past = sample_booking(BookingStatus::Confirmed, "2027-05-01T09:00:00Z");
        assert_eq!(transition(&past, p, Action::NoShow, &rules, now()), Ok(BookingStatus::NoShow));
        let declined = Booking { status: BookingStatus::Cancelled, ..pending.clone() };
        let refusal = transition(&declined, p, Action::Decline, &rules, now()).unwrap_err();
        assert_eq!(refusal.to_string(), "a cancelled booking cannot be declined");
        let refusal = transition(&pending, p, Action::NoShow, &rules, now()).unwrap_err();
        assert_eq!(refusal.to_string(), "a pending booking cannot be marked a no-show");
        let cancelled = sample_booking(BookingStatus::Cancelled, "2027-05-02T10:00:00Z");
        for action in [Action::Cancel, Action::Confirm, Action::Reschedule] {
            assert!(matches!(transition(&cancelled, p, action, &rules, now()), Err(TransitionError::WrongStatus(..))));
        }
    }

    #[test]
    fn statuses_round_trip_through_text() {
        use BookingStatus::*;
        for status in [Pending, Confirmed, Cancelled, Completed, NoShow] {
            assert_eq!(BookingStatus::parse(status.as_str()), Some(status));
        }
        assert!(Pending.is_active() && Confirmed.is_active() && !Cancelled.is_active());
    }
}
