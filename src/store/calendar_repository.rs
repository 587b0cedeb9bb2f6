//! The store seen through the calendar actors' port: `CalendarRepository`.

use std::sync::Arc;

use actors::domain::{BookingId, ProviderId, UserId};
use actors::{
    calendar::{BookingUpdate, CalendarData, CalendarRepository, NewBooking, RepositoryError, ServiceInfo},
    domain::Booking,
};
use async_trait::async_trait;
use jiff::Timestamp;

use super::{Store, StoreError};

pub struct StoreRepository(pub Arc<dyn Store>);

fn repository_error(error: StoreError) -> RepositoryError {
    match error {
        StoreError::BookingOverlap => RepositoryError::Overlap,
        StoreError::DuplicateIdempotencyKey => RepositoryError::DuplicateIdempotencyKey,
        StoreError::StaleSettings => RepositoryError::StaleSettings,
        other => RepositoryError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl CalendarRepository for StoreRepository {
    async fn load_calendar(
        &self,
        provider_id: ProviderId,
        since: Timestamp,
    ) -> Result<Option<CalendarData>, RepositoryError> {
        let store = &self.0;
        let Some(provider) = store.provider(provider_id).await.map_err(repository_error)? else {
            return Ok(None);
        };
        let services = store
            .services(provider_id, true)
            .await
            .map_err(repository_error)?
            .into_iter()
            .map(|s| (s.id, ServiceInfo { timing: s.fields.timing, active: s.active }))
            .collect();
        let schedule = store.schedule(provider_id).await.map_err(repository_error)?;
        let bookings = store.active_bookings(provider_id, since).await.map_err(repository_error)?;
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

    async fn settings_version(&self, provider_id: ProviderId) -> Result<Option<i64>, RepositoryError> {
        Ok(self.0.provider(provider_id).await.map_err(repository_error)?.map(|p| p.settings_version))
    }

    async fn booking(
        &self,
        provider_id: ProviderId,
        booking_id: BookingId,
    ) -> Result<Option<Booking>, RepositoryError> {
        Ok(self.0.booking(provider_id, booking_id).await.map_err(repository_error)?.map(|d| d.booking))
    }

    async fn booking_by_idempotency_key(&self, user_id: UserId, key: &str) -> Result<Option<Booking>, RepositoryError> {
        self.0.booking_by_idempotency_key(user_id, key).await.map_err(repository_error)
    }

    async fn create_booking(&self, booking: &NewBooking) -> Result<Booking, RepositoryError> {
        self.0.create_booking(booking).await.map_err(repository_error)
    }

    async fn update_booking(&self, update: &BookingUpdate) -> Result<Booking, RepositoryError> {
        self.0
            .update_booking(update)
            .await
            .map_err(repository_error)?
            .ok_or_else(|| RepositoryError::Unavailable("the booking vanished while it was being changed".into()))
    }
}
