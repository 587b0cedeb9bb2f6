//! The store as the rest of the node uses it: every committed write of a
//! provider's settings (profile and rules, services, hours, overrides, the
//! account's deletion) is announced, so that every node's calendar for that
//! provider reloads and every watcher gets fresh slots (DESIGN §8
//! "Consistency"). Announcing here, in the one path every settings write
//! takes, means no handler — HTTP, bot or a future one — can forget it.
//!
//! Everything else passes straight through. The calendars read through the
//! plain store (they never write settings).

use std::sync::Arc;

use actors::{
    calendar::{BookingUpdate, NewBooking},
    domain::{Booking, Schedule},
};
use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use super::*;

/// Told after a settings write committed (the bus implements it).
#[async_trait]
pub trait SettingsListener: Send + Sync + 'static {
    async fn settings_changed(&self, provider_id: Uuid);
}

pub struct AnnouncingStore {
    inner: Arc<dyn Store>,
    listener: Arc<dyn SettingsListener>,
}

impl AnnouncingStore {
    pub fn new(inner: Arc<dyn Store>, listener: Arc<dyn SettingsListener>) -> Self {
        Self { inner, listener }
    }

    async fn announce(&self, provider_id: Uuid) {
        self.listener.settings_changed(provider_id).await;
    }
}

#[async_trait]
impl Store for AnnouncingStore {
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn upsert_telegram_user(&self, profile: &TelegramProfile, now: Timestamp) -> StoreResult<User> {
        self.inner.upsert_telegram_user(profile, now).await
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.inner.user(id).await
    }

    async fn update_user(&self, id: Uuid, changes: &UserChanges, now: Timestamp) -> StoreResult<Option<User>> {
        self.inner.update_user(id, changes, now).await
    }

    async fn delete_account(
        &self,
        user_id: Uuid,
        placeholder_telegram_id: i64,
        now: Timestamp,
    ) -> StoreResult<Option<Uuid>> {
        let provider = self.inner.delete_account(user_id, placeholder_telegram_id, now).await?;
        if let Some(provider_id) = provider {
            self.announce(provider_id).await;
        }
        Ok(provider)
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        self.inner.create_session(session).await
    }

    async fn session_user(&self, token_hash: &[u8], now: Timestamp) -> StoreResult<Option<User>> {
        self.inner.session_user(token_hash, now).await
    }

    async fn upsert_provider(&self, user_id: Uuid, profile: &ProviderProfile, now: Timestamp) -> StoreResult<Provider> {
        let provider = self.inner.upsert_provider(user_id, profile, now).await?;
        self.announce(provider.id).await;
        Ok(provider)
    }

    async fn provider_of_user(&self, user_id: Uuid) -> StoreResult<Option<Provider>> {
        self.inner.provider_of_user(user_id).await
    }

    async fn provider_by_slug(&self, slug: &str) -> StoreResult<Option<Provider>> {
        self.inner.provider_by_slug(slug).await
    }

    async fn services(&self, provider_id: Uuid, include_retired: bool) -> StoreResult<Vec<Service>> {
        self.inner.services(provider_id, include_retired).await
    }

    async fn service(&self, provider_id: Uuid, service_id: Uuid) -> StoreResult<Option<Service>> {
        self.inner.service(provider_id, service_id).await
    }

    async fn insert_service(&self, provider_id: Uuid, fields: &ServiceFields, now: Timestamp) -> StoreResult<Service> {
        let service = self.inner.insert_service(provider_id, fields, now).await?;
        self.announce(provider_id).await;
        Ok(service)
    }

