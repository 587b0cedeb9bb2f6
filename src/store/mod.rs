//! Persistence behind narrow per-aggregate contracts (accounts, catalogue,
//! bookings, client book, outbox, support), implemented once in SQL for both SQLite
//! and PostgreSQL ([`sql`]; each database keeps its own migrations under
//! `migrations/`).
//!
//! The backend is picked by the `DATABASE_URL` scheme. Handlers and actors only
//! ever see `Arc<dyn Store>`; the contract test suite (`tests/integration/store_contract.rs`)
//! runs the same assertions against both databases.

mod calendar_repository;
mod error;
mod model;
mod sql;
mod support;

use std::sync::Arc;

use actors::{
    calendar::{BookingUpdate, CreatedBooking, NewBooking},
    domain::{Booking, BookingId, ClientId, ProviderId, Schedule, ServiceId, UserId},
};
use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

pub use calendar_repository::StoreRepository;
pub use error::StoreError;
pub use model::*;
pub use support::*;

pub type StoreResult<T> = Result<T, StoreError>;

/// Every contract at once, as handlers, the bot and the calendars hold it.
#[async_trait]
pub trait Store:
    Accounts + Catalogue + Bookings + ClientBook + Outbox + Support + AccessLog + Retention + Waitlist
{
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// The same database, announcing every committed settings write (profile
    /// and rules, services, hours, overrides, an account's deletion) to
    /// `listener`, so that every node's calendar for that provider reloads and
    /// every watcher gets fresh slots (DESIGN §8 "Consistency"); and every
    /// write to an account or its sessions, so that every node's session cache
    /// forgets it. Announcing in the one path every such write takes means no
    /// handler — HTTP, bot or a future one — can forget it. The calendars keep
    /// the plain store (they never write settings or accounts).
    fn announcing_to(&self, listener: Arc<dyn ChangeListener>) -> Arc<dyn Store>;
}

/// Told after a write committed (the bus implements it).
#[async_trait]
pub trait ChangeListener: Send + Sync + 'static {
    async fn settings_changed(&self, provider_id: ProviderId);
    /// An account (`None`: every account) or its sessions changed.
    async fn account_changed(&self, user_id: Option<UserId>);
}

/// Clients waiting for a time to free up (issue 14).
#[async_trait]
pub trait Waitlist: Send + Sync + 'static {
    /// Adds the entry, or — one per user, service and date — replaces the
    /// window (and what was known free) of the one there. `true`: added.
    async fn join_waitlist(&self, entry: &WaitlistEntry) -> StoreResult<(WaitlistEntry, bool)>;
    /// The user's entries for dates from `from` on, with names.
    async fn my_waitlist(&self, user_id: UserId, from: jiff::civil::Date) -> StoreResult<Vec<WaitlistDetails>>;
    /// The user's entries for dates from `from` on (for the cap).
    async fn waitlist_count(&self, user_id: UserId, from: jiff::civil::Date) -> StoreResult<u64>;
    /// Removes the user's own entry; `false` if they have none with that id.
    async fn leave_waitlist(&self, user_id: UserId, id: Uuid) -> StoreResult<bool>;
    /// The provider's entries for dates `from..=to`, with names.
    async fn provider_waitlist(
        &self,
        provider_id: ProviderId,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> StoreResult<Vec<WaitlistDetails>>;
    /// The provider's entries on `dates`, or on every date from `dates[0]` on
    /// when `all_from_first` (a settings change may free any date).
    async fn waitlist_on(
        &self,
        provider_id: ProviderId,
        dates: &[jiff::civil::Date],
        all_from_first: bool,
    ) -> StoreResult<Vec<WaitlistDetails>>;
    /// Records what is free in the entry's window now, only if what was known
    /// is still `known` (another node may have looked meanwhile), and with it
    /// the offer, if any, in one transaction. `false`: someone else recorded
    /// first (or the entry is gone), nothing was written.
    async fn record_offer(
        &self,
        entry_id: Uuid,
        known: &[Timestamp],
        free_now: &[Timestamp],
        offer: Option<&OfferLetter>,
        now: Timestamp,
    ) -> StoreResult<bool>;
}

