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
    /// Bumped by every change: a change is written only over the revision it
    /// was decided on, so two nodes never both apply one (the loser decides
    /// again on what the winner wrote).
    pub revision: u32,
    /// A pending request not answered by then is declined by the system
    /// (rule `confirm_within_min`); `None`: it waits.
    pub confirm_by: Option<Timestamp>,
    /// Another start the provider offered for this pending request; the
    /// client accepts or declines it.
    pub proposed_start: Option<Timestamp>,
    /// When the client said "I'm coming".
    pub attendance_confirmed_at: Option<Timestamp>,
    /// The seat a class booking holds (1..=capacity); `None` for a
    /// one-to-one service.
    pub seat: Option<u16>,
}

/// Who asks for a change: rules differ for the client and the provider.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Client(UserId),
    Provider,
    /// The server itself, on a deadline (an unanswered request expiring).
    System,
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
        /// The provider offers another start for a pending request.
        Propose = "propose",
        /// The client takes the offered start: a reschedule, confirmed.
        AcceptProposal = "accept-proposal",
        /// The client turns the offered start down: the request ends.
        DeclineProposal = "decline-proposal",
        /// The client says "I'm coming".
        Attend = "attend",
        /// The system declines a request nobody answered in time.
        Expire = "expire",
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
            Action::Propose => "given another time",
            Action::AcceptProposal => "moved to the proposed time",
            Action::DeclineProposal => "declined at the proposed time",
            Action::Attend => "confirmed as attended",
            Action::Expire => "expired",
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
    /// Accepting or declining a proposal that is not (or no longer) there.
    #[error("the provider has not proposed another time for this booking")]
    NoProposal,
    /// "I'm coming" for a visit that already started.
    #[error("the visit already started")]
    AlreadyStarted,
    /// The request's deadline has not passed (or it has none).
    #[error("the request is still within its time to be answered")]
    NotDue,
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
    let allowed = match actor {
        Actor::Client(user) => {
            booking.client_user_id == Some(user)
                && matches!(
                    action,
                    Action::Cancel
                        | Action::Reschedule
                        | Action::AcceptProposal
                        | Action::DeclineProposal
                        | Action::Attend
                )
        }
        Actor::Provider => {
            matches!(
                action,
                Action::Cancel
                    | Action::Reschedule
                    | Action::Confirm
                    | Action::Decline
                    | Action::Complete
                    | Action::NoShow
                    | Action::Propose
            )
        }
        Actor::System => action == Action::Expire,
    };
    if !allowed {
        return Err(TransitionError::NotYours);
    }
    // The cut-off guards the provider's plans: a client may not undo or move
    // a visit late. Answering a proposal or saying "I'm coming" undoes nothing.
    if matches!(actor, Actor::Client(_)) && matches!(action, Action::Cancel | Action::Reschedule) {
        let cutoff = i64::from(rules.cancel_cutoff_min) * 60;
        if booking.start.as_second() - now.as_second() < cutoff {
            return Err(TransitionError::PastCutoff(rules.cancel_cutoff_min));
        }
    }
    let wrong = || TransitionError::WrongStatus(booking.status, action);
    let proposed = booking.proposed_start.is_some();
    match (action, booking.status) {
        (Action::Cancel, Pending | Confirmed) => Ok(Cancelled),
        (Action::Reschedule, Pending | Confirmed) => Ok(booking.status),
        (Action::Confirm, Pending) => Ok(Confirmed),
        (Action::Decline, Pending) => Ok(Cancelled),
        (Action::Complete | Action::NoShow, Confirmed) if booking.start > now => Err(TransitionError::NotStarted),
        (Action::Complete, Confirmed) => Ok(Completed),
        (Action::NoShow, Confirmed) => Ok(NoShow),
        (Action::Propose, Pending) => Ok(Pending),
        (Action::AcceptProposal | Action::DeclineProposal, Pending) if !proposed => Err(TransitionError::NoProposal),
        (Action::AcceptProposal, Pending) => Ok(Confirmed),
        (Action::DeclineProposal, Pending) => Ok(Cancelled),
        (Action::AcceptProposal | Action::DeclineProposal, _) => Err(TransitionError::NoProposal),
        // "I'm coming" to a time the provider turned down means nothing.
        (Action::Attend, Pending) if proposed => Err(wrong()),
        (Action::Attend, Pending | Confirmed) if booking.start <= now => Err(TransitionError::AlreadyStarted),
        (Action::Attend, Pending | Confirmed) => Ok(booking.status),
        // A request nobody answered, or a proposal the client did not answer, in time.
        (Action::Expire, Pending) if booking.confirm_by.is_some_and(|by| by <= now) => Ok(Cancelled),
        (Action::Expire, Pending) => Err(TransitionError::NotDue),
        _ => Err(wrong()),
    }
}

