//! The baselines: the booking transaction the server runs (`create_booking`
//! in `src/store/sql/queries/bookings.rs`, for a Telegram client booking a
//! provider who has default reminders) straight against the database, with
//! nothing in front of it — no HTTP, no actors, no JSON. Measured in the same
//! invocation as the server's figure, they turn "784 bookings/s" into "0.44×
//! of what this disk and this database can do here, now".
//!
//! One booking, on both databases, is the server's statements in its order:
//!
//! 1. `BEGIN` (`BEGIN IMMEDIATE` on SQLite: the server takes the write lock
//!    up front);
//! 2. the provider's settings version and the client's card (whether the
//!    provider blocked them) in one read (`FOR SHARE OF p` on PostgreSQL);
//! 3. on a first visit only, the card added (`INSERT … ON CONFLICT DO NOTHING
//!    RETURNING id`);
//! 4. the booking itself, under the database's no-overlap rule (SQLite's
//!    triggers, PostgreSQL's exclusion constraint);
//! 5. the client's waitlist entry for that service and day deleted;
//! 6. three outbox rows, in one statement: the provider's `created` push and
//!    the client's two reminders (24 h and 2 h before: the default rules);
//! 7. `COMMIT`.
//!
//! The bookings go to 100 providers, round robin, each at its next free
//! 5-minute slot from 2027-07-01 on (so the no-overlap rule checks, and never
//! refuses), by 8 client users — what `throughput --providers 100` sends.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, Instant},
};

use anyhow::Context;
use sqlx::{
    AssertSqlSafe, Connection, Executor,
    postgres::{PgConnectOptions, PgConnection},
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous},
};
use uuid::Uuid;

/// Providers booked round robin, as `throughput --providers 100`.
pub const PROVIDERS: u64 = 100;
/// Client users, as `throughput`'s 8.
const CLIENTS: u64 = 8;
/// 2027-07-01T00:00:00+02:00, the first slot `throughput` books.
const FIRST_SLOT: i64 = 1_814_392_800;
const SLOT_SECS: i64 = 300;

/// Seeded ids: `Uuid::from_u128(base + index)`, which is
/// `00000000-0000-0000-0000-` and the index in 12 hex digits — what
/// `pgbench-booking.sql` spells with `lpad(to_hex(…), 12, '0')`.
fn provider_id(p: u64) -> Uuid {
    Uuid::from_u128(1_000 + u128::from(p))
}
fn service_id(p: u64) -> Uuid {
    Uuid::from_u128(2_000 + u128::from(p))
}
fn owner_id(p: u64) -> Uuid {
    Uuid::from_u128(3_000 + u128::from(p))
}
fn client_user_id(u: u64) -> Uuid {
    Uuid::from_u128(4_000 + u128::from(u))
}

/// One baseline figure.
pub struct Rate {
    pub bookings: u64,
    pub seconds: f64,
    /// How it was obtained, for the report (e.g. "pgbench -c 8").
    pub how: String,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.bookings as f64 / self.seconds } else { 0.0 }
    }
}

/// Booking `n` of the run: its provider, its slot's start (Unix seconds) and
/// its client user.
fn nth(n: u64) -> (u64, i64, u64) {
    let (p, slot) = (n % PROVIDERS, n / PROVIDERS);
    (p, FIRST_SLOT + SLOT_SECS * slot as i64, (p + slot) % CLIENTS)
}

/// The provider's calendar day of a start (Berlin summer time, UTC+2: every
/// slot of the run is in July and August 2027 … and later, which is close
/// enough for a `DELETE` that finds nothing either way).
fn local_date(start: i64) -> String {
    jiff::Timestamp::from_second(start + 7_200)
        .map(|t| jiff::tz::TimeZone::UTC.to_datetime(t).date().to_string())
        .unwrap_or_default()
}

/// The SQLite writer loop: a fresh database file in `dir`, opened as the
/// server opens it (`src/store/sql/dialect.rs`: WAL journal,
/// `synchronous=FULL` — a commit is on disk before the API answers — foreign
/// keys on, 10 s busy timeout), migrated with the server's own SQLite
/// migrations; one connection, prepared (cached) statements, one booking
/// transaction after another for `seconds`.
pub async fn sqlite(dir: &Path, seconds: u64) -> anyhow::Result<Rate> {
    let file = scratch_file(dir);
    let result = sqlite_in(&file, seconds).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    result
}