/// Users and their sign-in sessions.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates the user on first sign-in, refreshes the Telegram fields after —
    /// except a name or language the user corrected (`update_user`), which stays.
    async fn upsert_telegram_user(&self, profile: &TelegramProfile, now: Timestamp) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn update_user(&self, id: UserId, changes: &UserChanges, now: Timestamp) -> StoreResult<Option<User>>;
    /// Deletes an account (policy §7): the Telegram data is anonymized, the
    /// sessions go, so do their support conversations, the user's entries in providers' client books are
    /// unlinked (those are the providers' records), pending messages to them
    /// are skipped. A provider's profile is anonymized and its slug freed,
    /// its client book anonymized (names, contacts, notes; clients still see
    /// their own visits) and its upcoming bookings cancelled; past bookings
    /// stay as anonymous counts. Returns the provider id, if any.
    /// `letters` (to a provider's clients: their visits are cancelled) are
    /// written in the same transaction, so nobody is told of a deletion that
    /// did not happen, and nobody is left untold of one that did.
    async fn delete_account(
        &self,
        user_id: UserId,
        placeholder_telegram_id: i64,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<Option<ProviderId>>;
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The user owning an unexpired session, if any, and when it expires.
    async fn session_user(&self, token_hash: &[u8], now: Timestamp) -> StoreResult<Option<SessionUser>>;
    async fn user_by_telegram_id(&self, telegram_id: i64) -> StoreResult<Option<User>>;
    /// Records that this deployment serves the policy text with this SHA-256
    /// (policy §10): its publication time (the first time any node served it)
    /// and whether any other text was published before it.
    async fn publish_policy(&self, text_sha256: &str, now: Timestamp) -> StoreResult<PolicyPublication>;
    /// The user has seen `version`. `only_if_unset`: a new account, which
    /// agreed to the current text by signing up, but must not overwrite an
    /// older version an existing account has not acknowledged yet.
    async fn acknowledge_policy(&self, user_id: UserId, version: &str, only_if_unset: bool) -> StoreResult<()>;
    /// The first versioned publication: every existing account has agreed to
    /// this text by using the service, so nobody is told it changed.
    async fn acknowledge_policy_for_all(&self, version: &str) -> StoreResult<()>;
}

