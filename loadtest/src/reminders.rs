//! The reminders row: N reminders falling due at once, as after an outage,
//! and how fast the bot gets them out against Telegram's overall limit.
//!
//! `loadtest` starts the release server itself (its own SQLite file) with
//! the bot on, talking to a fake Bot API in this process that enforces
//! Telegram's 30 messages a second (a send beyond it within one second is
//! answered 429, as Telegram does). N clients book N visits with a provider
//! whose clients get one reminder two weeks ahead; then the reminders are
//! made due now in the server's database — the one thing the API cannot
//! stage. The provider is reachable too: its N booking pushes go out beside
//! the reminders at the 20 a minute Telegram lets one chat have.
//!
//! The baseline is the limit itself; the fake's own capacity, measured right
//! after, shows it is not what bounds the figure.

use std::{
    net::Ipv4Addr,
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{StreamExt, stream};
use serde_json::json;

use crate::{
    fake_bot::{BOT_TOKEN, FakeBot},
    scenario::{Api, nth_slot, run_id},
    server::Server,
};

/// Telegram's overall limit for a bot: about 30 messages a second.
pub const TELEGRAM_PER_SECOND: usize = 30;
/// Two weeks: far enough ahead that no reminder falls due while booking.
const REMINDER_OFFSET_MIN: u32 = 14 * 24 * 60;

pub struct ReminderFigures {
    pub count: usize,
    /// From the moment they fell due until the last one reached the fake.
    pub drained_in: Duration,
    /// First reminder received → last.
    pub first_to_last: Duration,
    pub duplicates: u64,
    /// Sends the fake answered 429 (over Telegram's limit).
    pub too_many: u64,
    /// Reminders that never arrived within the wait.
    pub missing: usize,
    /// The fake Bot API alone, unlimited: sends per second it answers.
    pub fake_capacity: f64,
}

impl ReminderFigures {
    /// Reminders per second from falling due to the last one delivered.
    pub fn per_second(&self) -> f64 {
        (self.count - self.missing) as f64 / self.drained_in.as_secs_f64().max(1e-3)
    }

    /// Between the first delivery and the last: the rate once under way.
    pub fn sustained_per_second(&self) -> f64 {
        (self.count - self.missing).saturating_sub(1) as f64 / self.first_to_last.as_secs_f64().max(1e-3)
    }

    pub fn print(&self) {
        println!(
            "reminders: {} due at once, {} delivered in {:.1?} = {:.1}/s (first → last {:.1}/s); duplicates {}, \
             answered 429: {}; the fake alone answers {:.0} sends/s",
            self.count,
            self.count - self.missing,
            self.drained_in,
            self.per_second(),
            self.sustained_per_second(),
            self.duplicates,
            self.too_many,
            self.fake_capacity
        );
    }
}

pub async fn reminders(server_bin: &str, count: usize) -> anyhow::Result<ReminderFigures> {
    let (_, first_id) = run_id();
    let provider_chat = first_id + 99_000;
    let bot = FakeBot::limited(TELEGRAM_PER_SECOND);
    let bot_port = bot.listen(Ipv4Addr::LOCALHOST, 0).await?;
    let env =
        [("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()), ("TELEGRAM_API_URL", format!("http://127.0.0.1:{bot_port}"))];
    let server = Server::start(server_bin, "reminders", &env)?;
    server.wait_healthy().await?;
    let api = Api::new(server.base());

    let (slug, service) = api.reminding_provider(provider_chat, REMINDER_OFFSET_MIN).await?;
    let clients = api.users(first_id, count).await?;
    let booked: Vec<u16> = stream::iter(clients.iter().enumerate())
        .map(|(i, token)| {
            let (api, slug, service) = (&api, &slug, &service);
            async move { api.book(token, slug, service, &nth_slot(i)).await.map(|(status, _)| status) }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let created = booked.iter().filter(|status| **status == 201).count();
    anyhow::ensure!(created == count, "only {created} of {count} bookings were made");

    let pool = sqlx::SqlitePool::connect(&server.database_url()).await.context("the server's database")?;
    let fell_due = Instant::now();
    let made_due = sqlx::query("UPDATE outbox SET due_at = unixepoch() WHERE kind = 'reminder' AND state = 'pending'")
        .execute(&pool)
        .await?
        .rows_affected();
    pool.close().await;
    anyhow::ensure!(made_due == count as u64, "{made_due} reminders made due, {count} expected");

    let deadline = fell_due + Duration::from_secs(30) + Duration::from_millis(100 * count as u64);
    while bot.reminder_times().len() < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Anything sent twice would come soon after.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let times = bot.reminder_times();
    let figures = bot.figures();
    if times.len() < count {
        // Where the missing ones are, to say why.
        let pool = sqlx::SqlitePool::connect(&server.database_url()).await?;
        let states: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT kind, state, count(*), count(DISTINCT recipient_id) FROM outbox GROUP BY kind, state ORDER BY kind, state")
                .fetch_all(&pool)
                .await?;
        pool.close().await;
        eprintln!(
            "reminders: {} of {count} arrived; the outbox (kind, state, rows, recipients): {states:?}",
            times.len()
        );
    }
    drop(server);
    let (first, last) = (times.first().copied().unwrap_or(fell_due), times.last().copied().unwrap_or(fell_due));
    Ok(ReminderFigures {
        count,
        drained_in: last.duration_since(fell_due),
        first_to_last: last.duration_since(first),
        duplicates: figures.duplicate_reminders,
        too_many: figures.too_many,
        missing: count.saturating_sub(times.len()),
        fake_capacity: fake_capacity(5_000).await?,
    })
}

/// Sends per second an unlimited fake answers to 32 keep-alive
/// connections: the most the fake could ever count.
async fn fake_capacity(sends: usize) -> anyhow::Result<f64> {
    let bot = FakeBot::default();
    let port = bot.listen(Ipv4Addr::LOCALHOST, 0).await?;
    let url = format!("http://127.0.0.1:{port}/bot{BOT_TOKEN}/sendMessage");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answered = stream::iter(0..sends)
        .map(|i| {
            let request = client.post(&url).json(&json!({ "chat_id": i, "text": "Reminder: capacity" }));
            async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .buffer_unordered(32)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    Ok(answered as f64 / started.elapsed().as_secs_f64())
}
