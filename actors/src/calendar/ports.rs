//! What a calendar needs from the outside world, as traits the server
//! implements: a repository (the database) and an event sink (the bus).
//! Keeping them abstract keeps SQL and networking out of this crate.

use crate::domain::{BookingId, ClientId, ProviderId, ServiceId, UserId};
use std::collections::HashMap;

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};

use super::notices::Notice;
use crate::domain::{Booking, BookingRules, BookingStatus, Busy, ProviderTimeZone, Schedule, ServiceTiming};

/// A service as the calendar needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    pub timing: ServiceTiming,
    /// Retired services keep their bookings but take no new ones.
    pub active: bool,
    /// Clients one start takes: above 1 the service is a class.
    pub capacity: u16,
}

/// A booking just written, and the names it is shown with when the
/// repository read them in the same transaction (a client's own booking:
/// the read that checks the settings and finds the client's card reads
/// them too), so whoever answers the booker needs no read of their own.
/// The calendar only passes them on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedBooking {
    pub booking: Booking,
    pub labels: Option<BookingLabels>,
}

/// What a booking is shown with besides its own fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingLabels {
    pub provider_slug: String,
    pub provider_name: String,
    pub time_zone: ProviderTimeZone,
    pub service_name: String,
    /// The client's name in the provider's client book.
    pub client_name: String,
}

/// Everything a calendar holds in memory, loaded in one go.
#[derive(Clone, Debug)]
pub struct CalendarData {
    pub provider_id: ProviderId,
    /// The version of the provider's settings this data was read at. Every
    /// write carries it; the repository refuses the write with
    /// [`RepositoryError::StaleSettings`] if the settings changed since.
    pub settings_version: i64,
    /// The provider's own user, recorded as `updated_by` on provider actions.
    pub owner_user_id: UserId,
    pub time_zone: ProviderTimeZone,
    pub rules: BookingRules,
    pub schedule: Schedule,
    pub services: HashMap<ServiceId, ServiceInfo>,
    /// Active bookings that end after "now minus a day" (older ones cannot
    /// affect any slot still offered).
    pub bookings: Vec<Booking>,
}

/// Who a booking is for: the client book entry is found or created, in the
/// booking's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookingClient {
    /// A signed-in client booking for themselves (their entry is found or made).
    User { user_id: UserId, name: String },
    /// An existing entry of the provider's client book, with its Telegram
    /// user if it has one (they are told of what the provider books).
    Existing { id: ClientId, user_id: Option<UserId> },
    /// A client the provider types in (a phone call, a walk-in): added to
    /// the book by the booking, so a refused booking adds nobody.
    New { name: String, contacts: Option<String> },
}

impl BookingClient {
    /// The Telegram user the booking is for, when known before it is written.
    pub fn user(&self) -> Option<UserId> {
        match self {
            BookingClient::User { user_id, .. } => Some(*user_id),
            BookingClient::Existing { user_id, .. } => *user_id,
            BookingClient::New { .. } => None,
        }
    }
}

/// A booking to write.
#[derive(Clone, Debug)]
pub struct NewBooking {
    pub id: BookingId,
    pub provider_id: ProviderId,
    pub service_id: ServiceId,
    pub client: BookingClient,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The start's date on the provider's calendar: the client's waitlist
    /// entry for this service and date ends with the booking, in its
    /// transaction (whoever books it for them).
    pub local_date: Date,
    pub occupied: Busy,
    pub status: BookingStatus,
    /// The class seat taken (see [`crate::domain::lowest_free_seat`]); `None`: one-to-one.
    pub seat: Option<u16>,
    /// A pending request's answer deadline (see [`crate::domain::confirm_deadline`]).
    pub confirm_by: Option<Timestamp>,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
    pub idempotency_key: Option<String>,
    pub now: Timestamp,
    /// The settings version the calendar decided with.
    pub settings_version: i64,
    /// Outbox messages written in the booking's transaction.
    pub notices: Vec<Notice>,
}

impl NewBooking {
    /// The booking as stored, once its client-book entry is known.
    pub fn to_booking(&self, client_id: ClientId, client_user_id: Option<UserId>) -> Booking {
        Booking {
            id: self.id,
            provider_id: self.provider_id,
            service_id: self.service_id,
            client_id,
            client_user_id,
            start: self.start,
            end: self.end,
            occupied: self.occupied,
            status: self.status,
            note: self.note.clone(),
            created_by: self.created_by,
            idempotency_key: self.idempotency_key.clone(),
            created_at: self.now,
            updated_at: self.now,
            revision: 0,
            confirm_by: self.confirm_by,
            proposed_start: None,
            attendance_confirmed_at: None,
            seat: self.seat,
        }
    }
}

