//! Records as the rest of the server sees them. Times are `jiff::Timestamp`.

use actors::calendar::notices::NoticeKind;
use actors::domain::{
    Booking, BookingId, BookingRules, ClientId, ProviderId, ProviderTimeZone, ServiceId, ServiceTiming, Slug, UserId,
};
use jiff::Timestamp;
use uuid::Uuid;

/// What Telegram tells us about an account (privacy policy §2, "Account data").
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TelegramProfile {
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
}

/// Read straight from a row (`user_columns!`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    #[sqlx(try_from = "uuid::Uuid")]
    pub id: UserId,
    #[sqlx(flatten)]
    pub profile: TelegramProfile,
    pub processing_restricted: bool,
    /// The privacy policy version the user last acknowledged (policy §10).
    pub policy_version_seen: Option<String>,
    /// The IANA zone of the device the user last opened the Mini App on
    /// (Telegram tells us none): the bot shows a client their own wall time
    /// beside the provider's with it. Kept as text and parsed where used, so a
    /// name a later tz database drops costs the second time, not the account.
    pub time_zone: Option<String>,
    #[sqlx(try_from = "super::sql::Moment")]
    pub created_at: Timestamp,
}

/// A signed-in user, and when the session expires (a cached session is
/// never used past it).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(flatten)]
    pub user: User,
    #[sqlx(try_from = "super::sql::Moment")]
    pub expires_at: Timestamp,
}

/// Corrections a user may make to their account (policy §8). `Some(None)`
/// clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub language_code: Option<Option<String>>,
    /// Policy §8: the user asks us to restrict processing (no bot messages).
    pub processing_restricted: Option<bool>,
    /// The device's IANA zone, already validated.
    pub time_zone: Option<Option<String>>,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A provider profile as submitted (already validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderProfile {
    pub slug: Slug,
    pub display_name: String,
    pub business_name: Option<String>,
    pub contacts: Option<String>,
    pub timezone: ProviderTimeZone,
    pub rules: BookingRules,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: ProviderId,
    pub user_id: UserId,
    /// Bumped by every write of the provider's settings (profile, rules,
    /// services, hours, overrides) in that write's transaction; see the
    /// `settings_version` migration.
    pub settings_version: i64,
    pub profile: ProviderProfile,
}

/// Everything about a service a provider sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFields {
    pub name: String,
    pub timing: ServiceTiming,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    /// Clients one start takes; above 1 the service is a class.
    pub capacity: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub provider_id: ProviderId,
    pub fields: ServiceFields,
    pub active: bool,
}

/// A client-book entry as the provider edits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFields {
    pub name: String,
    pub contacts: Option<String>,
    pub notes: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewClient {
    pub id: ClientId,
    pub provider_id: ProviderId,
    pub user_id: Option<UserId>,
    pub fields: ClientFields,
    pub created_at: Timestamp,
}

/// An entry of a provider's client book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub provider_id: ProviderId,
    /// The Telegram user, when the client booked through the Mini App.
    pub user_id: Option<UserId>,
    pub fields: ClientFields,
    /// When the client asked the provider to delete this card (policy §6).
    pub erasure_requested_at: Option<Timestamp>,
    /// Blocked by the provider: their bookings with the provider are refused.
    pub blocked: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A booking with the names an API view shows next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingDetails {
    pub booking: Booking,
    pub provider_slug: String,
    pub provider_name: String,
    pub timezone: ProviderTimeZone,
    pub service_name: String,
    pub client_name: String,
}

impl BookingDetails {
    /// A booking with the names its write read beside it.
    pub fn labelled(booking: Booking, labels: actors::calendar::BookingLabels) -> Self {
        BookingDetails {
            booking,
            provider_slug: labels.provider_slug,
            provider_name: labels.provider_name,
            timezone: labels.time_zone,
            service_name: labels.service_name,
            client_name: labels.client_name,
        }
    }
}

/// What deleting a client did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientDeletion {
    Deleted,
    NotFound,
}

/// A policy text as this deployment published it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyPublication {
    pub published_at: Timestamp,
    /// Some other text was published before this one.
    pub supersedes_another: bool,
}

/// A claimed outbox row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub content: OutboxContent,
    pub recipient_id: UserId,
    pub due_at: Timestamp,
    pub attempts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageOutcome {
    Sent,
    Skipped(String),
    Failed(String),
}

impl MessageOutcome {
    pub(crate) fn columns(&self) -> (&'static str, Option<&str>) {
        match self {
            MessageOutcome::Sent => ("sent", None),
            MessageOutcome::Skipped(why) => ("skipped", Some(why)),
            MessageOutcome::Failed(why) => ("failed", Some(why)),
        }
    }
}

/// Where the bot reaches a user.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BotRecipient {
    pub telegram_id: i64,
    pub language_code: Option<String>,
    /// Telegram refused (403) to deliver to this user before.
    pub blocked: bool,
    /// Their device's IANA zone, if the Mini App told us (`User::time_zone`).
    pub time_zone: Option<String>,
}

impl BotRecipient {
    /// Their device's zone (see [`device_zone`]).
    pub fn zone(&self) -> Option<ProviderTimeZone> {
        device_zone(self.time_zone.as_deref())
    }
}

impl User {
    /// Their device's zone (see [`device_zone`]).
    pub fn zone(&self) -> Option<ProviderTimeZone> {
        device_zone(self.time_zone.as_deref())
    }
}

