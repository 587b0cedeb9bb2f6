//! What a node keeps in memory of the database so a request need not ask it
//! again: who a session belongs to (`crate::session`), which provider a
//! slug names. Each [`Memo`] is told of every change by the bus and forgets
//! it; this module is why that is enough.
//!
//! # Why a memo cannot serve what changed
//! - Every write the memo depends on goes through the store, which announces
//!   it after the commit ([`crate::store::ChangeListener`]); the node that
//!   wrote forgets it at once, and tells every other node through the bus,
//!   whose memos forget it on receipt ([`forget_on_bus_events`]).
//! - A read that raced a change (it read the row before the change
//!   committed, and would keep it after the change was forgotten) is not
//!   kept: every forget moves an epoch on, and a value is only kept if the
//!   epoch did not move while it was read.
//! - While this node may miss other nodes' events (its Redis subscription
//!   is down), memos are not used at all, and they are emptied when events
//!   may have been lost (a resync, a lagging subscriber).
//! - A value lives at most the memo's time to live, which bounds what no
//!   event tells: a change made by another program writing the database
//!   directly (`justbookme` subcommands, an operator's SQL).

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::broadcast::error::RecvError;

use crate::bus::{LiveEvent, LocalBus};

struct Kept<V> {
    value: V,
    kept_at: Instant,
}

/// Values by key, each for at most `ttl`, forgotten on every change.
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, Kept<V>>>,
    /// Moves on with every forget: a read that saw it move is not kept.
    epoch: AtomicU64,
    ttl: Duration,
    /// Entries kept before the memo starts over.
    capacity: usize,
    /// Whether this node hears every other node's events now.
    bus: Option<Arc<LocalBus>>,
}

/// Where a read for the memo started: hand it back to [`Memo::keep`].
#[derive(Clone, Copy)]
pub struct ReadStarted {
    epoch: u64,
    usable: bool,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// `ttl` zero: nothing is kept, every read asks the database.
    pub fn new(ttl: Duration, capacity: usize, bus: Option<Arc<LocalBus>>) -> Self {
        Self { entries: Mutex::default(), epoch: AtomicU64::new(0), ttl, capacity, bus }
    }

    /// The value kept for `key`, if it is usable now and `valid` says so.
    pub fn get<Q>(&self, key: &Q, valid: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.usable() {
            return None;
        }
        let entries = self.lock();
        let kept = entries.get(key)?;
        (kept.kept_at.elapsed() < self.ttl && valid(&kept.value)).then(|| kept.value.clone())
    }

    /// Call before reading the database for a value to keep.
    pub fn read_started(&self) -> ReadStarted {
        ReadStarted { epoch: self.epoch.load(Ordering::Acquire), usable: self.usable() }
    }

    /// Keeps what the read started at `started` found, unless something was
    /// forgotten meanwhile.
    pub fn keep(&self, started: ReadStarted, key: K, value: V) {
        if !started.usable {
            return;
        }
        let mut entries = self.lock();
        // Checked under the lock `forget` takes: no forget can come between.
        if self.epoch.load(Ordering::Acquire) != started.epoch {
            return;
        }
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, kept| kept.kept_at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Kept { value, kept_at: Instant::now() });
    }

    /// Forgets the values `changed` picks.
    pub fn forget_where(&self, changed: impl Fn(&V) -> bool) {
        let mut entries = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, kept| !changed(&kept.value));
    }

    pub fn forget_all(&self) {
        let mut entries = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn usable(&self) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let deaf = self.bus.as_ref().is_some_and(|bus| !bus.hears_others());
        if deaf {
            // What was kept may have been changed elsewhere meanwhile.
            self.forget_all();
        }
        !deaf
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Kept<V>>> {
        // A panic elsewhere while holding it leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Providers by slug: a booking, a slots request, a watch each name the
/// provider by slug; the answer changes only with the provider's settings.
pub type ProviderMemo = Memo<String, crate::store::Provider>;

/// Entries a [`ProviderMemo`] keeps.
pub const PROVIDERS_KEPT: usize = 10_000;

/// Forgets what the bus says changed: accounts and providers changed on
/// other nodes (this node's own changes were forgotten before they were
/// published), and everything when events may have been lost.
pub fn forget_on_bus_events(bus: &LocalBus, sessions: Arc<crate::session::SessionCache>, providers: Arc<ProviderMemo>) {
    let mut events = bus.subscribe();
    actix_web::rt::spawn(async move {
        loop {
            match events.recv().await {
                Ok(LiveEvent::Account { user_id }) => sessions.forget(user_id),
                Ok(LiveEvent::Settings { provider_id }) => providers.forget_where(|p| p.id == provider_id),
                Ok(LiveEvent::Resync) | Err(RecvError::Lagged(_)) => {
                    sessions.forget(None);
                    providers.forget_all();
                }
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forget_between_the_read_and_the_keep_wins() {
        let memo: Memo<u8, u8> = Memo::new(Duration::from_secs(30), 10, None);
        let started = memo.read_started();
        memo.forget_where(|v| *v == 1);
        memo.keep(started, 1, 1);
        assert_eq!(memo.len(), 0, "what was read before the change is not kept");
        memo.keep(memo.read_started(), 1, 1);
        assert_eq!(memo.get(&1, |_| true), Some(1));
    }

    #[test]
    fn forgetting_some_keeps_the_others() {
        let memo: Memo<u8, u8> = Memo::new(Duration::from_secs(30), 10, None);
        for n in 1..=3 {
            memo.keep(memo.read_started(), n, n);
        }
        memo.forget_where(|v| *v == 2);
        assert_eq!((memo.get(&1, |_| true), memo.get(&2, |_| true)), (Some(1), None));
        memo.forget_all();
        assert_eq!(memo.len(), 0);
    }

    #[test]
    fn an_old_or_invalid_value_is_not_served_and_a_full_memo_starts_over() {
        let memo: Memo<u8, u8> = Memo::new(Duration::from_millis(50), 2, None);
        memo.keep(memo.read_started(), 1, 1);
        assert_eq!(memo.get(&1, |v| *v > 1), None, "its own validity");
        memo.keep(memo.read_started(), 2, 2);
        memo.keep(memo.read_started(), 3, 3);
        assert_eq!(memo.len(), 1, "over capacity with nothing old: started over");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(memo.get(&3, |_| true), None, "past the memo's own time");
    }

    #[test]
    fn with_a_zero_time_nothing_is_kept() {
        let memo: Memo<u8, u8> = Memo::new(Duration::ZERO, 10, None);
        memo.keep(memo.read_started(), 1, 1);
        assert_eq!(memo.get(&1, |_| true), None);
    }
}
