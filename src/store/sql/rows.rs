//! Row shapes, decoded alike from both databases (times as [`Moment`],
//! dates as [`Day`]), and their conversion to the store's model.

use actors::domain::{
    Booking, BookingId, BookingRules, BookingStatus, Busy, ClientId, DateOverride, LocalInterval, ProviderId,
    ProviderTimeZone, Schedule, ServiceId, ServiceTiming, Slug, TimeOfDay, UserId, WeeklyInterval,
};
use uuid::Uuid;

use super::encode::{Day, Moment};
use crate::store::{
    BookingDetails, Client, ClientFields, OutboxMessage, Provider, ProviderProfile, Service, ServiceFields, StoreError,
    WaitlistDetails, WaitlistEntry, model::outbox_content,
};

#[derive(sqlx::FromRow)]
pub(crate) struct ProviderRow {
    id: Uuid,
    user_id: Uuid,
    slug: String,
    display_name: String,
    business_name: Option<String>,
    contacts: Option<String>,
    timezone: String,
    slot_step_min: i64,
    min_notice_min: i64,
    horizon_days: i64,
    cancel_cutoff_min: i64,
    requires_confirmation: bool,
    reminder_offsets_min: String,
    confirm_within_min: Option<i64>,
    morning_digest: bool,
    settings_version: i64,
}

fn narrow<T: TryFrom<i64>>(field: &str, value: i64) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::corrupt(format!("{field} out of range: {value}")))
}

