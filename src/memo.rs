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
//!   kept: every forget moves an epoch on and is logged, and a value read
//!   while the epoch moved is only kept if none of the forgets logged since
//!   would have forgotten it (the log holds the last [`FORGETS_LOGGED`];
//!   a read older than that is not kept). So a burst of sign-ins, each
//!   forgetting its own user, does not stop everyone else's reads from
//!   being kept.
//! - While this node may miss other nodes' events (its Redis subscription
//!   is down), memos are not used at all, and they are emptied when events
//!   may have been lost (a resync, a lagging subscriber).
//! - A value lives at most the memo's time to live, which bounds what no
//!   event tells: a change made by another program writing the database
//!   directly (`justbookme` subcommands, an operator's SQL).

use std::{
    borrow::Borrow,
    collections::{HashMap, VecDeque},
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

/// Forgets remembered for reads that started before them.
const FORGETS_LOGGED: usize = 256;

/// What one forget took away.
enum Forgot<V> {
    All,
    Where(Box<dyn Fn(&V) -> bool + Send + Sync>),
}

struct Entries<K, V> {
    values: HashMap<K, Kept<V>>,
    /// The latest forgets, oldest first, each with the epoch it moved to.
    forgets: VecDeque<(u64, Forgot<V>)>,
}

/// Values by key, each for at most `ttl`, forgotten on every change.
pub struct Memo<K, V> {
    entries: Mutex<Entries<K, V>>,
    /// Moves on with every forget: a read that saw it move is kept only if
    /// no forget since would have taken it.
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
        let entries = Entries { values: HashMap::new(), forgets: VecDeque::new() };
        Self { entries: Mutex::new(entries), epoch: AtomicU64::new(0), ttl, capacity, bus }
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
        let kept = entries.values.get(key)?;
        (kept.kept_at.elapsed() < self.ttl && valid(&kept.value)).then(|| kept.value.clone())
    }

    /// Call before reading the database for a value to keep.
    pub fn read_started(&self) -> ReadStarted {
        ReadStarted { epoch: self.epoch.load(Ordering::Acquire), usable: self.usable() }
    }

    /// Keeps what the read started at `started` found, unless a forget
    /// since then would have taken it.
    pub fn keep(&self, started: ReadStarted, key: K, value: V) {
        if !started.usable {
            return;
        }
        let mut entries = self.lock();
        // Checked under the lock `forget` takes: no forget can come between.
        if self.epoch.load(Ordering::Acquire) != started.epoch && !entries.untouched_since(started.epoch, &value) {
            return;
        }
        let values = &mut entries.values;
        if values.len() >= self.capacity {
            let ttl = self.ttl;
            values.retain(|_, kept| kept.kept_at.elapsed() < ttl);
            if values.len() >= self.capacity {
                values.clear();
            }
        }
        values.insert(key, Kept { value, kept_at: Instant::now() });
    }

    /// Forgets the values `changed` picks.
    pub fn forget_where(&self, changed: impl Fn(&V) -> bool + Send + Sync + 'static) {
        let mut entries = self.lock();
        entries.values.retain(|_, kept| !changed(&kept.value));
        self.log(&mut entries, Forgot::Where(Box::new(changed)));
    }

    pub fn forget_all(&self) {
        let mut entries = self.lock();
        entries.values.clear();
        self.log(&mut entries, Forgot::All);
    }

    fn log(&self, entries: &mut Entries<K, V>, forgot: Forgot<V>) {
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        if entries.forgets.len() == FORGETS_LOGGED {
            entries.forgets.pop_front();
        }
        entries.forgets.push_back((epoch, forgot));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic elsewhere while holding it leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().values.len()
    }
}

impl<K, V> Entries<K, V> {
    /// Whether no forget after `epoch` would have taken `value` (false when
    /// the log no longer reaches back that far).
    fn untouched_since(&self, epoch: u64, value: &V) -> bool {
        let reaches_back = self.forgets.front().is_some_and(|(first, _)| *first <= epoch + 1);
        reaches_back
            && self.forgets.iter().filter(|(moved_to, _)| *moved_to > epoch).all(|(_, forgot)| match forgot {
                Forgot::All => false,
                Forgot::Where(changed) => !changed(value),
            })
    }
}

/// Providers by slug: a booking, a slots request, a watch each name the
/// provider by slug; the answer changes only with the provider's settings.
pub type ProviderMemo = Memo<String, crate::store::Provider>;

/// Entries a [`ProviderMemo`] keeps.
pub const PROVIDERS_KEPT: usize = 10_000;

/// Forgets what the bus says changed: accounts and providers changed on
/// other nodes, and everything when events may have been lost. This node's
/// own changes were forgotten before they were published, and are not
/// forgotten again when they come round: what was kept since (a session
/// just signed in) was read after them.
pub fn forget_on_bus_events(bus: &LocalBus, sessions: Arc<crate::session::SessionCache>, providers: Arc<ProviderMemo>) {
    let mut events = bus.subscribe_heard();
    actix_web::rt::spawn(async move {
        loop {
            match events.recv().await {
                Ok(LiveEvent::Account { user_id }) => sessions.forget(user_id),
                Ok(LiveEvent::Settings { provider_id }) => providers.forget_where(move |p| p.id == provider_id),
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
    fn a_forget_of_something_else_between_the_read_and_the_keep_does_not_stop_it() {
        let memo: Memo<u8, u8> = Memo::new(Duration::from_secs(30), 10, None);
        let started = memo.read_started();
        memo.forget_where(|v| *v == 2);
        memo.keep(started, 1, 1);
        assert_eq!(memo.get(&1, |_| true), Some(1), "nothing that changed was read");
        let started = memo.read_started();
        memo.forget_where(|v| *v == 2);
        memo.forget_all();
        memo.keep(started, 3, 3);
        assert_eq!(memo.get(&3, |_| true), None, "everything was forgotten meanwhile");
        let started = memo.read_started();
        for _ in 0..=FORGETS_LOGGED {
            memo.forget_where(|v| *v == 2);
        }
        memo.keep(started, 4, 4);
        assert_eq!(memo.get(&4, |_| true), None, "a read older than the log is not kept");
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
