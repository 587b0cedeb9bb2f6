use crate::domain::TransitionError;

/// Why a calendar refused or failed a request, in terms an API can map to
/// status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The start is not a slot the provider offers (422).
    #[error("{0}")]
    NotBookable(String),
    /// The slot exists but someone else holds it (409).
    #[error("this time was just taken; pick another slot")]
    SlotTaken,
    /// The class has no seat left at this start (409).
    #[error("this class is full; pick another time or join the waitlist")]
    ClassFull,
    /// The provider blocked the client who books (403).
    #[error("the provider does not take bookings from this client")]
    ClientBlocked,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the Idempotency-Key was already used for another request")]
    IdempotencyKeyReused,
    /// Too many requests queued for this calendar; retry shortly (503).
    #[error("this calendar is busy; retry in a moment")]
    Overloaded,
    /// The calendar crashed or its database is unreachable; safe to retry (503).
    #[error("{0}")]
    Unavailable(String),
}
