//! Rows as the rest of the server sees them. Times are `jiff::Timestamp`;
//! each backend converts at its boundary.

use actors::domain::{BookingRules, ServiceTiming};
use jiff::Timestamp;
use uuid::Uuid;

/// What Telegram tells us about an account (privacy policy §2, "Account data").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramProfile {
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub profile: TelegramProfile,
    pub processing_restricted: bool,
    pub created_at: Timestamp,
}

/// Corrections a user may make to their account (policy §8). `Some(None)`
/// clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub language_code: Option<Option<String>>,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A provider profile as submitted (already validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderProfile {
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    pub contacts: Option<String>,
    /// A canonical IANA name (validated by `ProviderTimeZone::parse`).
    pub timezone: String,
    pub rules: BookingRules,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: Uuid,
    pub user_id: Uuid,
    pub profile: ProviderProfile,
}

/// Everything about a service a provider sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFields {
    pub name: String,
    pub timing: ServiceTiming,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub fields: ServiceFields,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct NewClient {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub contacts: Option<String>,
    pub notes: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BookingStatus {
    Pending,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Completed => "completed",
            BookingStatus::NoShow => "no_show",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewBooking {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub service_id: Uuid,
    pub client_id: Uuid,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// `[starts_at - buffer_before, ends_at + buffer_after)`.
    pub occupied_from: Timestamp,
    pub occupied_to: Timestamp,
    pub status: BookingStatus,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub created_at: Timestamp,
}

pub(crate) fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

pub(crate) fn timestamp(seconds: i64) -> Result<Timestamp, super::StoreError> {
    Timestamp::from_second(seconds).map_err(super::StoreError::corrupt)
}

pub(crate) fn service_timing(
    duration: i64,
    before: i64,
    after: i64,
) -> Result<ServiceTiming, super::StoreError> {
    let minutes = |v: i64| {
        u16::try_from(v)
            .map_err(|_| super::StoreError::corrupt(format!("minutes out of range: {v}")))
    };
    Ok(ServiceTiming {
        duration_min: minutes(duration)?,
        buffer_before_min: minutes(before)?,
        buffer_after_min: minutes(after)?,
    })
}