/// Providers, their services and their weekly hours and date overrides: the
/// settings a calendar decides with.
#[async_trait]
pub trait Catalogue: Send + Sync + 'static {
    /// Creates or updates the provider profile of `user_id`.
    /// Fails with [`StoreError::SlugTaken`] when another provider owns the slug.
    async fn upsert_provider(
        &self,
        user_id: UserId,
        profile: &ProviderProfile,
        now: Timestamp,
    ) -> StoreResult<Provider>;
    async fn provider_of_user(&self, user_id: UserId) -> StoreResult<Option<Provider>>;
    async fn provider_by_slug(&self, slug: &str) -> StoreResult<Option<Provider>>;
    async fn provider(&self, provider_id: ProviderId) -> StoreResult<Option<Provider>>;
    /// Providers who asked for a morning digest (rule `morning_digest`).
    async fn providers_with_digest(&self) -> StoreResult<Vec<Provider>>;
    /// Sets (`Some`) or revokes (`None`) the provider's calendar-feed key,
    /// given as its SHA-256; a new key replaces the old one.
    async fn set_calendar_feed(
        &self,
        provider_id: ProviderId,
        key_hash: Option<&[u8]>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The provider whose calendar-feed key hashes to `key_hash`.
    async fn provider_by_calendar_feed(&self, key_hash: &[u8]) -> StoreResult<Option<Provider>>;
    async fn services(&self, provider_id: ProviderId, include_retired: bool) -> StoreResult<Vec<Service>>;
    async fn service(&self, provider_id: ProviderId, service_id: ServiceId) -> StoreResult<Option<Service>>;
    async fn insert_service(
        &self,
        provider_id: ProviderId,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Service>;
    /// Overwrites every field; `None` when the service is not the provider's.
    async fn update_service(
        &self,
        provider_id: ProviderId,
        service_id: ServiceId,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Option<Service>>;
    /// Retired services stay for the bookings that reference them but are no
    /// longer offered. `false` when the service is not the provider's.
    async fn retire_service(&self, provider_id: ProviderId, service_id: ServiceId, now: Timestamp)
    -> StoreResult<bool>;
    async fn schedule(&self, provider_id: ProviderId) -> StoreResult<Schedule>;
    /// Replaces weekly hours and overrides in one transaction.
    async fn replace_schedule(&self, provider_id: ProviderId, schedule: &Schedule) -> StoreResult<()>;
}

/// Bookings, as the calendars write them and the views read them.
#[async_trait]
pub trait Bookings: Send + Sync + 'static {
    /// Active bookings of the provider whose occupied time ends after `since`.
    async fn active_bookings(&self, provider_id: ProviderId, since: Timestamp) -> StoreResult<Vec<Booking>>;
    async fn booking(&self, provider_id: ProviderId, booking_id: BookingId) -> StoreResult<Option<BookingDetails>>;
    /// A booking whose client is the Telegram user `user_id`.
    async fn booking_of_client(&self, user_id: UserId, booking_id: BookingId) -> StoreResult<Option<BookingDetails>>;
    async fn booking_by_idempotency_key(&self, user_id: UserId, key: &str) -> StoreResult<Option<Booking>>;
    /// A booking by id alone (the outbox and the bot check ownership themselves).
    async fn booking_by_id(&self, booking_id: BookingId) -> StoreResult<Option<BookingDetails>>;
    /// Writes a booking (and, for a signed-in client, finds or creates their
    /// client-book entry) in one transaction. Fails with
    /// [`StoreError::BookingOverlap`] when the database's no-overlap rule fires.
    /// The booking as written, and for a client's own booking the names to
    /// show it with, read in its transaction.
    async fn create_booking(&self, booking: &NewBooking) -> StoreResult<CreatedBooking>;
    /// Applies a change over the revision it was decided on
    /// (`update.after.revision`); `None` when the booking is gone or has
    /// changed since (another node was first).
    async fn update_booking(&self, update: &BookingUpdate) -> StoreResult<Option<Booking>>;
    /// Pending requests whose answer deadline passed by `now` (the
    /// provider's, or the client's to a proposal), oldest deadline first.
    async fn requests_past_deadline(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<(ProviderId, BookingId)>>;
    /// The bookings of the Telegram user `user_id` as a client, newest first.
    async fn client_bookings(&self, user_id: UserId) -> StoreResult<Vec<BookingDetails>>;
    /// The provider's bookings starting in `[from, to)`, in time order.
    async fn provider_bookings(
        &self,
        provider_id: ProviderId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<BookingDetails>>;
}

/// A provider's client book.
#[async_trait]
pub trait ClientBook: Send + Sync + 'static {
    /// The client book, optionally filtered by a case-insensitive search in
    /// name and contacts.
    async fn clients(&self, provider_id: ProviderId, search: Option<&str>) -> StoreResult<Vec<Client>>;
    /// How many clients the provider typed in (not linked to a Telegram
    /// user): what `CLIENT_BOOK_MAX` bounds.
    async fn clients_added_by_hand(&self, provider_id: ProviderId) -> StoreResult<u64>;
    async fn client(&self, provider_id: ProviderId, client_id: ClientId) -> StoreResult<Option<Client>>;
    /// Every booking of the client, newest first (the visit history).
    async fn client_history(&self, provider_id: ProviderId, client_id: ClientId) -> StoreResult<Vec<BookingDetails>>;
    async fn insert_client(&self, client: &NewClient) -> StoreResult<Client>;
    async fn update_client(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        fields: &ClientFields,
        now: Timestamp,
    ) -> StoreResult<Option<Client>>;
    /// Blocks or unblocks a client of the provider's book.
    async fn set_client_blocked(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        blocked: bool,
        now: Timestamp,
    ) -> StoreResult<Option<Client>>;
    /// The card `user_id` has in the provider's book, if any.
    async fn client_of_user(&self, provider_id: ProviderId, user_id: UserId) -> StoreResult<Option<Client>>;
    /// Whether the provider blocked `user_id` (their card says so): such a
    /// client takes no time with them, over HTTP or from the chat.
    async fn blocks(&self, provider_id: ProviderId, user_id: UserId) -> StoreResult<bool> {
        Ok(self.client_of_user(provider_id, user_id).await?.is_some_and(|card| card.blocked))
    }
    /// Deletes the client and their booking history, upcoming visits
    /// included, and writes `letters` (telling the client) in the same
    /// transaction. The provider's calendars reload (the freed time shows
    /// live) through the settings announcement.
    async fn delete_client(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<ClientDeletion>;
    /// The Telegram user `user_id` asks the provider to delete their card
    /// (policy §6: the provider decides); `None` when the provider's book
    /// holds no card of theirs. The provider is told by `letters`.
    async fn request_erasure(
        &self,
        provider_id: ProviderId,
        user_id: UserId,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<Option<Client>>;
}

/// Messages the bot owes (pushes, reminders) and where it reaches a user.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Claims up to `limit` outbox messages due by `now` (state → sending,
    /// leased until `lease_until`); on PostgreSQL with `FOR UPDATE SKIP
    /// LOCKED`, so dispatchers on several nodes never claim the same row.
    /// Messages still `sending` after their lease (a node died mid-send) are
    /// marked failed, never re-sent: a reminder goes out at most once.
    async fn claim_due_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Records how a claimed message ended (sent, skipped or failed).
    async fn finish_message(&self, id: Uuid, outcome: MessageOutcome, now: Timestamp) -> StoreResult<()>;
    /// Telegram did not take the message (429, a network error): back to
    /// pending, due again at `due_at`.
    async fn retry_message(&self, id: Uuid, due_at: Timestamp, error: &str) -> StoreResult<()>;
    /// Telegram answered 403 for this user: stop messaging them, and skip
    /// what was waiting for them.
    async fn mark_bot_blocked(&self, user_id: UserId, reason: &str, now: Timestamp) -> StoreResult<()>;
    async fn bot_recipient(&self, user_id: UserId) -> StoreResult<Option<BotRecipient>>;
    /// Writes messages worded now (see [`OutboxContent::Text`]).
    async fn send_letters(&self, letters: &[Letter], now: Timestamp) -> StoreResult<()>;
    /// Writes the provider's digest for their local `date` unless one was
    /// written already (by this node or another): `true` if this call wrote it.
    async fn send_digest(
        &self,
        provider_id: ProviderId,
        date: jiff::civil::Date,
        letter: &Letter,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Tells every account active since `active_since` that has neither seen
    /// nor been told of policy `version` about it, once per version even with
    /// several nodes starting at once, paced at `per_second` messages (the
    /// bot's pushes and reminders keep their turn). Accounts whose processing
    /// is restricted are counted as told and get nothing (the Mini App still
    /// shows them the notice). Returns how many messages were written.
    async fn announce_policy(
        &self,
        version: &str,
        active_since: Timestamp,
        per_second: u32,
        now: Timestamp,
    ) -> StoreResult<u64>;
}

/// Support conversations (policy §8, §11): what users write to support
/// through the bot and the operators' answers, kept with the account.
#[async_trait]
pub trait Support: Send + Sync + 'static {
    /// Opens a conversation for the user, or keeps the one already open
    /// (its activity time moves to `now`). Returns its id.
    async fn open_support(&self, user_id: UserId, now: Timestamp) -> StoreResult<Uuid>;
    /// The user's open conversation, if any.
    async fn open_support_conversation(&self, user_id: UserId) -> StoreResult<Option<Uuid>>;
    /// The user's most recent conversation, open or finished.
    async fn latest_support_conversation(&self, user_id: UserId) -> StoreResult<Option<Uuid>>;
    /// Finishes the user's open conversation (`/done`); `false` if none was open.
    async fn finish_support(&self, user_id: UserId, now: Timestamp) -> StoreResult<bool>;
    /// Stores a message and moves its conversation's activity time.
    async fn add_support_message(&self, message: &NewSupportMessage) -> StoreResult<SupportMessage>;
    /// Records where the operator chat holds the copy of message `id`.
    async fn set_support_copy(&self, id: Uuid, chat_id: i64, copy_message_id: i64) -> StoreResult<()>;
    /// The message whose copy in operator chat `chat_id` is `copy_message_id`.
    async fn support_message_by_copy(&self, chat_id: i64, copy_message_id: i64) -> StoreResult<Option<SupportMessage>>;
    /// Every support message of the user, both directions, oldest first.
    async fn support_messages(&self, user_id: UserId) -> StoreResult<Vec<SupportMessage>>;
    /// How many messages `user_id` wrote to support after `since`: what
    /// `SUPPORT_MESSAGES_PER_DAY` bounds.
    async fn support_messages_written_since(&self, user_id: UserId, since: Timestamp) -> StoreResult<u64>;
    /// Open conversations, the longest waiting first.
    async fn open_support_conversations(&self) -> StoreResult<Vec<SupportConversation>>;
    /// Retention: deletes every conversation (with its messages) with no
    /// activity since `before` — finished ones, and open ones abandoned that
    /// long. Returns how many conversations went.
    async fn purge_support(&self, before: Timestamp) -> StoreResult<u64>;
}

/// The access log (privacy policy §2, technical data).
#[async_trait]
pub trait AccessLog: Send + Sync + 'static {
    /// Writes a batch of lines in one statement (the access-log writer's).
    async fn record_access(&self, records: &[AccessRecord]) -> StoreResult<()>;
    /// The user's lines, newest first, at most `limit`.
    async fn access_log(&self, user_id: UserId, limit: i64) -> StoreResult<Vec<AccessEntry>>;
}

/// The retention rules (privacy policy §2, §7): what is kept only for a while.
#[async_trait]
pub trait Retention: Send + Sync + 'static {
    /// Deletes access-log lines from before `before` (and those of deleted
    /// accounts), sessions expired by `now`, and outbox messages in a final
    /// state (sent, skipped, failed) from before `before`. Idempotent and
    /// cheap on indexed columns, so every node may run it.
    async fn purge(&self, before: Timestamp, now: Timestamp) -> StoreResult<PurgeReport>;
}

/// Opens (creating if needed) and migrates the database `url` names.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if is_postgres_url(url) { sql::connect_postgres(url).await } else { sql::connect_sqlite(url).await }
}

/// Applies pending migrations and returns, for `justbookme migrate`.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    connect(url).await.map(drop)
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
