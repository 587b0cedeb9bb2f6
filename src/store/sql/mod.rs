//! The one SQL implementation of the store contracts, for SQLite and
//! PostgreSQL alike.
//!
//! Every query is written once, in `queries/`, and compiled twice: `dialect.rs`
//! includes those files into one module per database, where `Db` names that
//! database, so each copy is plain, concrete sqlx code. The differences between
//! the databases live in `dialect.rs` alone: opening and migrating, how a
//! write transaction begins, which row locks exist, and how constraint
//! violations are told apart. Values whose column types differ (times, dates)
//! are bound as [`encode::Moment`] and [`encode::Day`], which encode natively
//! for each; SQLite understands PostgreSQL's `$n` placeholders, `TRUE`/`FALSE`,
//! `RETURNING` and `ON CONFLICT`.
//!
//! To add a query: write it once in the `queries/` file of its contract, using
//! `$n` placeholders, [`encode::Moment`] for times and [`encode::Day`] for
//! dates, and `begin_write` for a transaction that writes; add it to the
//! contract suite (`tests/integration/store_contract.rs`), which runs on both
//! databases. Only when the databases truly disagree does a piece go to
//! `dialect.rs`, once per database.

mod dialect;
mod encode;
pub(crate) use encode::Moment;
mod rows;

use std::sync::Arc;

use actors::domain::{ProviderId, UserId};

pub use dialect::{connect_postgres, connect_sqlite};

use super::ChangeListener;

/// One database's pool, and who hears of its settings writes.
pub struct SqlStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    listener: Option<Arc<dyn ChangeListener>>,
}

impl<DB: sqlx::Database> SqlStore<DB> {
    /// Called after a settings write committed.
    async fn announce(&self, provider_id: ProviderId) {
        if let Some(listener) = &self.listener {
            listener.settings_changed(provider_id).await;
        }
    }

    /// Called after a write to an account (`None`: every account) committed.
    async fn announce_account(&self, user_id: Option<UserId>) {
        if let Some(listener) = &self.listener {
            listener.account_changed(user_id).await;
        }
    }
}

/// The columns every query of a row type selects, in the order its row reads.
macro_rules! user_columns {
    () => {
        "id, telegram_id, first_name, last_name, username, language_code, photo_url, \
         processing_restricted, policy_version_seen, time_zone, created_at"
    };
}
macro_rules! provider_columns {
    () => {
        "id, user_id, slug, display_name, business_name, contacts, timezone, slot_step_min, \
         min_notice_min, horizon_days, cancel_cutoff_min, requires_confirmation, reminder_offsets_min, \
         confirm_within_min, morning_digest, settings_version"
    };
}
macro_rules! service_columns {
    () => {
        "id, provider_id, name, duration_min, price_minor, currency, buffer_before_min, \
         buffer_after_min, active, capacity"
    };
}
macro_rules! client_columns {
    () => {
        "id, provider_id, user_id, name, contacts, notes, erasure_requested_at, blocked, created_at, updated_at"
    };
}
macro_rules! booking_select {
    () => {
        "SELECT b.id, b.provider_id, b.service_id, b.client_id, c.user_id AS client_user_id, b.starts_at, \
         b.ends_at, b.occupied_from, b.occupied_to, b.status, b.note, b.created_by, b.idempotency_key, \
         b.created_at, b.updated_at, p.slug AS provider_slug, p.display_name AS provider_name, p.timezone, \
         s.name AS service_name, c.name AS client_name, b.revision, b.confirm_by, b.proposed_start, \
         b.attendance_confirmed_at, b.seat \
         FROM bookings b JOIN clients c ON c.id = b.client_id JOIN providers p ON p.id = b.provider_id \
         JOIN services s ON s.id = b.service_id"
    };
}
macro_rules! waitlist_select {
    () => {
        "SELECT w.id, w.user_id, w.provider_id, w.service_id, w.local_date, w.from_min, w.to_min, w.free_known, \
         w.created_at, p.slug AS provider_slug, p.display_name AS provider_name, p.timezone, \
         s.name AS service_name, u.first_name AS client_name \
         FROM waitlist_entries w JOIN providers p ON p.id = w.provider_id \
         JOIN services s ON s.id = w.service_id JOIN users u ON u.id = w.user_id"
    };
}
pub(crate) use {booking_select, client_columns, provider_columns, service_columns, user_columns, waitlist_select};
