//! The store seen through the calendar actors' port: `CalendarRepository`.

use std::sync::Arc;

use actors::calendar::{
    BookingUpdate, CalendarData, CalendarRepository, CreatedBooking, NewBooking, RepositoryError, ServiceInfo,
};
use actors::domain::{Booking, BookingId, ProviderId, UserId};
use async_trait::async_trait;
use jiff::Timestamp;

use super::{Store, StoreError};

pub struct StoreRepository(pub Arc<dyn Store>);

type Answer<T> = Result<T, RepositoryError>;

impl From<StoreError> for RepositoryError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BookingOverlap => RepositoryError::Overlap,
            StoreError::SeatTaken => RepositoryError::SeatTaken,
            StoreError::DuplicateIdempotencyKey => RepositoryError::DuplicateIdempotencyKey,
            StoreError::ClientBlocked => RepositoryError::ClientBlocked,
            StoreError::StaleSettings => RepositoryError::StaleSettings,
            other => RepositoryError::Unavailable(other.to_string()),
        }
    }
}

#[async_trait]
impl CalendarRepository for StoreRepository {
    async fn load_calendar(&self, provider_id: ProviderId, since: Timestamp) -> Answer<Option<CalendarData>> {
        let store = &self.0;
        let Some(provider) = store.provider(provider_id).await? else { return Ok(None) };
        let services = store.services(provider_id, true).await?.into_iter();
        let services = services
            .map(|s| (s.id, ServiceInfo { timing: s.fields.timing, active: s.active, capacity: s.fields.capacity }))
            .collect();
        let schedule = store.schedule(provider_id).await?;
        let bookings = store.active_bookings(provider_id, since).await?;
        // The provider row (and its version) is read first: a settings write
        // that lands between it and the reads below leaves this data newer
        // than its version claims, never older — the next write is refused
        // as stale and the calendar reloads, which is safe.
        Ok(Some(CalendarData {
            provider_id,
            settings_version: provider.settings_version,
            owner_user_id: provider.user_id,
            time_zone: provider.profile.timezone,
            rules: provider.profile.rules,
            schedule,
            services,
            bookings,
        }))
    }

    async fn settings_version(&self, provider_id: ProviderId) -> Answer<Option<i64>> {
        Ok(self.0.provider(provider_id).await?.map(|p| p.settings_version))
    }

    async fn booking(&self, provider_id: ProviderId, booking_id: BookingId) -> Answer<Option<Booking>> {
        Ok(self.0.booking(provider_id, booking_id).await?.map(|d| d.booking))
    }

    async fn booking_by_idempotency_key(&self, user_id: UserId, key: &str) -> Answer<Option<Booking>> {
        Ok(self.0.booking_by_idempotency_key(user_id, key).await?)
    }

    async fn create_booking(&self, booking: &NewBooking) -> Answer<CreatedBooking> {
        Ok(self.0.create_booking(booking).await?)
    }

    async fn update_booking(&self, update: &BookingUpdate) -> Answer<Booking> {
        // Gone or changed meanwhile: either way the calendar reads it again.
        self.0.update_booking(update).await?.ok_or(RepositoryError::Conflict)
    }
}
