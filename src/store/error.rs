/// What can go wrong in the store, in the terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another provider already uses this slug.
    #[error("slug is taken")]
    SlugTaken,
    /// The database refused a booking that overlaps an active one.
    #[error("booking overlaps an active booking")]
    BookingOverlap,
    /// Another booking holds the class seat, or it is beyond the capacity.
    #[error("the class seat is taken")]
    SeatTaken,
    /// The (user, Idempotency-Key) pair was used already.
    #[error("idempotency key already used")]
    DuplicateIdempotencyKey,
    /// The provider blocked the client who books (checked in the booking's
    /// transaction, so a block and a booking never both pass).
    #[error("the provider blocked this client")]
    ClientBlocked,
    /// The provider's settings changed after the calendar read them: the
    /// booking was decided against stale hours, services or rules.
    #[error("the provider's settings changed meanwhile")]
    StaleSettings,
    /// A row holds a value the domain cannot accept (written by hand or by a
    /// bug); surfaced instead of guessed around.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}