fn scratch_file(dir: &Path) -> PathBuf {
    dir.join(format!("jbm-baseline-{}-{}.db", std::process::id(), jiff::Timestamp::now().as_millisecond()))
}

async fn sqlite_in(file: &Path, seconds: u64) -> anyhow::Result<Rate> {
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let mut db =
        SqliteConnection::connect_with(&options).await.with_context(|| format!("opening {}", file.display()))?;
    sqlx::migrate!("../migrations/sqlite").run(&mut db).await.context("applying the SQLite migrations")?;
    seed_sqlite(&mut db).await?;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut n = 0;
    while Instant::now() < deadline {
        book_sqlite(&mut db, n).await.with_context(|| format!("booking {n}"))?;
        n += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings").fetch_one(&mut db).await?;
    anyhow::ensure!(rows as u64 == n, "{n} bookings made but {rows} in the table");
    let notices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut db).await?;
    anyhow::ensure!(notices == 3 * rows, "{rows} bookings but {notices} outbox rows");
    db.close().await?;
    Ok(Rate { bookings: n, seconds: elapsed, how: "one connection, WAL, synchronous=FULL".to_owned() })
}

async fn seed_sqlite(db: &mut SqliteConnection) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now().as_second();
    let mut tx = db.begin().await?;
    let user =
        "INSERT INTO users (id, telegram_id, first_name, created_at, updated_at) VALUES ($1, $2, 'Load', $3, $3)";
    for u in 0..CLIENTS {
        sqlx::query(user).bind(client_user_id(u)).bind(2_000_000 + u as i64).bind(now).execute(&mut *tx).await?;
    }
    for p in 0..PROVIDERS {
        sqlx::query(user).bind(owner_id(p)).bind(1_000_000 + p as i64).bind(now).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO providers (id, user_id, slug, display_name, timezone, slot_step_min, min_notice_min, \
             horizon_days, cancel_cutoff_min, requires_confirmation, reminder_offsets_min, created_at, updated_at) \
             VALUES ($1, $2, $3, 'Load', 'Europe/Berlin', 5, 0, 366, 0, 0, '[1440,120]', $4, $4)",
        )
        .bind(provider_id(p))
        .bind(owner_id(p))
        .bind(format!("baseline-{p}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO services (id, provider_id, name, duration_min, created_at, updated_at) \
             VALUES ($1, $2, 'Slot', 5, $3, $3)",
        )
        .bind(service_id(p))
        .bind(provider_id(p))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `create_booking` for a Telegram client, statement for statement.
async fn book_sqlite(db: &mut SqliteConnection, n: u64) -> anyhow::Result<()> {
    let (p, start, u) = nth(n);
    let (provider, service, user) = (provider_id(p), service_id(p), client_user_id(u));
    let now = jiff::Timestamp::now().as_second();
    let id = Uuid::now_v7();
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    // The server's read: settings, the client's card and the names the
    // booking is answered with (`create_booking`).
    type Found = (i64, Option<Uuid>, Option<bool>, Option<String>, String, String, String, Option<String>);
    let found: Option<Found> = sqlx::query_as(
        "SELECT p.settings_version, c.id, c.blocked, c.name, p.slug, p.display_name, p.timezone, s.name \
         FROM providers p LEFT JOIN clients c ON c.provider_id = p.id AND c.user_id = $2 \
         LEFT JOIN services s ON s.id = $3 AND s.provider_id = p.id WHERE p.id = $1",
    )
    .bind(provider)
    .bind(user)
    .bind(service)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((_version, known, blocked, ..)) = found else { anyhow::bail!("provider {p} missing") };
    anyhow::ensure!(blocked != Some(true), "no client is blocked here");
    let client: Uuid = match known {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO clients (id, provider_id, user_id, name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (provider_id, user_id) DO NOTHING RETURNING id",
            )
            .bind(Uuid::now_v7())
            .bind(provider)
            .bind(user)
            .bind("Load")
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    sqlx::query(
        "INSERT INTO bookings (id, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, \
         occupied_to, status, note, created_by, updated_by, idempotency_key, created_at, updated_at, confirm_by, \
         seat, occurrence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $13, $14, $15, $16)",
    )
    .bind(id)
    .bind(provider)
    .bind(service)
    .bind(client)
    .bind(start)
    .bind(start + SLOT_SECS)
    .bind(start)
    .bind(start + SLOT_SECS)
    .bind("confirmed")
    .bind(None::<String>)
    .bind(Some(user))
    .bind(None::<String>)
    .bind(now)
    .bind(None::<i64>)
    .bind(None::<i64>)
    .bind(id.simple().to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM waitlist_entries WHERE user_id = $1 AND service_id = $2 AND local_date = $3")
        .bind(user)
        .bind(service)
        .bind(local_date(start))
        .execute(&mut *tx)
        .await?;
    let notices = [
        ("push", "created", owner_id(p), now),
        ("reminder", "1440", user, start - 86_400),
        ("reminder", "120", user, start - 7_200),
    ];
    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO outbox (id, kind, event, booking_id, recipient_id, due_at, created_at) ",
    );
    insert.push_values(notices, |mut row, (kind, event, recipient, due_at)| {
        row.push_bind(Uuid::now_v7())
            .push_bind(kind)
            .push_bind(event)
            .push_bind(id)
            .push_bind(recipient)
            .push_bind(due_at)
            .push_bind(now);
    });
    insert.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The pgbench script, next to this crate's manifest.
pub fn pgbench_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pgbench-booking.sql")
}

/// The PostgreSQL baseline: a scratch database on the server at `url`
/// (created, migrated with the server's PostgreSQL migrations, seeded, and
/// dropped afterwards), then `pgbench -M prepared -f pgbench-booking.sql` for
/// `seconds` at each of `clients` connection counts; the best count wins.
/// Each run's tps is checked against the rows it inserted.
pub async fn postgres(url: &str, seconds: u64, clients: &[u32]) -> anyhow::Result<Rate> {
    let admin = PgConnectOptions::from_str(url).with_context(|| format!("{url:?} is not a PostgreSQL URL"))?;
    anyhow::ensure!(is_loopback_host(admin.get_host()), "PostgreSQL must be on this machine (loopback): {url}");
    let name = format!("jbm_baseline_{}_{}", std::process::id(), jiff::Timestamp::now().as_second());
    let mut conn = PgConnection::connect_with(&admin).await.with_context(|| format!("connecting to {url}"))?;
    conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.context("creating the scratch database")?;
    let password = url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_owned));
    let result = postgres_in(&admin, &name, seconds, clients, password.as_deref()).await;
    let dropped = conn.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
    let rate = result?;
    dropped.context("dropping the scratch database")?;
    Ok(rate)
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.starts_with('/') || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn postgres_in(
    admin: &PgConnectOptions,
    name: &str,
    seconds: u64,
    clients: &[u32],
    password: Option<&str>,
) -> anyhow::Result<Rate> {
    let options = admin.clone().database(name);
    let mut db = PgConnection::connect_with(&options).await?;
    sqlx::migrate!("../migrations/postgres").run(&mut db).await.context("applying the PostgreSQL migrations")?;
    seed_postgres(&mut db).await?;
    let script = pgbench_script();
    let mut best: Option<Rate> = None;
    // Each run books after the previous ones: `base` is the next free n.
    let mut base = 0u64;
    let mut rows: i64 = 0;
    for &c in clients {
        let (tps, done) = pgbench(&options, password, &script, seconds, c, base).await?;
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings").fetch_one(&mut db).await?;
        let inserted = (after - rows) as u64;
        rows = after;
        anyhow::ensure!(
            inserted == done,
            "pgbench -c {c} reports {done} transactions but {inserted} bookings were inserted"
        );
        println!("  pgbench -c {c}: {tps:.0} tps, {inserted} bookings in {seconds} s");
        // n = base + k·c + client_id, and no client made more than `done`.
        base += (done + 1) * u64::from(c);
        let rate = Rate {
            bookings: inserted,
            seconds: inserted as f64 / tps.max(f64::MIN_POSITIVE),
            how: format!("pgbench -M prepared -c {c} -j 2"),
        };
        if best.as_ref().is_none_or(|b| rate.per_second() > b.per_second()) {
            best = Some(rate);
        }
    }
    let notices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut db).await?;
    anyhow::ensure!(notices == 3 * rows, "{rows} bookings but {notices} outbox rows");
    db.close().await?;
    best.context("no client counts given")
}

