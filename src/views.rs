//! Response bodies: what each resource looks like to API clients.

use actors::domain::{BookingId, ClientId, LocalInterval, ProviderId, ProviderTimeZone, Schedule, ServiceId, UserId};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::{AccessEntry, BookingDetails, Client, Provider, Service, User, WaitlistDetails};

#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = Uuid)]
    pub id: UserId,
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
    pub processing_restricted: bool,
    /// The privacy policy version last acknowledged (`POST /api/me/policy-ack`);
    /// when it differs from `GET /api/policy`'s, the Mini App shows "policy updated" once.
    pub policy_version_seen: Option<String>,
    /// The device's IANA zone as the Mini App last reported it (`PATCH /api/me`).
    pub time_zone: Option<String>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        let p = &user.profile;
        UserView {
            id: user.id,
            telegram_id: p.telegram_id,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            username: p.username.clone(),
            language_code: p.language_code.clone(),
            photo_url: p.photo_url.clone(),
            processing_restricted: user.processing_restricted,
            policy_version_seen: user.policy_version_seen.clone(),
            time_zone: user.time_zone.clone(),
        }
    }
}

/// The provider's own view of their profile and booking rules.
#[derive(Serialize, ToSchema)]
pub struct ProviderView {
    #[schema(value_type = Uuid)]
    pub id: ProviderId,
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    pub contacts: Option<String>,
    pub timezone: String,
    pub slot_step_min: u16,
    pub min_notice_min: u32,
    pub horizon_days: u16,
    pub cancel_cutoff_min: u32,
    pub requires_confirmation: bool,
    pub reminder_offsets_min: Vec<u32>,
    /// Pending requests not confirmed within this many minutes are declined
    /// (`null`: they wait).
    pub confirm_within_min: Option<u32>,
    pub morning_digest: bool,
}

impl From<&Provider> for ProviderView {
    fn from(provider: &Provider) -> Self {
        let p = &provider.profile;
        ProviderView {
            id: provider.id,
            slug: p.slug.as_str().to_owned(),
            display_name: p.display_name.clone(),
            business_name: p.business_name.clone(),
            contacts: p.contacts.clone(),
            timezone: p.timezone.name().to_owned(),
            slot_step_min: p.rules.slot_step_min,
            min_notice_min: p.rules.min_notice_min,
            horizon_days: p.rules.horizon_days,
            cancel_cutoff_min: p.rules.cancel_cutoff_min,
            requires_confirmation: p.rules.requires_confirmation,
            reminder_offsets_min: p.rules.reminder_offsets_min.clone(),
            confirm_within_min: p.rules.confirm_within_min,
            morning_digest: p.rules.morning_digest,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    #[schema(value_type = Uuid)]
    pub id: ServiceId,
    pub name: String,
    pub duration_min: u16,
    /// Price in the currency's minor unit (cents, kopecks).
    pub price_minor: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    pub buffer_before_min: u16,
    pub buffer_after_min: u16,
    /// Clients one start takes; above 1 the service is a class.
    pub capacity: u16,
    /// Retired services are no longer offered.
    pub active: bool,
}

impl From<&Service> for ServiceView {
    fn from(service: &Service) -> Self {
        let f = &service.fields;
        ServiceView {
            id: service.id,
            name: f.name.clone(),
            duration_min: f.timing.duration_min,
            price_minor: f.price_minor,
            currency: f.currency.clone(),
            buffer_before_min: f.timing.buffer_before_min,
            buffer_after_min: f.timing.buffer_after_min,
            capacity: f.capacity,
            active: service.active,
        }
    }
}

/// What clients see of a service: no buffers, no retired ones.
#[derive(Serialize, ToSchema)]
pub struct PublicServiceView {
    #[schema(value_type = Uuid)]
    pub id: ServiceId,
    pub name: String,
    pub duration_min: u16,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    /// Clients one start takes; above 1 the service is a class.
    pub capacity: u16,
}

impl From<&Service> for PublicServiceView {
    fn from(service: &Service) -> Self {
        let ServiceView { id, name, duration_min, price_minor, currency, capacity, .. } = ServiceView::from(service);
        PublicServiceView { id, name, duration_min, price_minor, currency, capacity }
    }
}

/// A provider's public page: what any client may see.
#[derive(Serialize, ToSchema)]
pub struct PublicProviderView {
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    pub contacts: Option<String>,
    pub timezone: String,
    pub min_notice_min: u32,
    pub horizon_days: u16,
    pub cancel_cutoff_min: u32,
    pub requires_confirmation: bool,
    pub services: Vec<PublicServiceView>,
}

#[derive(Serialize, ToSchema)]
pub struct IntervalView {
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "18:00")]
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct WeeklyView {
    /// ISO weekday, Monday = 1.
    pub weekday: u8,
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "18:00")]
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct OverrideView {
    #[schema(example = "2027-12-31")]
    pub date: String,
    pub closed: bool,
    pub intervals: Vec<IntervalView>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    pub weekly: Vec<WeeklyView>,
    pub overrides: Vec<OverrideView>,
}