/// A stored device zone, parsed, to show a user their own wall time beside
/// the provider's; `None` when unknown, or no longer in the tz database (then
/// they see the provider's time alone, as before the Mini App told us).
fn device_zone(name: Option<&str>) -> Option<ProviderTimeZone> {
    name.and_then(|name| ProviderTimeZone::parse(name).ok())
}

/// What an outbox message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboxContent {
    /// About a booking; worded at send time from the booking as it is then.
    Notice { kind: NoticeKind, booking_id: BookingId },
    /// Worded when it was decided, because what it tells may be gone by the
    /// time it is sent: a deleted provider's name, a removed client's visits.
    Text(String),
    /// The privacy policy changed to this version (policy §10).
    PolicyUpdated(String),
    /// A waitlist offer: its text, and the slot its button opens.
    Offer { text: String, provider_slug: String, service_id: ServiceId, start: Timestamp },
}

/// A message to write into the outbox now, outside any booking change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub recipient: UserId,
    pub text: String,
}

/// How a notice is stored: (`kind`, `event`) columns of the outbox; push:
/// the booking event, reminder: minutes before the visit.
pub(crate) fn outbox_kind(kind: &NoticeKind) -> (&'static str, String) {
    match kind {
        NoticeKind::Push(event) => ("push", event.as_str().to_owned()),
        NoticeKind::Reminder(offset) => ("reminder", offset.to_string()),
    }
}

/// An offer's content from its text and `event` (see [`OfferLetter::event`]).
fn offer_content(text: String, event: &str) -> Option<OutboxContent> {
    let mut parts = event.strip_prefix("offer:")?.split(':');
    let provider_slug = parts.next()?.to_owned();
    let service_id = ServiceId(parts.next()?.parse().ok()?);
    let start = Timestamp::from_second(parts.next()?.parse().ok()?).ok()?;
    Some(OutboxContent::Offer { text, provider_slug, service_id, start })
}

/// The content an outbox row's `kind`, `event`, `booking_id` and `body` name.
pub(crate) fn outbox_content(
    kind: &str,
    event: String,
    booking_id: Option<Uuid>,
    body: Option<String>,
) -> Result<OutboxContent, super::StoreError> {
    let notice =
        |kind: Option<NoticeKind>| Some(OutboxContent::Notice { kind: kind?, booking_id: BookingId(booking_id?) });
    match kind {
        "push" => notice(event.parse().map(NoticeKind::Push).ok()),
        "reminder" => notice(event.parse().map(NoticeKind::Reminder).ok()),
        "text" if event.starts_with("offer:") => body.and_then(|text| offer_content(text, &event)),
        "text" => body.map(OutboxContent::Text),
        "policy" => Some(OutboxContent::PolicyUpdated(event.clone())),
        _ => None,
    }
    .ok_or_else(|| super::StoreError::corrupt(format!("unknown outbox message {kind:?}/{event:?}")))
}

/// One line of the access log (privacy policy §2, technical data): what the
/// user sees of it. The User-Agent is kept only as the three things it tells.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessEntry {
    #[sqlx(try_from = "super::sql::Moment")]
    pub at: Timestamp,
    pub ip: String,
    /// desktop, smartphone, mobilephone, appliance, crawler, misc, unknown.
    pub device: String,
    pub browser: String,
    pub os: String,
    pub method: String,
    /// The route template (`/api/provider/clients/{id}`), never the path.
    pub route: String,
    #[sqlx(try_from = "i64")]
    pub status: u16,
}

/// An access-log line to write; `user_id` is `None` for a failed sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRecord {
    pub user_id: Option<UserId>,
    pub entry: AccessEntry,
}

/// What one retention purge removed, table by table, in the order purged.
/// A list rather than a field per table, so that a new kind of data with a
/// retention rule is one more entry, not a change to every reader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport(pub Vec<(&'static str, u64)>);

impl PurgeReport {
    /// Rows removed from `table` (0 when it was not purged).
    pub fn count(&self, table: &str) -> u64 {
        self.0.iter().filter(|(name, _)| *name == table).map(|(_, count)| count).sum()
    }
}

impl std::fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(table, count)| format!("{table}={count}")).collect();
        write!(f, "{}", parts.join(" "))
    }
}

/// A client waiting for a time to free up on one local date of one service,
/// within an optional window of local start times `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub user_id: UserId,
    pub provider_id: ProviderId,
    pub service_id: ServiceId,
    pub date: jiff::civil::Date,
    pub from: Option<actors::domain::TimeOfDay>,
    pub to: Option<actors::domain::TimeOfDay>,
    /// The free starts in the window when last looked at (see
    /// [`Waitlist::record_offer`]): an offer is made for a start not among them.
    pub free_known: Vec<Timestamp>,
    pub created_at: Timestamp,
}

/// A waitlist entry with the names the screens show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitlistDetails {
    pub entry: WaitlistEntry,
    pub provider_slug: String,
    pub provider_name: String,
    pub timezone: actors::domain::ProviderTimeZone,
    pub service_name: String,
    /// The waiting user's name as Telegram gave it (for the provider's view).
    pub client_name: String,
}

/// The outbox message of an offer: worded when decided (in the recipient's
/// language and zones), with what its button opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferLetter {
    pub recipient: UserId,
    pub text: String,
    pub provider_slug: String,
    pub service_id: ServiceId,
    pub start: Timestamp,
}

impl OfferLetter {
    /// How the offer's button is kept in the outbox's `event` column:
    /// `offer:<slug>:<service id>:<unix seconds>`.
    pub(crate) fn event(&self) -> String {
        format!("offer:{}:{}:{}", self.provider_slug, self.service_id.0, self.start.as_second())
    }
}