/// When a request made (or moved) at `now` for `start` must be answered
/// by: `confirm_within_min` after `now`, and never later than the visit
/// itself (a request still pending at its start is no use to anyone).
pub fn confirm_deadline(rules: &BookingRules, start: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let within = jiff::SignedDuration::from_mins(i64::from(rules.confirm_within_min?));
    Some(now.checked_add(within).unwrap_or(start).min(start))
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
        revision: 0,
        confirm_by: None,
        proposed_start: None,
        attendance_confirmed_at: None,
        seat: None,
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
    fn a_proposal_is_answered_by_its_client_only() {
        let rules = BookingRules::default();
        let me = Actor::Client(UserId(uuid::Uuid::from_u128(7)));
        let pending = sample_booking(BookingStatus::Pending, "2027-05-02T10:00:00Z");
        assert_eq!(transition(&pending, Actor::Provider, Action::Propose, &rules, now()), Ok(BookingStatus::Pending));
        // Nothing to answer before the provider proposes.
        assert_eq!(transition(&pending, me, Action::AcceptProposal, &rules, now()), Err(TransitionError::NoProposal));
        let offered = Booking { proposed_start: Some("2027-05-02T12:00:00Z".parse().unwrap()), ..pending.clone() };
        assert_eq!(transition(&offered, me, Action::AcceptProposal, &rules, now()), Ok(BookingStatus::Confirmed));
        assert_eq!(transition(&offered, me, Action::DeclineProposal, &rules, now()), Ok(BookingStatus::Cancelled));
        let stranger = Actor::Client(UserId(uuid::Uuid::from_u128(8)));
        assert_eq!(
            transition(&offered, stranger, Action::AcceptProposal, &rules, now()),
            Err(TransitionError::NotYours)
        );
        // The provider answers their own proposal by confirming, not by accepting it.
        assert_eq!(
            transition(&offered, Actor::Provider, Action::AcceptProposal, &rules, now()),
            Err(TransitionError::NotYours)
        );
        // Answering a proposal is no late cancellation: the cut-off does not apply.
        let soon = Booking { start: "2027-05-01T10:30:00Z".parse().unwrap(), ..offered.clone() };
        assert_eq!(transition(&soon, me, Action::DeclineProposal, &rules, now()), Ok(BookingStatus::Cancelled));
        let confirmed = Booking { status: BookingStatus::Confirmed, ..offered };
        assert!(matches!(
            transition(&confirmed, Actor::Provider, Action::Propose, &rules, now()),
            Err(TransitionError::WrongStatus(..))
        ));
    }

    #[test]
    fn only_the_system_expires_and_only_past_the_deadline() {
        let rules = BookingRules::default();
        let by: Timestamp = "2027-05-01T09:59:59Z".parse().unwrap();
        let due = Booking { confirm_by: Some(by), ..sample_booking(BookingStatus::Pending, "2027-05-02T10:00:00Z") };
        assert_eq!(transition(&due, Actor::System, Action::Expire, &rules, now()), Ok(BookingStatus::Cancelled));
        assert_eq!(transition(&due, Actor::Provider, Action::Expire, &rules, now()), Err(TransitionError::NotYours));
        assert_eq!(transition(&due, Actor::System, Action::Cancel, &rules, now()), Err(TransitionError::NotYours));
        let later = Booking { confirm_by: Some(now() + jiff::SignedDuration::from_secs(1)), ..due.clone() };
        assert_eq!(transition(&later, Actor::System, Action::Expire, &rules, now()), Err(TransitionError::NotDue));
        // A proposal waits for the client until its own deadline, then ends too.
        let proposed = Booking { proposed_start: Some(due.start), confirm_by: None, ..due.clone() };
        assert_eq!(transition(&proposed, Actor::System, Action::Expire, &rules, now()), Err(TransitionError::NotDue));
        let unanswered = Booking { confirm_by: Some(by), ..proposed };
        assert_eq!(transition(&unanswered, Actor::System, Action::Expire, &rules, now()), Ok(BookingStatus::Cancelled));
        let confirmed = Booking { status: BookingStatus::Confirmed, ..due };
        assert!(matches!(
            transition(&confirmed, Actor::System, Action::Expire, &rules, now()),
            Err(TransitionError::WrongStatus(..))
        ));
    }

    #[test]
    fn the_deadline_is_never_after_the_visit() {
        let rules = BookingRules { confirm_within_min: Some(60), ..Default::default() };
        let far: Timestamp = "2027-05-03T10:00:00Z".parse().unwrap();
        assert_eq!(confirm_deadline(&rules, far, now()), Some("2027-05-01T11:00:00Z".parse().unwrap()));
        let soon: Timestamp = "2027-05-01T10:30:00Z".parse().unwrap();
        assert_eq!(confirm_deadline(&rules, soon, now()), Some(soon));
        assert_eq!(confirm_deadline(&BookingRules::default(), far, now()), None);
    }

    #[test]
    fn im_coming_until_the_visit_starts() {
        let rules = BookingRules::default();
        let me = Actor::Client(UserId(uuid::Uuid::from_u128(7)));
        let ahead = sample_booking(BookingStatus::Confirmed, "2027-05-01T10:30:00Z");
        assert_eq!(transition(&ahead, me, Action::Attend, &rules, now()), Ok(BookingStatus::Confirmed));
        let started = sample_booking(BookingStatus::Confirmed, "2027-05-01T10:00:00Z");
        assert_eq!(transition(&started, me, Action::Attend, &rules, now()), Err(TransitionError::AlreadyStarted));
        let cancelled = sample_booking(BookingStatus::Cancelled, "2027-05-01T10:30:00Z");
        assert!(matches!(
            transition(&cancelled, me, Action::Attend, &rules, now()),
            Err(TransitionError::WrongStatus(..))
        ));
        assert_eq!(transition(&ahead, Actor::Provider, Action::Attend, &rules, now()), Err(TransitionError::NotYours));
        let turned_down = Booking {
            status: BookingStatus::Pending,
            proposed_start: Some("2027-05-01T12:00:00Z".parse().unwrap()),
            ..ahead
        };
        assert!(matches!(
            transition(&turned_down, me, Action::Attend, &rules, now()),
            Err(TransitionError::WrongStatus(..))
        ));
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