impl From<&Schedule> for ScheduleView {
    fn from(schedule: &Schedule) -> Self {
        let interval = |i: &LocalInterval| IntervalView { start: i.start.to_string(), end: i.end.to_string() };
        let weekly = schedule.weekly().map(|w| {
            let IntervalView { start, end } = interval(&w.interval);
            WeeklyView { weekday: w.weekday, start, end }
        });
        let overrides = schedule.overrides().map(|o| OverrideView {
            date: o.date.to_string(),
            closed: o.is_closed(),
            intervals: o.intervals.iter().map(interval).collect(),
        });
        ScheduleView { weekly: weekly.collect(), overrides: overrides.collect() }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SlotView {
    /// RFC 3339 with the provider's offset, e.g. `2027-03-28T09:00:00+02:00`.
    pub start: String,
    pub end: String,
    /// A class's free seats at this start; `0`: full (listed so watchers
    /// see it fill up, but not bookable). Absent for one-to-one services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats_left: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotsView {
    /// The provider's slug.
    pub provider: String,
    #[schema(value_type = Uuid)]
    pub service: ServiceId,
    pub timezone: String,
    pub from: String,
    pub to: String,
    pub slots: Vec<SlotView>,
}

impl SlotView {
    pub fn new(time_zone: &ProviderTimeZone, slot: &actors::domain::Slot) -> Self {
        SlotView { start: time_zone.format(slot.start), end: time_zone.format(slot.end), seats_left: slot.seats_left }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NamedRef {
    pub id: Uuid,
    pub name: String,
}

/// A booking, with times in the provider's time zone.
#[derive(Serialize, ToSchema)]
pub struct BookingView {
    #[schema(value_type = Uuid)]
    pub id: BookingId,
    /// The provider's slug.
    pub provider: String,
    pub provider_name: String,
    pub timezone: String,
    pub service: NamedRef,
    pub client: NamedRef,
    /// RFC 3339 with the provider's offset.
    pub start: String,
    pub end: String,
    /// `pending`, `confirmed`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    /// A pending request not confirmed by then (RFC 3339 with the
    /// provider's offset) is declined by the system.
    pub confirm_by: Option<String>,
    /// Another start the provider proposed for this request (RFC 3339 with
    /// the provider's offset): the client accepts or declines it.
    pub proposed_start: Option<String>,
    /// `confirmed` once the client said "I'm coming", else `unknown`.
    pub attendance: String,
    /// Bumped by every change: of two copies of a booking, the higher is the later.
    pub revision: u32,
    /// The class seat held (1..capacity); `null` for a one-to-one service.
    pub seat: Option<u16>,
    pub note: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&BookingDetails> for BookingView {
    fn from(details: &BookingDetails) -> Self {
        let b = &details.booking;
        BookingView {
            id: b.id,
            provider: details.provider_slug.clone(),
            provider_name: details.provider_name.clone(),
            timezone: details.timezone.name().to_owned(),
            service: NamedRef { id: b.service_id.0, name: details.service_name.clone() },
            client: NamedRef { id: b.client_id.0, name: details.client_name.clone() },
            start: details.timezone.format(b.start),
            end: details.timezone.format(b.end),
            status: b.status.as_str().to_owned(),
            confirm_by: b.confirm_by.map(|by| details.timezone.format(by)),
            proposed_start: b.proposed_start.map(|start| details.timezone.format(start)),
            attendance: if b.attendance_confirmed_at.is_some() { "confirmed" } else { "unknown" }.to_owned(),
            revision: b.revision,
            seat: b.seat,
            note: b.note.clone(),
            created_at: b.created_at.to_string(),
            updated_at: b.updated_at.to_string(),
        }
    }
}

/// An entry of the provider's client book.
#[derive(Serialize, ToSchema)]
pub struct ClientView {
    #[schema(value_type = Uuid)]
    pub id: ClientId,
    pub name: String,
    pub contacts: Option<String>,
    pub notes: Option<String>,
    /// Whether the client is a Telegram user who booked through the app.
    pub linked_to_telegram: bool,
    /// When the client asked to have this card deleted (policy §6), if they did.
    pub erasure_requested_at: Option<String>,
    /// Blocked by the provider: bookings with them are refused (403 `client-blocked`).
    pub blocked: bool,
    pub created_at: String,
}

impl From<&Client> for ClientView {
    fn from(client: &Client) -> Self {
        ClientView {
            id: client.id,
            name: client.fields.name.clone(),
            contacts: client.fields.contacts.clone(),
            notes: client.fields.notes.clone(),
            linked_to_telegram: client.user_id.is_some(),
            erasure_requested_at: client.erasure_requested_at.map(|at| at.to_string()),
            blocked: client.blocked,
            created_at: client.created_at.to_string(),
        }
    }
}

/// One client with their visit history, newest first.
#[derive(Serialize, ToSchema)]
pub struct ClientCardView {
    #[serde(flatten)]
    pub client: ClientView,
    /// Every booking with this provider, newest first (the visit history;
    /// `visits` since DESIGN §7, so the tallies below have their own names).
    pub visits: Vec<BookingView>,
    /// Visits that took place (`completed`).
    pub visit_count: usize,
    /// Visits the client did not come to (`no_show`).
    pub no_shows: usize,
    /// The start of the latest completed visit, RFC 3339 with the provider's offset.
    pub last_visit: Option<String>,
}

impl ClientCardView {
    /// The card with its tallies, from the history (newest first or not).
    pub fn new(client: &crate::store::Client, history: &[BookingDetails]) -> Self {
        use actors::domain::BookingStatus::{Completed, NoShow};
        let count = |status| history.iter().filter(|d| d.booking.status == status).count();
        let last = history.iter().filter(|d| d.booking.status == Completed).max_by_key(|d| d.booking.start);
        ClientCardView {
            client: ClientView::from(client),
            visits: history.iter().map(BookingView::from).collect(),
            visit_count: count(Completed),
            no_shows: count(NoShow),
            last_visit: last.map(|d| BookingView::from(d).start),
        }
    }
}

/// A message of a support conversation (policy §8, §11), in the export.
#[derive(Serialize, ToSchema)]
pub struct SupportMessageView {
    /// RFC 3339, UTC.
    pub at: String,
    /// `in`: you wrote it to support; `out`: support's answer to you.
    pub direction: String,
    pub text: String,
}

impl From<&crate::store::SupportMessage> for SupportMessageView {
    fn from(message: &crate::store::SupportMessage) -> Self {
        SupportMessageView {
            at: message.created_at.to_string(),
            direction: message.direction.as_str().to_owned(),
            text: message.text.clone(),
        }
    }
}

/// One line of my access log.
#[derive(Serialize, ToSchema)]
pub struct AccessEntryView {
    /// RFC 3339, UTC.
    pub at: String,
    pub ip: String,
    /// desktop, smartphone, mobilephone, appliance, crawler, misc or unknown.
    pub device: String,
    pub browser: String,
    pub os: String,
    pub method: String,
    /// The route template, e.g. `/api/provider/clients/{id}`.
    pub route: String,
    pub status: u16,
}

impl From<&AccessEntry> for AccessEntryView {
    fn from(entry: &AccessEntry) -> Self {
        AccessEntryView {
            at: entry.at.to_string(),
            ip: entry.ip.clone(),
            device: entry.device.clone(),
            browser: entry.browser.clone(),
            os: entry.os.clone(),
            method: entry.method.clone(),
            route: entry.route.clone(),
            status: entry.status,
        }
    }
}

/// A waitlist entry, for the client who waits and for the provider.
#[derive(Serialize, ToSchema)]
pub struct WaitlistView {
    pub id: Uuid,
    /// The provider's slug.
    pub provider: String,
    pub provider_name: String,
    #[schema(value_type = Uuid)]
    pub service: ServiceId,
    pub service_name: String,
    pub date: String,
    /// The window of local start times `[from, to)`; `null`: open.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Shown to the provider only: who waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub created_at: String,
}

impl WaitlistView {
    pub fn new(details: &WaitlistDetails, for_provider: bool) -> Self {
        let entry = &details.entry;
        WaitlistView {
            id: entry.id,
            provider: details.provider_slug.clone(),
            provider_name: details.provider_name.clone(),
            service: entry.service_id,
            service_name: details.service_name.clone(),
            date: entry.date.to_string(),
            from: entry.from.map(|t| t.to_string()),
            to: entry.to.map(|t| t.to_string()),
            client_name: for_provider.then(|| details.client_name.clone()),
            created_at: entry.created_at.to_string(),
        }
    }
}
