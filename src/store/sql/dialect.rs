//! Where SQLite and PostgreSQL differ, side by side; everything else is in
//! `queries/`, compiled once for each database by the `include!`s below.

/// What every query file uses, for both databases.
mod prelude {
    pub(crate) use actors::calendar::{
        BookingClient, BookingLabels, BookingUpdate, CreatedBooking, NewBooking, notices::Notice,
    };
    pub(crate) use actors::domain::{
        Booking, BookingId, ClientId, ProviderId, ProviderTimeZone, Schedule, ServiceId, Slug, UserId,
    };
    pub(crate) use async_trait::async_trait;
    pub(crate) use jiff::Timestamp;
    pub(crate) use std::sync::Arc;
    pub(crate) use uuid::Uuid;

    pub(crate) use super::super::rows::*;
    pub(crate) use super::super::{
        SqlStore, booking_select, client_columns, provider_columns, service_columns, waitlist_select,
    };
    pub(crate) use super::super::{encode::Day, encode::Moment, user_columns};
    pub(crate) use crate::store::{model::outbox_kind, *};
}

/// The embedded default: one SQLite file, WAL journal, foreign keys on.
mod sqlite {
    use std::{path::Path, str::FromStr, time::Duration};

    use anyhow::Context;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

    use super::prelude::*;

    type Db = sqlx::Sqlite;

    pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a valid SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the API answers 2xx (DESIGN §3.2).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        ensure_parent_dir(options.get_filename())?;
        // sqlx pings every connection it hands out by default: a hand-off to
        // the connection's thread and back before every transaction and read,
        // for a file that cannot hang up.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open SQLite database {url:?}"))?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("applying SQLite migrations")?;
        Ok(Arc::new(SqlStore { pool, listener: None }))
    }

    fn ensure_parent_dir(path: &Path) -> anyhow::Result<()> {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && path != Path::new(":memory:") => {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))
            }
            _ => Ok(()),
        }
    }

    /// Every write transaction starts holding the write lock, so that it never
    /// fails half-way with SQLITE_BUSY when it upgrades from reading to
    /// writing, and so that the overlap triggers see every commit. That lock
    /// is also why SQLite needs no row locks (`row_lock!` is empty).
    async fn begin_write(pool: &sqlx::SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    macro_rules! row_lock {
        (share) => {
            ""
        };
        (share_provider) => {
            ""
        };
        (claim) => {
            ""
        };
    }

    /// The overlap trigger's `RAISE(ABORT, 'booking_overlap')`.
    fn is_overlap(error: &dyn sqlx::error::DatabaseError) -> bool {
        error.message().contains("booking_overlap")
    }

    include!("queries/accounts.rs");
    include!("queries/catalogue.rs");
    include!("queries/bookings.rs");
    include!("queries/client_book.rs");
    include!("queries/outbox.rs");
    include!("queries/support.rs");
    include!("queries/access_log.rs");
    include!("queries/retention.rs");
    include!("queries/waitlist.rs");
}

/// The cluster backend, shared by every node.
mod postgres {
    use std::{str::FromStr, time::Duration};

    use anyhow::Context;
    use sqlx::Connection as _;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    use super::prelude::*;

    type Db = sqlx::Postgres;

    /// How long a request waits for a working connection before the store
    /// reports the database unavailable. Long enough for a busy pool under load
    /// (the 500-racer storm waits tens of milliseconds), short enough to answer
    /// well inside a client's patience when PostgreSQL is cut off.
    const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

    /// A connection idle this long is pinged before it is handed out, so one
    /// that went away with a restart or a cut is replaced unseen: no restart
    /// is quicker than this, so every connection idle through one is pinged.
    /// sqlx's own `test_before_acquire` pings every time: a round trip to the
    /// backend before every transaction and read, two per booking, although
    /// under load a connection is handed on within a millisecond.
    const PING_AFTER_IDLE: Duration = Duration::from_millis(100);

    pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a valid PostgreSQL URL"))?;
        // Fail fast when the database is unreachable: a request then gets
        // 503 + Retry-After within about ACQUIRE_TIMEOUT instead of hanging.
        // The timeout covers the whole acquire, including the liveness ping of
        // a connection idle for PING_AFTER_IDLE — on a cut link that ping
        // would otherwise wait for TCP to give up (minutes), and a connection
        // whose ping failed or timed out is dropped, not reused.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {url:?}"))?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.context("applying PostgreSQL migrations")?;
        Ok(Arc::new(SqlStore { pool, listener: None }))
    }

    async fn begin_write(pool: &sqlx::PgPool) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
        pool.begin().await
    }

    /// `share`: the settings check holds the provider row until the booking
    /// commits: a settings write (its trigger updates that row) waits for it,
    /// or commits first and the check — waiting for it under READ COMMITTED —
    /// sees the new version. Bookings share the lock, so they never wait on
    /// each other there. `claim`: dispatchers on several nodes never claim
    /// the same outbox row.
    macro_rules! row_lock {
        (share) => {
            " FOR SHARE"
        };
        // The same lock, in a query that joins the provider row (`p`) to others.
        (share_provider) => {
            " FOR SHARE OF p"
        };
        (claim) => {
            " FOR UPDATE SKIP LOCKED"
        };
    }

    /// SQLSTATE 23P01 `exclusion_violation`: the `bookings_no_overlap` constraint.
    fn is_overlap(error: &dyn sqlx::error::DatabaseError) -> bool {
        error.code().as_deref() == Some("23P01")
    }

    include!("queries/accounts.rs");
    include!("queries/catalogue.rs");
    include!("queries/bookings.rs");
    include!("queries/client_book.rs");
    include!("queries/outbox.rs");
    include!("queries/support.rs");
    include!("queries/access_log.rs");
    include!("queries/retention.rs");
    include!("queries/waitlist.rs");
}

pub use postgres::connect as connect_postgres;
pub use sqlite::connect as connect_sqlite;
