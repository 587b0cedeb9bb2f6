//! Session tokens: the client holds the token, the store only its digest;
//! and the node's cache of signed-in users, so that a request does not ask
//! the database who sent it.
//!
//! # Why the cache cannot serve a session that ended
//! - Every write to an account or its sessions (deletion, corrections,
//!   restricting processing, a new sign-in, the policy acknowledged) goes
//!   through the store, which announces it after the commit
//!   ([`crate::store::ChangeListener::account_changed`]); the bus forgets it
//!   here at once and tells every other node, whose caches forget it on
//!   receipt ([`forget_on_bus_events`]).
//! - A lookup that raced a change (it read the row before the change
//!   committed, and would cache it after the change was forgotten) is not
//!   cached: every forget moves an epoch on, and an entry is only kept if the
//!   epoch did not move while it was read.
//! - When this node may miss other nodes' events (its Redis subscription is
//!   down), the cache is not used at all, and it is emptied when events may
//!   have been lost (a resync, a lagging subscriber).
//! - An entry lives at most `SESSION_CACHE_SECS` (30 s by default), which
//!   bounds what no event tells: a change made by another program writing the
//!   database directly (`justbookme` subcommands, an operator's SQL), and
//!   never past the session's own expiry.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use actors::domain::UserId;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;

use crate::bus::{LiveEvent, LocalBus};
use crate::store::{Store, StoreResult, User};

/// Only this digest of a token is stored, so a copy of the database cannot
/// be used to impersonate anyone.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Entries kept before the cache starts over (≈ 300 bytes each). A node
/// serving more signed-in users than this at once only asks the database
/// more often.
const CAPACITY: usize = 50_000;

struct Cached {
    user: User,
    /// The session's own expiry.
    expires_at: Timestamp,
    cached_at: Instant,
}

/// Signed-in users by token digest, for at most `ttl`.
pub struct SessionCache {
    entries: Mutex<HashMap<Vec<u8>, Cached>>,
    /// Moves on with every forget: a lookup that saw it move does not cache.
    epoch: AtomicU64,
    ttl: Duration,
    /// Whether this node hears every other node's events now.
    bus: Option<Arc<LocalBus>>,
}

impl SessionCache {
    /// `ttl` zero: no caching, every request asks the database.
    pub fn new(ttl: Duration, bus: Option<Arc<LocalBus>>) -> Self {
        Self { entries: Mutex::default(), epoch: AtomicU64::new(0), ttl, bus }
    }

    /// The user behind a bearer token, if its session is valid now. Shared by
    /// the HTTP extractor and the WebSocket `auth` message.
    pub async fn user_for_token(&self, store: &dyn Store, token: &str) -> StoreResult<Option<User>> {
        let hash = token_hash(token);
        let now = Timestamp::now();
        let usable = self.usable();
        if usable && let Some(user) = self.cached(&hash, now) {
            metrics::counter!("session_cache_total", "result" => "hit").increment(1);
            return Ok(Some(user));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let found = store.session_user(&hash, now).await?;
        metrics::counter!("session_cache_total", "result" => "miss").increment(1);
        let Some(found) = found else { return Ok(None) };
        if usable {
            self.keep(hash, &found.user, found.expires_at, epoch);
        }
        Ok(Some(found.user))
    }

    /// Forgets `user_id`'s sessions (`None`: everyone's).
    pub fn forget(&self, user_id: Option<UserId>) {
        let mut entries = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match user_id {
            Some(user_id) => entries.retain(|_, cached| cached.user.id != user_id),
            None => entries.clear(),
        }
    }

    fn usable(&self) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let deaf = self.bus.as_ref().is_some_and(|bus| !bus.hears_others());
        if deaf {
            // What was cached may have been changed elsewhere meanwhile.
            self.forget(None);
        }
        !deaf
    }

    fn cached(&self, hash: &[u8], now: Timestamp) -> Option<User> {
        let entries = self.lock();
        let cached = entries.get(hash)?;
        (cached.cached_at.elapsed() < self.ttl && cached.expires_at > now).then(|| cached.user.clone())
    }

    fn keep(&self, hash: Vec<u8>, user: &User, expires_at: Timestamp, epoch: u64) {
        let mut entries = self.lock();
        // Checked under the lock `forget` takes: no forget can come between.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, cached| cached.cached_at.elapsed() < ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(hash, Cached { user: user.clone(), expires_at, cached_at: Instant::now() });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Cached>> {
        // A panic elsewhere while holding it leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Forgets what the bus says changed: accounts changed on other nodes (this
/// node's own changes were forgotten before they were published), and
/// everything when events may have been lost.
pub fn forget_on_bus_events(bus: &LocalBus, cache: Arc<SessionCache>) {
    let mut events = bus.subscribe();
    actix_web::rt::spawn(async move {
        loop {
            match events.recv().await {
                Ok(LiveEvent::Account { user_id }) => cache.forget(user_id),
                Ok(LiveEvent::Resync) | Err(RecvError::Lagged(_)) => cache.forget(None),
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TelegramProfile;

    fn user(n: u128) -> User {
        User {
            id: UserId(uuid::Uuid::from_u128(n)),
            profile: TelegramProfile {
                telegram_id: n as i64,
                first_name: "A".into(),
                last_name: None,
                username: None,
                language_code: None,
                photo_url: None,
            },
            processing_restricted: false,
            policy_version_seen: None,
            time_zone: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn later() -> Timestamp {
        Timestamp::now() + jiff::SignedDuration::from_hours(1)
    }

    #[test]
    fn a_forget_between_the_read_and_the_keep_wins() {
        let cache = SessionCache::new(Duration::from_secs(30), None);
        let epoch = cache.epoch.load(Ordering::Acquire);
        cache.forget(Some(user(1).id));
        cache.keep(vec![1], &user(1), later(), epoch);
        assert_eq!(cache.len(), 0, "what was read before the change is not kept");
        let epoch = cache.epoch.load(Ordering::Acquire);
        cache.keep(vec![1], &user(1), later(), epoch);
        assert_eq!(cache.cached(&[1], Timestamp::now()), Some(user(1)));
    }

    #[test]
    fn forgetting_a_user_keeps_the_others() {
        let cache = SessionCache::new(Duration::from_secs(30), None);
        for n in 1..=3 {
            let epoch = cache.epoch.load(Ordering::Acquire);
            cache.keep(vec![n as u8], &user(n), later(), epoch);
        }
        cache.forget(Some(user(2).id));
        assert_eq!((cache.cached(&[1], Timestamp::now()), cache.cached(&[2], Timestamp::now())), (Some(user(1)), None));
        cache.forget(None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_expired_session_or_an_old_entry_is_not_served() {
        let cache = SessionCache::new(Duration::from_millis(50), None);
        let epoch = cache.epoch.load(Ordering::Acquire);
        cache.keep(vec![1], &user(1), Timestamp::now() + jiff::SignedDuration::from_millis(20), epoch);
        cache.keep(vec![2], &user(2), later(), epoch);
        let in_a_while = Timestamp::now() + jiff::SignedDuration::from_millis(30);
        assert_eq!(cache.cached(&[1], in_a_while), None, "past the session's expiry");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.cached(&[2], Timestamp::now()), None, "past the cache's own time");
    }
}