/// Where pgbench lives: on PATH, or in Debian's versioned directory.
fn pgbench_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("pgbench"))
        .find(|candidate| candidate.is_file());
    on_path
        .or_else(|| {
            crate::chaos::postgres::bin_dir().map(|bin| bin.join("pgbench")).filter(|pgbench| pgbench.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// One pgbench run; returns (tps, transactions processed).
async fn pgbench(
    options: &PgConnectOptions,
    password: Option<&str>,
    script: &Path,
    seconds: u64,
    clients: u32,
    base: u64,
) -> anyhow::Result<(f64, u64)> {
    let mut command = std::process::Command::new(pgbench_binary());
    command
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg("-f")
        .arg(script)
        .args(["-T", &seconds.to_string(), "-c", &clients.to_string()])
        .args(["-D", "k=0", "-D", &format!("clients={clients}"), "-D", &format!("base={base}")])
        .args(["-h", options.get_host(), "-p", &options.get_port().to_string(), "-U", options.get_username()])
        .arg(options.get_database().unwrap_or("postgres"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await?.context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "pgbench failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    parse_pgbench(&stdout).with_context(|| format!("no tps in pgbench's output:\n{stdout}"))
}

/// pgbench's "tps = 1234.5 (without initial connection time)" and
/// "number of transactions actually processed: 6172".
fn parse_pgbench(out: &str) -> Option<(f64, u64)> {
    let tps = out.lines().find_map(|l| l.strip_prefix("tps = "))?.split_whitespace().next()?.parse().ok()?;
    let done = out
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((tps, done))
}

async fn seed_postgres(db: &mut PgConnection) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let user =
        "INSERT INTO users (id, telegram_id, first_name, created_at, updated_at) VALUES ($1, $2, 'Load', now(), now())";
    for u in 0..CLIENTS {
        sqlx::query(user).bind(client_user_id(u)).bind(2_000_000 + u as i64).execute(&mut *tx).await?;
    }
    for p in 0..PROVIDERS {
        sqlx::query(user).bind(owner_id(p)).bind(1_000_000 + p as i64).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO providers (id, user_id, slug, display_name, timezone, slot_step_min, min_notice_min, \
             horizon_days, cancel_cutoff_min, requires_confirmation, reminder_offsets_min, created_at, updated_at) \
             VALUES ($1, $2, $3, 'Load', 'Europe/Berlin', 5, 0, 366, 0, false, '[1440,120]', now(), now())",
        )
        .bind(provider_id(p))
        .bind(owner_id(p))
        .bind(format!("baseline-{p}"))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO services (id, provider_id, name, duration_min, created_at, updated_at) \
             VALUES ($1, $2, 'Slot', 5, now(), now())",
        )
        .bind(service_id(p))
        .bind(provider_id(p))
        .execute(&mut *tx)
        .await?;
        // Every client's card in the book already (see pgbench-booking.sql).
        for u in 0..CLIENTS {
            sqlx::query(
                "INSERT INTO clients (id, provider_id, user_id, name, created_at, updated_at) \
                 VALUES (gen_random_uuid(), $1, $2, 'Load', now(), now())",
            )
            .bind(provider_id(p))
            .bind(client_user_id(u))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_is_read() {
        let out = "number of transactions actually processed: 6172\nnumber of failed transactions: 0 (0.000%)\n\
                   latency average = 2.495 ms\ntps = 1202.308432 (without initial connection time)\n";
        assert_eq!(parse_pgbench(out), Some((1202.308432, 6172)));
    }

    #[test]
    fn seeded_ids_and_the_nth_booking_follow_the_numbering_the_script_uses() {
        assert_eq!(provider_id(99).to_string(), "00000000-0000-0000-0000-00000000044b");
        assert_eq!(nth(0), (0, FIRST_SLOT, 0));
        assert_eq!(nth(101), (1, FIRST_SLOT + SLOT_SECS, 2));
        assert_eq!(local_date(FIRST_SLOT), "2027-07-01");
    }
}