impl TryFrom<ProviderRow> for Provider {
    type Error = StoreError;
    fn try_from(row: ProviderRow) -> Result<Self, StoreError> {
        let reminder_offsets_min: Vec<u32> =
            serde_json::from_str(&row.reminder_offsets_min).map_err(StoreError::corrupt)?;
        Ok(Provider {
            id: ProviderId(row.id),
            user_id: UserId(row.user_id),
            settings_version: row.settings_version,
            profile: ProviderProfile {
                slug: Slug::stored(&row.slug, ProviderId(row.id)).map_err(StoreError::corrupt)?,
                display_name: row.display_name,
                business_name: row.business_name,
                contacts: row.contacts,
                timezone: ProviderTimeZone::parse(&row.timezone).map_err(StoreError::corrupt)?,
                rules: BookingRules {
                    slot_step_min: narrow("slot_step_min", row.slot_step_min)?,
                    min_notice_min: narrow("min_notice_min", row.min_notice_min)?,
                    horizon_days: narrow("horizon_days", row.horizon_days)?,
                    cancel_cutoff_min: narrow("cancel_cutoff_min", row.cancel_cutoff_min)?,
                    requires_confirmation: row.requires_confirmation,
                    reminder_offsets_min,
                    confirm_within_min: row
                        .confirm_within_min
                        .map(|within| narrow("confirm_within_min", within))
                        .transpose()?,
                    morning_digest: row.morning_digest,
                },
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    id: Uuid,
    provider_id: Uuid,
    name: String,
    duration_min: i64,
    price_minor: Option<i64>,
    currency: Option<String>,
    buffer_before_min: i64,
    buffer_after_min: i64,
    active: bool,
    capacity: i64,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;
    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        Ok(Service {
            id: ServiceId(row.id),
            provider_id: ProviderId(row.provider_id),
            fields: ServiceFields {
                name: row.name,
                timing: ServiceTiming {
                    duration_min: narrow("duration_min", row.duration_min)?,
                    buffer_before_min: narrow("buffer_before_min", row.buffer_before_min)?,
                    buffer_after_min: narrow("buffer_after_min", row.buffer_after_min)?,
                },
                price_minor: row.price_minor,
                currency: row.currency,
                capacity: narrow("capacity", row.capacity)?,
            },
            active: row.active,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WeeklyRow {
    weekday: i64,
    start_min: i64,
    end_min: i64,
}

/// One interval of a date override; a closed date has a single row with
/// `start_min`/`end_min` NULL (from the LEFT JOIN).
#[derive(sqlx::FromRow)]
pub(crate) struct OverrideRow {
    date: Day,
    start_min: Option<i64>,
    end_min: Option<i64>,
}

fn local_interval(start: i64, end: i64) -> Result<LocalInterval, StoreError> {
    let time = |m: i64| {
        u16::try_from(m)
            .ok()
            .and_then(TimeOfDay::from_minutes)
            .ok_or_else(|| StoreError::corrupt(format!("minute of day out of range: {m}")))
    };
    Ok(LocalInterval { start: time(start)?, end: time(end)? })
}

/// Rebuilds the validated schedule; rows come ordered by date.
pub(crate) fn schedule_from_rows(weekly: Vec<WeeklyRow>, overrides: Vec<OverrideRow>) -> Result<Schedule, StoreError> {
    let weekly = weekly
        .into_iter()
        .map(|row| {
            Ok(WeeklyInterval {
                weekday: narrow("weekday", row.weekday)?,
                interval: local_interval(row.start_min, row.end_min)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut dates: Vec<DateOverride> = Vec::new();
    for row in overrides {
        let date = row.date.0;
        if dates.last().is_none_or(|last| last.date != date) {
            dates.push(DateOverride { date, intervals: Vec::new() });
        }
        if let (Some(start), Some(end), Some(current)) = (row.start_min, row.end_min, dates.last_mut()) {
            current.intervals.push(local_interval(start, end)?);
        }
    }
    Schedule::new(&weekly, &dates).map_err(StoreError::corrupt)
}

pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct BookingRow {
    id: Uuid,
    provider_id: Uuid,
    service_id: Uuid,
    client_id: Uuid,
    client_user_id: Option<Uuid>,
    starts_at: Moment,
    ends_at: Moment,
    occupied_from: Moment,
    occupied_to: Moment,
    status: String,
    note: Option<String>,
    created_by: Option<Uuid>,
    idempotency_key: Option<String>,
    created_at: Moment,
    updated_at: Moment,
    provider_slug: String,
    provider_name: String,
    timezone: String,
    service_name: String,
    client_name: String,
    revision: i64,
    confirm_by: Option<Moment>,
    proposed_start: Option<Moment>,
    attendance_confirmed_at: Option<Moment>,
    seat: Option<i64>,
}

impl TryFrom<BookingRow> for BookingDetails {
    type Error = StoreError;
    fn try_from(row: BookingRow) -> Result<Self, StoreError> {
        Ok(BookingDetails {
            booking: Booking {
                id: BookingId(row.id),
                provider_id: ProviderId(row.provider_id),
                service_id: ServiceId(row.service_id),
                client_id: ClientId(row.client_id),
                client_user_id: row.client_user_id.map(UserId),
                start: row.starts_at.0,
                end: row.ends_at.0,
                occupied: Busy { start: row.occupied_from.0, end: row.occupied_to.0 },
                status: BookingStatus::parse(&row.status)
                    .ok_or_else(|| StoreError::corrupt(format!("unknown booking status {:?}", row.status)))?,
                note: row.note,
                created_by: row.created_by.map(UserId),
                idempotency_key: row.idempotency_key,
                created_at: row.created_at.0,
                updated_at: row.updated_at.0,
                revision: u32::try_from(row.revision).map_err(|_| StoreError::corrupt("negative booking revision"))?,
                confirm_by: row.confirm_by.map(|m| m.0),
                proposed_start: row.proposed_start.map(|m| m.0),
                attendance_confirmed_at: row.attendance_confirmed_at.map(|m| m.0),
                seat: row.seat.map(|seat| narrow("seat", seat)).transpose()?,
            },
            provider_slug: row.provider_slug,
            provider_name: row.provider_name,
            timezone: ProviderTimeZone::parse(&row.timezone).map_err(StoreError::corrupt)?,
            service_name: row.service_name,
            client_name: row.client_name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    id: Uuid,
    provider_id: Uuid,
    user_id: Option<Uuid>,
    name: String,
    contacts: Option<String>,
    notes: Option<String>,
    erasure_requested_at: Option<Moment>,
    blocked: bool,
    created_at: Moment,
    updated_at: Moment,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            id: ClientId(row.id),
            provider_id: ProviderId(row.provider_id),
            user_id: row.user_id.map(UserId),
            fields: ClientFields { name: row.name, contacts: row.contacts, notes: row.notes },
            erasure_requested_at: row.erasure_requested_at.map(|at| at.0),
            blocked: row.blocked,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: Uuid,
    kind: String,
    event: String,
    booking_id: Option<Uuid>,
    body: Option<String>,
    recipient_id: Uuid,
    due_at: Moment,
    attempts: i64,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(row: OutboxRow) -> Result<Self, StoreError> {
        Ok(OutboxMessage {
            id: row.id,
            content: outbox_content(&row.kind, row.event, row.booking_id, row.body)?,
            recipient_id: UserId(row.recipient_id),
            due_at: row.due_at.0,
            attempts: row.attempts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WaitlistRow {
    id: Uuid,
    user_id: Uuid,
    provider_id: Uuid,
    service_id: Uuid,
    local_date: Day,
    from_min: Option<i64>,
    to_min: Option<i64>,
    free_known: String,
    created_at: Moment,
    provider_slug: String,
    provider_name: String,
    timezone: String,
    service_name: String,
    client_name: String,
}

impl TryFrom<WaitlistRow> for WaitlistDetails {
    type Error = StoreError;
    fn try_from(row: WaitlistRow) -> Result<Self, StoreError> {
        let time = |field: &str, minutes: Option<i64>| -> Result<Option<TimeOfDay>, StoreError> {
            minutes
                .map(|m| {
                    narrow::<u16>(field, m)
                        .and_then(|m| TimeOfDay::from_minutes(m).ok_or_else(|| StoreError::corrupt(field)))
                })
                .transpose()
        };
        let free_known = row
            .free_known
            .split(',')
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<i64>()
                    .ok()
                    .and_then(|s| jiff::Timestamp::from_second(s).ok())
                    .ok_or_else(|| StoreError::corrupt("free_known"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WaitlistDetails {
            entry: WaitlistEntry {
                id: row.id,
                user_id: UserId(row.user_id),
                provider_id: ProviderId(row.provider_id),
                service_id: ServiceId(row.service_id),
                date: row.local_date.0,
                from: time("from_min", row.from_min)?,
                to: time("to_min", row.to_min)?,
                free_known,
                created_at: row.created_at.0,
            },
            provider_slug: row.provider_slug,
            provider_name: row.provider_name,
            timezone: ProviderTimeZone::parse(&row.timezone).map_err(StoreError::corrupt)?,
            service_name: row.service_name,
            client_name: row.client_name,
        })
    }
}
