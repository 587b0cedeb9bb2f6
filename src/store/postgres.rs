//! The cluster backend: PostgreSQL, shared by every node. Times live in
//! `timestamptz` columns and cross the boundary as Unix seconds
//! (`to_timestamp($n)` in, `extract(epoch …)::int8` out) so both backends share
//! their row types.

use std::{str::FromStr, time::Duration};

use actors::{
    calendar::{BookingClient, BookingUpdate, NewBooking, notices::Notice},
    domain::{Booking, Schedule},
};
use anyhow::Context;
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use super::model::{outbox_kind, seconds};
use super::rows::{
    BookingRow, ClientRow, OutboxRow, OverrideRow, ProviderRow, RecipientRow, ServiceRow, UserRow, WeeklyRow,
    convert_all, reminder_offsets_json, schedule_from_rows,
};
use super::{
    BookingDetails, BotRecipient, Client, ClientDeletion, ClientFields, MessageOutcome, NewClient, NewSession,
    OutboxMessage, Provider, ProviderProfile, Service, ServiceFields, Store, StoreError, StoreResult, TelegramProfile,
    User, UserChanges,
};

macro_rules! user_columns {
    () => {
        "id, telegram_id, first_name, last_name, username, language_code, photo_url, \
         processing_restricted, extract(epoch from created_at)::int8 AS created_at"
    };
}
macro_rules! provider_columns {
    () => {
        "id, user_id, slug, display_name, business_name, contacts, timezone, slot_step_min, \
         min_notice_min, horizon_days, cancel_cutoff_min, requires_confirmation, reminder_offsets_min, \
         settings_version"
    };
}
macro_rules! client_columns {
    () => {
        "id, provider_id, user_id, name, contacts, notes, extract(epoch from created_at)::int8 AS created_at, \
         extract(epoch from updated_at)::int8 AS updated_at"
    };
}
macro_rules! booking_select {
    () => {
        "SELECT b.id, b.provider_id, b.service_id, b.client_id, c.user_id AS client_user_id, \
         extract(epoch from b.starts_at)::int8 AS starts_at, extract(epoch from b.ends_at)::int8 AS ends_at, \
         extract(epoch from b.occupied_from)::int8 AS occupied_from, \
         extract(epoch from b.occupied_to)::int8 AS occupied_to, b.status, b.note, b.created_by, \
         b.idempotency_key, extract(epoch from b.created_at)::int8 AS created_at, \
         extract(epoch from b.updated_at)::int8 AS updated_at, p.slug AS provider_slug, \
         p.display_name AS provider_name, p.timezone, s.name AS service_name, c.name AS client_name \
         FROM bookings b JOIN clients c ON c.id = b.client_id JOIN providers p ON p.id = b.provider_id \
         JOIN services s ON s.id = b.service_id"
    };
}
macro_rules! service_columns {
    () => {
        "id, provider_id, name, duration_min, price_minor, currency, buffer_before_min, \
         buffer_after_min, active"
    };
}

#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

/// How long a request waits for a working connection before the store
/// reports the database unavailable. Long enough for a busy pool under load
/// (the 500-racer storm waits tens of milliseconds), short enough to answer
/// well inside a client's patience when PostgreSQL is cut off.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

impl PostgresStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a valid PostgreSQL URL"))?;
        // Fail fast when the database is unreachable: a request then gets
        // 503 + Retry-After within about ACQUIRE_TIMEOUT instead of hanging.
        // The timeout covers the whole acquire, including the liveness ping of
        // an idle connection (`test_before_acquire`, on by default) — on a cut
        // link that ping would otherwise wait for TCP to give up (minutes),
        // and a connection whose ping timed out is dropped, not reused.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {url:?}"))?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.context("applying PostgreSQL migrations")?;
        Ok(Self { pool })
    }
}

