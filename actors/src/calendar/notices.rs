//! Who hears of a booking change, and when clients are reminded. Pure policy:
//! the calendar writes these as outbox rows in the change's own transaction.

use jiff::{SignedDuration, Timestamp};

use super::BookingEventKind;
use crate::domain::{Actor, Booking, BookingRules, UserId};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// An instant message about a change (`created`, `cancelled`, …).
    Push(BookingEventKind),
    /// A reminder this many minutes before the visit.
    Reminder(u32),
}

/// One message to send, to one user, not before `due_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub recipient: UserId,
    pub due_at: Timestamp,
}

/// Pushes for a change: the provider hears of what clients do, the client of
/// what the provider does. Nobody is told of their own action.
pub fn pushes(
    kind: BookingEventKind,
    actor: Actor,
    booking: &Booking,
    provider_user: UserId,
    now: Timestamp,
) -> Vec<Notice> {
    use BookingEventKind::*;
    let recipient = match (kind, actor) {
        (Created | Cancelled | Rescheduled | ProposalAccepted | ProposalDeclined, Actor::Client(_)) => {
            Some(provider_user)
        }
        // Completed: the client is thanked and offered to book again.
        (Created | Cancelled | Rescheduled | Confirmed | Declined | Completed | Proposed, Actor::Provider) => {
            booking.client_user_id
        }
        (Expired, Actor::System) => booking.client_user_id,
        // "I'm coming" is shown on the agenda live and in the morning digest:
        // a push for every one would bury the provider's chat.
        _ => None,
    };
    recipient.map(|recipient| Notice { kind: NoticeKind::Push(kind), recipient, due_at: now }).into_iter().collect()
}

/// Reminders for an active booking of a Telegram client: one per offset
/// that still lies ahead.
pub fn reminders(booking: &Booking, rules: &BookingRules, now: Timestamp) -> Vec<Notice> {
    let Some(client) = booking.client_user_id else { return Vec::new() };
    if !booking.status.is_active() {
        return Vec::new();
    }
    rules
        .reminder_offsets_min
        .iter()
        .filter_map(|&offset| {
            let due_at = booking.start.checked_sub(SignedDuration::from_mins(i64::from(offset))).ok()?;
            (due_at > now).then_some(Notice { kind: NoticeKind::Reminder(offset), recipient: client, due_at })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BookingStatus;

    fn booking(start: &str) -> Booking {
        crate::domain::sample_booking(BookingStatus::Confirmed, start)
    }

    #[test]
    fn the_other_side_hears_of_a_change() {
        let b = booking("2027-06-01T10:00:00Z");
        let now: Timestamp = "2027-05-01T10:00:00Z".parse().unwrap();
        let provider = UserId(uuid::Uuid::from_u128(1));
        let client = Actor::Client(UserId(uuid::Uuid::from_u128(7)));
        assert_eq!(pushes(BookingEventKind::Created, client, &b, provider, now)[0].recipient, provider);
        assert_eq!(
            pushes(BookingEventKind::Cancelled, Actor::Provider, &b, provider, now)[0].recipient,
            UserId(uuid::Uuid::from_u128(7))
        );
        // A completed visit: the client is offered to book again; a no-show is not told.
        assert_eq!(
            pushes(BookingEventKind::Completed, Actor::Provider, &b, provider, now)[0].recipient,
            UserId(uuid::Uuid::from_u128(7))
        );
        assert!(pushes(BookingEventKind::NoShow, Actor::Provider, &b, provider, now).is_empty());
        assert_eq!(
            pushes(BookingEventKind::Expired, Actor::System, &b, provider, now)[0].recipient,
            UserId(uuid::Uuid::from_u128(7))
        );
        assert_eq!(
            pushes(BookingEventKind::Proposed, Actor::Provider, &b, provider, now)[0].recipient,
            UserId(uuid::Uuid::from_u128(7))
        );
        assert_eq!(pushes(BookingEventKind::ProposalAccepted, client, &b, provider, now)[0].recipient, provider);
        assert!(pushes(BookingEventKind::Attending, client, &b, provider, now).is_empty());
        let walk_in = Booking { client_user_id: None, ..b };
        assert!(pushes(BookingEventKind::Confirmed, Actor::Provider, &walk_in, provider, now).is_empty());
    }

    #[test]
    fn reminders_only_ahead_of_now() {
        let b = booking("2027-06-01T10:00:00Z");
        let rules = BookingRules { reminder_offsets_min: vec![24 * 60, 120], ..Default::default() };
        let now: Timestamp = "2027-05-31T12:00:00Z".parse().unwrap();
        let due: Vec<String> = reminders(&b, &rules, now).iter().map(|n| n.due_at.to_string()).collect();
        assert_eq!(due, ["2027-06-01T08:00:00Z"], "the 24 h reminder is already past");
    }
}