/// A change to an existing booking: everything it changes (status, time,
/// deadline, proposal, attendance) as `after`.
#[derive(Clone, Debug)]
pub struct BookingUpdate {
    /// The booking as it is to be. Its `revision` is the one the change was
    /// decided on: the write applies only over that revision (else
    /// [`RepositoryError::Conflict`]), and bumps it.
    pub after: Booking,
    pub updated_by: Option<UserId>,
    pub now: Timestamp,
    /// The settings version the calendar decided with.
    pub settings_version: i64,
    /// Pending reminders of the booking are dropped (cancelled, moved, done).
    pub drop_pending_reminders: bool,
    /// Outbox messages written in the change's transaction.
    pub notices: Vec<Notice>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The database's no-overlap rule fired: another node (or a stale view)
    /// took the time first.
    #[error("the time overlaps an active booking")]
    Overlap,
    /// The class seat was taken by another node first, or lies beyond the
    /// capacity: decide again on the bookings as they are now.
    #[error("the class seat is taken")]
    SeatTaken,
    /// The booking changed (on another node) after the change was decided,
    /// or is gone: decide again on what is there now.
    #[error("the booking changed meanwhile")]
    Conflict,
    /// The (user, Idempotency-Key) pair was used already.
    #[error("idempotency key already used")]
    DuplicateIdempotencyKey,
    /// The provider blocked the client booking ([`BookingClient::User`]).
    #[error("the provider blocked this client")]
    ClientBlocked,
    /// The provider's settings changed after the calendar loaded them (on
    /// another node, with the bus between the nodes cut or slow).
    #[error("the provider's settings changed meanwhile")]
    StaleSettings,
    /// The database did not answer in time (see the actor's
    /// `REPOSITORY_TIMEOUT`); a write's outcome is unknown.
    #[error("the database did not answer in time")]
    TimedOut,
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait CalendarRepository: Send + Sync + 'static {
    /// `None` when the provider does not exist.
    async fn load_calendar(
        &self,
        provider_id: ProviderId,
        since: Timestamp,
    ) -> Result<Option<CalendarData>, RepositoryError>;
    /// The current version of the provider's settings (`None`: no such
    /// provider). Read before a refusal, so that a calendar never refuses on
    /// the strength of settings that changed elsewhere.
    async fn settings_version(&self, provider_id: ProviderId) -> Result<Option<i64>, RepositoryError>;
    async fn booking(&self, provider_id: ProviderId, booking_id: BookingId)
    -> Result<Option<Booking>, RepositoryError>;
    async fn booking_by_idempotency_key(&self, user_id: UserId, key: &str) -> Result<Option<Booking>, RepositoryError>;
    /// Writes the booking (and, for [`BookingClient::User`], the client book
    /// entry) in one transaction, checking in it that the settings are still
    /// at `booking.settings_version` (else [`RepositoryError::StaleSettings`]).
    async fn create_booking(&self, booking: &NewBooking) -> Result<CreatedBooking, RepositoryError>;
    async fn update_booking(&self, update: &BookingUpdate) -> Result<Booking, RepositoryError>;
}

crate::domain::words! {
    /// What happened to a booking, for pushes and live feeds. Serde names and
    /// [`as_str`](Self::as_str) agree: the same word on the bus and in the outbox.
    #[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum BookingEventKind {
        Created = "created",
        Cancelled = "cancelled",
        Rescheduled = "rescheduled",
        Confirmed = "confirmed",
        Declined = "declined",
        Completed = "completed",
        NoShow = "no_show",
        /// The provider offered another start for a request.
        Proposed = "proposed",
        ProposalAccepted = "proposal_accepted",
        ProposalDeclined = "proposal_declined",
        /// The client said "I'm coming".
        Attending = "attending",
        /// A request nobody answered in time was declined by the system.
        Expired = "expired",
    }
}

impl std::str::FromStr for BookingEventKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text).ok_or_else(|| format!("unknown booking event {text:?}"))
    }
}

/// Published after a change is committed, never for one that rolled back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarEvent {
    /// Free slots may have changed on these local dates of the provider.
    AvailabilityChanged {
        provider_id: ProviderId,
        dates: Vec<Date>,
    },
    Booking {
        kind: BookingEventKind,
        booking: Box<Booking>,
    },
}

/// Where calendars publish their events (the bus implements it).
pub trait EventSink: Send + Sync + 'static {
    fn publish(&self, event: CalendarEvent);

    /// Whether other nodes' changes may be missed right now (the link
    /// between nodes is down): calendars then check their settings' version
    /// before offering slots. Alone, nothing can be missed.
    fn may_miss_events(&self) -> bool {
        false
    }
}