/// SQLSTATE 23P01 `exclusion_violation` is the `bookings_no_overlap`
/// constraint; a unique violation on insert is the (created_by,
/// idempotency_key) pair.
fn map_write_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01") => StoreError::BookingOverlap,
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::DuplicateIdempotencyKey,
        _ => StoreError::Database(error),
    }
}

/// Fails with [`StoreError::StaleSettings`] unless the provider's settings
/// are still at `decided_with`. `FOR SHARE` holds the provider row until the
/// booking commits: a settings write (its trigger updates that row) waits for
/// it, or commits first and this read — waiting for it under READ COMMITTED —
/// sees the new version. Bookings share the lock, so they never wait on
/// each other here.
async fn check_settings_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    provider_id: Uuid,
    decided_with: i64,
) -> StoreResult<()> {
    let current: Option<i64> = sqlx::query_scalar("SELECT settings_version FROM providers WHERE id = $1 FOR SHARE")
        .bind(provider_id)
        .fetch_optional(&mut **tx)
        .await?;
    match current {
        Some(version) if version == decided_with => Ok(()),
        _ => Err(StoreError::StaleSettings),
    }
}

/// Writes outbox rows inside the caller's transaction.
async fn insert_notices(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    booking_id: Uuid,
    notices: &[Notice],
    now: Timestamp,
) -> StoreResult<()> {
    for notice in notices {
        let (kind, event) = outbox_kind(&notice.kind);
        sqlx::query(
            "INSERT INTO outbox (id, kind, event, booking_id, recipient_id, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7))",
        )
        .bind(Uuid::now_v7())
        .bind(kind)
        .bind(event)
        .bind(booking_id)
        .bind(notice.recipient)
        .bind(seconds(notice.due_at))
        .bind(seconds(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_telegram_user(&self, profile: &TelegramProfile, now: Timestamp) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(
            "INSERT INTO users (id, telegram_id, first_name, last_name, username, language_code, photo_url, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($8)) \
             ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name, \
             last_name = excluded.last_name, username = excluded.username, \
             language_code = excluded.language_code, photo_url = excluded.photo_url, \
             updated_at = excluded.updated_at RETURNING ",
            user_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(profile.telegram_id)
        .bind(&profile.first_name)
        .bind(&profile.last_name)
        .bind(&profile.username)
        .bind(&profile.language_code)
        .bind(&profile.photo_url)
        .bind(seconds(now))
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND deleted_at IS NULL"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(User::try_from).transpose()
    }

    async fn update_user(&self, id: Uuid, changes: &UserChanges, now: Timestamp) -> StoreResult<Option<User>> {
        // `CASE WHEN $flag` keeps a column unless the change names it, so one
        // statement serves every combination of fields.
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "UPDATE users SET first_name = COALESCE($2, first_name), \
             last_name = CASE WHEN $3 THEN $4 ELSE last_name END, \
             language_code = CASE WHEN $5 THEN $6 ELSE language_code END, updated_at = to_timestamp($7), \
             processing_restricted = COALESCE($8, processing_restricted) \
             WHERE id = $1 AND deleted_at IS NULL RETURNING ",
            user_columns!()
        ))
        .bind(id)
        .bind(&changes.first_name)
        .bind(changes.last_name.is_some())
        .bind(changes.last_name.clone().flatten())
        .bind(changes.language_code.is_some())
        .bind(changes.language_code.clone().flatten())
        .bind(seconds(now))
        .bind(changes.processing_restricted)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    async fn delete_account(
        &self,
        user_id: Uuid,
        placeholder_telegram_id: i64,
        now: Timestamp,
    ) -> StoreResult<Option<Uuid>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET telegram_id = $2, first_name = 'Deleted user', last_name = NULL, username = NULL, \
             language_code = NULL, photo_url = NULL, bot_blocked_reason = NULL, deleted_at = to_timestamp($3), \
             updated_at = to_timestamp($3) WHERE id = $1",
        )
        .bind(user_id)
        .bind(placeholder_telegram_id)
        .bind(seconds(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE clients SET user_id = NULL WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE outbox SET state = 'skipped', last_error = 'account deleted' \
             WHERE recipient_id = $1 AND state = 'pending'",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let provider: Option<Uuid> = sqlx::query_scalar("SELECT id FROM providers WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(provider_id) = provider {
            sqlx::query(
                "UPDATE providers SET slug = $2, display_name = 'Deleted provider', business_name = NULL, \
                 contacts = NULL, updated_at = to_timestamp($3) WHERE id = $1",
            )
            .bind(provider_id)
            .bind(format!("deleted-{}", provider_id.simple()))
            .bind(seconds(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE clients SET name = 'Client', contacts = NULL, notes = NULL, updated_at = to_timestamp($2) \
                 WHERE provider_id = $1",
            )
            .bind(provider_id)
            .bind(seconds(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE bookings SET status = 'cancelled', updated_at = to_timestamp($2) \
                 WHERE provider_id = $1 AND status IN ('pending', 'confirmed') AND ends_at > to_timestamp($2)",
            )
            .bind(provider_id)
            .bind(seconds(now))
            .execute(&mut *tx)
            .await?;
            for statement in [
                "UPDATE bookings SET note = NULL WHERE provider_id = $1",
                "DELETE FROM weekly_hours WHERE provider_id = $1",
                "DELETE FROM date_overrides WHERE provider_id = $1",
                "UPDATE services SET active = FALSE WHERE provider_id = $1",
                "UPDATE outbox SET state = 'skipped', last_error = 'provider account deleted' \
                 WHERE state = 'pending' AND booking_id IN (SELECT id FROM bookings WHERE provider_id = $1)",
            ] {
                sqlx::query(statement).bind(provider_id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(provider)
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, to_timestamp($3), to_timestamp($4))",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(seconds(session.created_at))
        .bind(seconds(session.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &[u8], now: Timestamp) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.telegram_id, u.first_name, u.last_name, u.username, u.language_code, u.photo_url, \
             u.processing_restricted, extract(epoch from u.created_at)::int8 AS created_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > to_timestamp($2) AND u.deleted_at IS NULL",
        )
        .bind(token_hash)
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    async fn upsert_provider(&self, user_id: Uuid, profile: &ProviderProfile, now: Timestamp) -> StoreResult<Provider> {
        let rules = &profile.rules;
        let result: Result<ProviderRow, sqlx::Error> = sqlx::query_as(concat!(
            "INSERT INTO providers (id, user_id, slug, display_name, business_name, contacts, timezone, \
             slot_step_min, min_notice_min, horizon_days, cancel_cutoff_min, requires_confirmation, \
             reminder_offsets_min, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_timestamp($14), to_timestamp($14)) \
             ON CONFLICT (user_id) DO UPDATE SET slug = excluded.slug, display_name = excluded.display_name, \
             business_name = excluded.business_name, contacts = excluded.contacts, timezone = excluded.timezone, \
             slot_step_min = excluded.slot_step_min, min_notice_min = excluded.min_notice_min, \
             horizon_days = excluded.horizon_days, cancel_cutoff_min = excluded.cancel_cutoff_min, \
             requires_confirmation = excluded.requires_confirmation, \
             reminder_offsets_min = excluded.reminder_offsets_min, updated_at = excluded.updated_at, \
             settings_version = providers.settings_version + 1 RETURNING ",
            provider_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(profile.slug.as_str())
        .bind(&profile.display_name)
        .bind(&profile.business_name)
        .bind(&profile.contacts)
        .bind(profile.timezone.name())
        .bind(i64::from(rules.slot_step_min))
        .bind(i64::from(rules.min_notice_min))
        .bind(i64::from(rules.horizon_days))
        .bind(i64::from(rules.cancel_cutoff_min))
        .bind(rules.requires_confirmation)
        .bind(reminder_offsets_json(rules))
        .bind(seconds(now))
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => row.try_into(),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(StoreError::SlugTaken),
            Err(other) => Err(other.into()),
        }
    }

    async fn provider_of_user(&self, user_id: Uuid) -> StoreResult<Option<Provider>> {
        let row: Option<ProviderRow> =
            sqlx::query_as(concat!("SELECT ", provider_columns!(), " FROM providers WHERE user_id = $1"))
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Provider::try_from).transpose()
    }

    async fn provider_by_slug(&self, slug: &str) -> StoreResult<Option<Provider>> {
        let row: Option<ProviderRow> =
            sqlx::query_as(concat!("SELECT ", provider_columns!(), " FROM providers WHERE slug = $1"))
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Provider::try_from).transpose()
    }

    async fn services(&self, provider_id: Uuid, include_retired: bool) -> StoreResult<Vec<Service>> {
        let rows: Vec<ServiceRow> = sqlx::query_as(concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE provider_id = $1 AND (active OR $2) ORDER BY created_at, id"
        ))
        .bind(provider_id)
        .bind(include_retired)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn service(&self, provider_id: Uuid, service_id: Uuid) -> StoreResult<Option<Service>> {
        let row: Option<ServiceRow> =
            sqlx::query_as(concat!("SELECT ", service_columns!(), " FROM services WHERE provider_id = $1 AND id = $2"))
                .bind(provider_id)
                .bind(service_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Service::try_from).transpose()
    }

    async fn insert_service(&self, provider_id: Uuid, fields: &ServiceFields, now: Timestamp) -> StoreResult<Service> {
        let row: ServiceRow = sqlx::query_as(concat!(
            "INSERT INTO services (id, provider_id, name, duration_min, price_minor, currency, buffer_before_min, \
             buffer_after_min, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, to_timestamp($9), to_timestamp($9)) \
             RETURNING ",
            service_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(provider_id)
        .bind(&fields.name)
        .bind(i64::from(fields.timing.duration_min))
        .bind(fields.price_minor)
        .bind(&fields.currency)
        .bind(i64::from(fields.timing.buffer_before_min))
        .bind(i64::from(fields.timing.buffer_after_min))
        .bind(seconds(now))
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    async fn update_service(
        &self,
        provider_id: Uuid,
        service_id: Uuid,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Option<Service>> {
        let row: Option<ServiceRow> = sqlx::query_as(concat!(
            "UPDATE services SET name = $3, duration_min = $4, price_minor = $5, currency = $6, \
             buffer_before_min = $7, buffer_after_min = $8, updated_at = to_timestamp($9) \
             WHERE provider_id = $1 AND id = $2 RETURNING ",
            service_columns!()
        ))
        .bind(provider_id)
        .bind(service_id)
        .bind(&fields.name)
        .bind(i64::from(fields.timing.duration_min))
        .bind(fields.price_minor)
        .bind(&fields.currency)
        .bind(i64::from(fields.timing.buffer_before_min))
        .bind(i64::from(fields.timing.buffer_after_min))
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(Service::try_from).transpose()
    }

    async fn retire_service(&self, provider_id: Uuid, service_id: Uuid, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE services SET active = false, updated_at = to_timestamp($3) WHERE provider_id = $1 AND id = $2",
        )
        .bind(provider_id)
        .bind(service_id)
        .bind(seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn schedule(&self, provider_id: Uuid) -> StoreResult<Schedule> {
        let weekly: Vec<WeeklyRow> = sqlx::query_as(
            "SELECT weekday, start_min, end_min FROM weekly_hours WHERE provider_id = $1 ORDER BY weekday, start_min",
        )
        .bind(provider_id)
        .fetch_all(&self.pool)
        .await?;
        let overrides: Vec<OverrideRow> = sqlx::query_as(
            "SELECT d.date::text AS date, i.start_min, i.end_min FROM date_overrides d \
             LEFT JOIN override_intervals i ON i.provider_id = d.provider_id AND i.date = d.date \
             WHERE d.provider_id = $1 ORDER BY d.date, i.start_min",
        )
        .bind(provider_id)
        .fetch_all(&self.pool)
        .await?;
        schedule_from_rows(weekly, overrides)
    }

    async fn replace_schedule(&self, provider_id: Uuid, schedule: &Schedule) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM weekly_hours WHERE provider_id = $1").bind(provider_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM date_overrides WHERE provider_id = $1").bind(provider_id).execute(&mut *tx).await?;
        for item in schedule.weekly() {
            sqlx::query("INSERT INTO weekly_hours (provider_id, weekday, start_min, end_min) VALUES ($1, $2, $3, $4)")
                .bind(provider_id)
                .bind(i64::from(item.weekday))
                .bind(i64::from(item.interval.start.minutes()))
                .bind(i64::from(item.interval.end.minutes()))
                .execute(&mut *tx)
                .await?;
        }
        for day in schedule.overrides() {
            let date = day.date.to_string();
            sqlx::query("INSERT INTO date_overrides (provider_id, date) VALUES ($1, $2::date)")
                .bind(provider_id)
                .bind(&date)
                .execute(&mut *tx)
                .await?;
            for interval in &day.intervals {
                sqlx::query(
                    "INSERT INTO override_intervals (provider_id, date, start_min, end_min) VALUES ($1, $2::date, $3, $4)",
                )
                .bind(provider_id)
                .bind(&date)
                .bind(i64::from(interval.start.minutes()))
                .bind(i64::from(interval.end.minutes()))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn provider(&self, provider_id: Uuid) -> StoreResult<Option<Provider>> {
        let row: Option<ProviderRow> =
            sqlx::query_as(concat!("SELECT ", provider_columns!(), " FROM providers WHERE id = $1"))
                .bind(provider_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Provider::try_from).transpose()
    }

    async fn active_bookings(&self, provider_id: Uuid, since: Timestamp) -> StoreResult<Vec<Booking>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.status IN ('pending', 'confirmed') AND b.occupied_to > to_timestamp($2) \
             ORDER BY b.occupied_from"
        ))
        .bind(provider_id)
        .bind(seconds(since))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn booking(&self, provider_id: Uuid, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE b.provider_id = $1 AND b.id = $2"))
                .bind(provider_id)
                .bind(booking_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(BookingDetails::try_from).transpose()
    }

    async fn booking_of_client(&self, user_id: Uuid, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> = sqlx::query_as(concat!(booking_select!(), " WHERE c.user_id = $1 AND b.id = $2"))
            .bind(user_id)
            .bind(booking_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(BookingDetails::try_from).transpose()
    }

    async fn booking_by_idempotency_key(&self, user_id: Uuid, key: &str) -> StoreResult<Option<Booking>> {
        let row: Option<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE b.created_by = $1 AND b.idempotency_key = $2"))
                .bind(user_id)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Booking::try_from).transpose()
    }

    async fn create_booking(&self, booking: &NewBooking) -> StoreResult<Booking> {
        let mut tx = self.pool.begin().await?;
        check_settings_version(&mut tx, booking.provider_id, booking.settings_version).await?;
        let (client_id, client_user_id) = match &booking.client {
            BookingClient::Existing(id) => (*id, None),
            BookingClient::User { user_id, name } => {
                sqlx::query(
                    "INSERT INTO clients (id, provider_id, user_id, name, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($5)) ON CONFLICT (provider_id, user_id) DO NOTHING",
                )
                .bind(Uuid::now_v7())
                .bind(booking.provider_id)
                .bind(user_id)
                .bind(name)
                .bind(seconds(booking.now))
                .execute(&mut *tx)
                .await?;
                let id: Uuid = sqlx::query_scalar("SELECT id FROM clients WHERE provider_id = $1 AND user_id = $2")
                    .bind(booking.provider_id)
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                (id, Some(*user_id))
            }
        };
        sqlx::query(
            "INSERT INTO bookings (id, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, \
             occupied_to, status, note, created_by, updated_by, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), to_timestamp($7), to_timestamp($8), \
             $9, $10, $11, $11, $12, to_timestamp($13), to_timestamp($13))",
        )
        .bind(booking.id)
        .bind(booking.provider_id)
        .bind(booking.service_id)
        .bind(client_id)
        .bind(seconds(booking.start))
        .bind(seconds(booking.end))
        .bind(seconds(booking.occupied.start))
        .bind(seconds(booking.occupied.end))
        .bind(booking.status.as_str())
        .bind(&booking.note)
        .bind(booking.created_by)
        .bind(&booking.idempotency_key)
        .bind(seconds(booking.now))
        .execute(&mut *tx)
        .await
        .map_err(map_write_error)?;
        insert_notices(&mut tx, booking.id, &booking.notices, booking.now).await?;
        tx.commit().await?;
        Ok(booking.to_booking(client_id, client_user_id))
    }

    async fn update_booking(&self, update: &BookingUpdate) -> StoreResult<Option<Booking>> {
        let mut tx = self.pool.begin().await?;
        check_settings_version(&mut tx, update.provider_id, update.settings_version).await?;
        let done = sqlx::query(
            "UPDATE bookings SET status = $3, starts_at = to_timestamp($4), ends_at = to_timestamp($5), \
             occupied_from = to_timestamp($6), occupied_to = to_timestamp($7), updated_by = $8, \
             updated_at = to_timestamp($9) \
             WHERE provider_id = $1 AND id = $2",
        )
        .bind(update.provider_id)
        .bind(update.id)
        .bind(update.status.as_str())
        .bind(seconds(update.start))
        .bind(seconds(update.end))
        .bind(seconds(update.occupied.start))
        .bind(seconds(update.occupied.end))
        .bind(update.updated_by)
        .bind(seconds(update.now))
        .execute(&mut *tx)
        .await
        .map_err(map_write_error)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        if update.drop_pending_reminders {
            sqlx::query("DELETE FROM outbox WHERE booking_id = $1 AND kind = 'reminder' AND state = 'pending'")
                .bind(update.id)
                .execute(&mut *tx)
                .await?;
        }
        insert_notices(&mut tx, update.id, &update.notices, update.now).await?;
        tx.commit().await?;
        Ok(self.booking(update.provider_id, update.id).await?.map(|details| details.booking))
    }

    async fn client_bookings(&self, user_id: Uuid) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE c.user_id = $1 ORDER BY b.starts_at DESC LIMIT 500"))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        convert_all(rows)
    }

    async fn provider_bookings(
        &self,
        provider_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.starts_at >= to_timestamp($2) AND b.starts_at < to_timestamp($3) ORDER BY b.starts_at, b.id"
        ))
        .bind(provider_id)
        .bind(seconds(from))
        .bind(seconds(to))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn clients(&self, provider_id: Uuid, search: Option<&str>) -> StoreResult<Vec<Client>> {
        let rows: Vec<ClientRow> = sqlx::query_as(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE provider_id = $1 AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0 \
             OR strpos(lower(coalesce(contacts, '')), lower($2)) > 0) ORDER BY name, id LIMIT 1000"
        ))
        .bind(provider_id)
        .bind(search)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn client(&self, provider_id: Uuid, client_id: Uuid) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> =
            sqlx::query_as(concat!("SELECT ", client_columns!(), " FROM clients WHERE provider_id = $1 AND id = $2"))
                .bind(provider_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Client::try_from).transpose()
    }

    async fn client_history(&self, provider_id: Uuid, client_id: Uuid) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.client_id = $2 ORDER BY b.starts_at DESC LIMIT 500"
        ))
        .bind(provider_id)
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn insert_client(&self, client: &NewClient) -> StoreResult<Client> {
        let row: ClientRow = sqlx::query_as(concat!(
            "INSERT INTO clients (id, provider_id, user_id, name, contacts, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), to_timestamp($7)) RETURNING ",
            client_columns!()
        ))
        .bind(client.id)
        .bind(client.provider_id)
        .bind(client.user_id)
        .bind(&client.fields.name)
        .bind(&client.fields.contacts)
        .bind(&client.fields.notes)
        .bind(seconds(client.created_at))
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    async fn update_client(
        &self,
        provider_id: Uuid,
        client_id: Uuid,
        fields: &ClientFields,
        now: Timestamp,
    ) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> = sqlx::query_as(concat!(
            "UPDATE clients SET name = $3, contacts = $4, notes = $5, updated_at = to_timestamp($6) \
             WHERE provider_id = $1 AND id = $2 RETURNING ",
            client_columns!()
        ))
        .bind(provider_id)
        .bind(client_id)
        .bind(&fields.name)
        .bind(&fields.contacts)
        .bind(&fields.notes)
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(Client::try_from).transpose()
    }

    async fn delete_client(&self, provider_id: Uuid, client_id: Uuid, now: Timestamp) -> StoreResult<ClientDeletion> {
        let mut tx = self.pool.begin().await?;
        let upcoming: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM bookings WHERE provider_id = $1 AND client_id = $2 \
             AND status IN ('pending', 'confirmed') AND ends_at > to_timestamp($3)",
        )
        .bind(provider_id)
        .bind(client_id)
        .bind(seconds(now))
        .fetch_one(&mut *tx)
        .await?;
        if upcoming > 0 {
            return Ok(ClientDeletion::HasUpcomingBookings);
        }
        let done = sqlx::query("DELETE FROM clients WHERE provider_id = $1 AND id = $2")
            .bind(provider_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if done.rows_affected() == 1 { ClientDeletion::Deleted } else { ClientDeletion::NotFound })
    }

    async fn claim_due_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = 'interrupted while sending; delivery unknown' \
             WHERE state = 'sending' AND lease_until < to_timestamp($1)",
        )
        .bind(seconds(now))
        .execute(&mut *tx)
        .await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = to_timestamp($2) \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at <= to_timestamp($1) \
             ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, event, booking_id, recipient_id, extract(epoch from due_at)::int8 AS due_at, attempts",
        )
        .bind(seconds(now))
        .bind(seconds(lease_until))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        convert_all(rows)
    }

    async fn finish_message(&self, id: Uuid, outcome: MessageOutcome, now: Timestamp) -> StoreResult<()> {
        let (state, error) = outcome.columns();
        sqlx::query(
            "UPDATE outbox SET state = $2, last_error = $3, lease_until = NULL, \
             sent_at = CASE WHEN $2 = 'sent' THEN to_timestamp($4) ELSE sent_at END WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry_message(&self, id: Uuid, due_at: Timestamp, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', due_at = to_timestamp($2), last_error = $3, lease_until = NULL \
             WHERE id = $1 AND state = 'sending'",
        )
        .bind(id)
        .bind(seconds(due_at))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mark_bot_blocked(&self, user_id: Uuid, reason: &str, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET bot_blocked_at = to_timestamp($2), bot_blocked_reason = $3 WHERE id = $1")
            .bind(user_id)
            .bind(seconds(now))
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE outbox SET state = 'skipped', last_error = $2 WHERE recipient_id = $1 AND state = 'pending'",
        )
        .bind(user_id)
        .bind(format!("the bot cannot reach this user: {reason}"))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn bot_recipient(&self, user_id: Uuid) -> StoreResult<Option<BotRecipient>> {
        let row: Option<RecipientRow> = sqlx::query_as(
            "SELECT telegram_id, language_code, (bot_blocked_at IS NOT NULL OR processing_restricted) AS blocked FROM users \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| BotRecipient { telegram_id: r.telegram_id, language_code: r.language_code, blocked: r.blocked }))
    }

    async fn user_by_telegram_id(&self, telegram_id: i64) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE telegram_id = $1 AND deleted_at IS NULL"
        ))
        .bind(telegram_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    async fn booking_by_id(&self, booking_id: Uuid) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> = sqlx::query_as(concat!(booking_select!(), " WHERE b.id = $1"))
            .bind(booking_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(BookingDetails::try_from).transpose()
    }
}
