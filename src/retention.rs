//! The retention rules applied (privacy policy §2, §7): access-log lines
//! older than `ACCESS_LOG_RETENTION_DAYS`, expired sessions, finished
//! outbox messages and support conversations quiet for the same period are
//! deleted — once shortly
//! after a node starts, then every 24 hours, and on demand by
//! `justbookme purge`. Every node may run it: each rule is an idempotent
//! `DELETE` on an indexed column, so a second node (or a second run) finds
//! nothing left to do. The rules themselves are the store's
//! ([`crate::store::Retention`]); a new kind of kept data adds its rule there.

use std::{sync::Arc, time::Duration};

use jiff::{SignedDuration, Timestamp};

use crate::store::{PurgeReport, Store, StoreResult};

/// How long after start the first purge runs (out of the way of start-up).
pub const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The moment before which kept data has outlived `retention`, as of `now`.
pub fn cutoff(retention: Duration, now: Timestamp) -> Timestamp {
    let kept = SignedDuration::try_from(retention).unwrap_or(SignedDuration::MAX);
    now.checked_sub(kept).unwrap_or(Timestamp::MIN)
}

/// Applies the rules as of `now`, and logs what went.
pub async fn purge(store: &dyn Store, retention: Duration, now: Timestamp) -> StoreResult<PurgeReport> {
    let before = cutoff(retention, now);
    let report = store.purge(before, now).await?;
    tracing::info!(before = %before, purged = %report, "retention purge");
    Ok(report)
}

/// The daily job of a serving node.
pub fn start(store: Arc<dyn Store>, retention: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_RUN_AFTER, EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = purge(store.as_ref(), retention, Timestamp::now()).await {
                tracing::warn!(%error, "retention purge failed; next try in 24 h");
            }
        }
    });
}