    async fn update_service(
        &self,
        provider_id: Uuid,
        service_id: Uuid,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Option<Service>> {
        let service = self.inner.update_service(provider_id, service_id, fields, now).await?;
        if service.is_some() {
            self.announce(provider_id).await;
        }
        Ok(service)
    }

    async fn retire_service(&self, provider_id: Uuid, service_id: Uuid, now: Timestamp) -> StoreResult<bool> {
        let retired = self.inner.retire_service(provider_id, service_id, now).await?;
        if retired {
            self.announce(provider_id).await;
        }
        Ok(retired)
    }

    async fn schedule(&self, provider_id: Uuid) -> StoreResult<Schedule> {
        self.inner.schedule(provider_id).await
    }

    async fn replace_schedule(&self, provider_id: Uuid, schedule: &Schedule) -> StoreResult<()> {
        self.inner.replace_schedule(provider_id, schedule).await?;
        self.announce(provider_id).await;
        Ok(())
    }

    async fn provider(&self, provider_id: Uuid) -> StoreResult<Option<Provider>> {
        self.inner.provider(provider_id).await
    }

    async fn active_bookings(&self, provider_id: Uuid, since: Timestamp) -> StoreResult<Vec<Booking>> {
        self.inner.active_bookings(provider_id, since).await
    }

    async fn booking(&self, provider_id: Uuid, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        self.inner.booking(provider_id, booking_id).await
    }

    async fn booking_of_client(&self, user_id: Uuid, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        self.inner.booking_of_client(user_id, booking_id).await
    }

    async fn booking_by_idempotency_key(&self, user_id: Uuid, key: &str) -> StoreResult<Option<Booking>> {
        self.inner.booking_by_idempotency_key(user_id, key).await
    }

    async fn create_booking(&self, booking: &NewBooking) -> StoreResult<Booking> {
        self.inner.create_booking(booking).await
    }

    async fn update_booking(&self, update: &BookingUpdate) -> StoreResult<Option<Booking>> {
        self.inner.update_booking(update).await
    }

    async fn client_bookings(&self, user_id: Uuid) -> StoreResult<Vec<BookingDetails>> {
        self.inner.client_bookings(user_id).await
    }

    async fn provider_bookings(
        &self,
        provider_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<BookingDetails>> {
        self.inner.provider_bookings(provider_id, from, to).await
    }

    async fn clients(&self, provider_id: Uuid, search: Option<&str>) -> StoreResult<Vec<Client>> {
        self.inner.clients(provider_id, search).await
    }

    async fn client(&self, provider_id: Uuid, client_id: Uuid) -> StoreResult<Option<Client>> {
        self.inner.client(provider_id, client_id).await
    }

    async fn client_history(&self, provider_id: Uuid, client_id: Uuid) -> StoreResult<Vec<BookingDetails>> {
        self.inner.client_history(provider_id, client_id).await
    }

    async fn insert_client(&self, client: &NewClient) -> StoreResult<Client> {
        self.inner.insert_client(client).await
    }

    async fn update_client(
        &self,
        provider_id: Uuid,
        client_id: Uuid,
        fields: &ClientFields,
        now: Timestamp,
    ) -> StoreResult<Option<Client>> {
        self.inner.update_client(provider_id, client_id, fields, now).await
    }

    async fn claim_due_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        self.inner.claim_due_messages(now, lease_until, limit).await
    }

    async fn finish_message(&self, id: Uuid, outcome: MessageOutcome, now: Timestamp) -> StoreResult<()> {
        self.inner.finish_message(id, outcome, now).await
    }

    async fn retry_message(&self, id: Uuid, due_at: Timestamp, error: &str) -> StoreResult<()> {
        self.inner.retry_message(id, due_at, error).await
    }

    async fn mark_bot_blocked(&self, user_id: Uuid, reason: &str, now: Timestamp) -> StoreResult<()> {
        self.inner.mark_bot_blocked(user_id, reason, now).await
    }

    async fn bot_recipient(&self, user_id: Uuid) -> StoreResult<Option<BotRecipient>> {
        self.inner.bot_recipient(user_id).await
    }

    async fn user_by_telegram_id(&self, telegram_id: i64) -> StoreResult<Option<User>> {
        self.inner.user_by_telegram_id(telegram_id).await
    }

    async fn booking_by_id(&self, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        self.inner.booking_by_id(booking_id).await
    }

    async fn delete_client(&self, provider_id: Uuid, client_id: Uuid, now: Timestamp) -> StoreResult<ClientDeletion> {
        self.inner.delete_client(provider_id, client_id, now).await
    }
}
