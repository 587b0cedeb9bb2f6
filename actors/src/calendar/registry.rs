//! The registry: starts a provider's calendar on first use (supervised, on one
//! of a few dedicated arbiter threads), routes to it by provider id, and stops
//! calendars that stayed idle. `Calendars` is the cheap, cloneable front the
//! HTTP layer uses.
//!
//! # The hot path does not ask the registry
//! Running calendars are listed in a route table the registry shares with
//! every `Calendars`: a message to a running calendar reads the table (a
//! read lock, no mailbox) and goes straight to the calendar. Only a calendar
//! not running yet costs the registry's mailbox, which starts it. The idle
//! sweep takes the write lock, and a sender counts its message in flight
//! while it still holds the read lock, so the sweep either sees the message
//! (and keeps the calendar) or has already removed the route (and the sender
//! asks the registry, which starts a new calendar).

use crate::domain::ProviderId;
use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix::{Actor, Addr, Arbiter, ArbiterHandle, AsyncContext, Context, Handler, Message, Supervisor};

use super::{
    CalendarActor, CalendarError, CalendarRepository, EventSink,
    messages::{Reload, Shutdown, Traced},
};

#[derive(Clone, Debug)]
pub struct RegistrySettings {
    /// A calendar with no request for this long is stopped (its memory freed).
    pub idle_after: Duration,
    /// Requests queued or running per calendar before it answers "overloaded".
    pub queue_limit: usize,
    /// Threads the calendars are spread over.
    pub threads: usize,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self { idle_after: Duration::from_secs(600), queue_limit: 1024, threads: 2 }
    }
}

/// Running calendars by provider, shared by the registry (which adds and
/// removes routes) and every `Calendars` (which reads them).
#[derive(Clone)]
struct Routes {
    table: Arc<RwLock<HashMap<ProviderId, CalendarHandle>>>,
    /// `last_used` is counted in milliseconds since this instant.
    epoch: Instant,
}

impl Routes {
    fn new() -> Self {
        Self { table: Arc::default(), epoch: Instant::now() }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ProviderId, CalendarHandle>> {
        // Every writer leaves the map whole, even one that panicked.
        self.table.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ProviderId, CalendarHandle>> {
        self.table.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A message admitted to `provider_id`'s running calendar, if it runs.
    fn admit(&self, provider_id: ProviderId) -> Option<Result<Admitted, CalendarError>> {
        let table = self.read();
        let handle = table.get(&provider_id).filter(|handle| handle.addr.connected())?;
        handle.last_used.store(self.now_ms(), Ordering::Release);
        // Counted while the read lock is held: see the module's doc.
        Some(handle.admit())
    }
}

pub struct CalendarRegistry {
    repo: Arc<dyn CalendarRepository>,
    events: Arc<dyn EventSink>,
    settings: RegistrySettings,
    /// Kept so the threads live as long as the registry.
    _arbiters: Vec<Arbiter>,
    handles: Vec<ArbiterHandle>,
    next_arbiter: usize,
    routes: Routes,
}

impl CalendarRegistry {
    /// Must be called inside an actix `System`.
    fn new(
        repo: Arc<dyn CalendarRepository>,
        events: Arc<dyn EventSink>,
        settings: RegistrySettings,
        routes: Routes,
    ) -> Self {
        let arbiters: Vec<Arbiter> = (0..settings.threads.max(1)).map(|_| Arbiter::new()).collect();
        let handles = arbiters.iter().map(Arbiter::handle).collect();
        Self { repo, events, settings, _arbiters: arbiters, handles, next_arbiter: 0, routes }
    }

    /// The running calendar of `provider_id`, started if it is not.
    fn calendar(&mut self, provider_id: ProviderId) -> CalendarHandle {
        let now = self.routes.now_ms();
        let mut table = self.routes.write();
        if let Some(handle) = table.get(&provider_id).filter(|handle| handle.addr.connected()) {
            handle.last_used.store(now, Ordering::Release);
            return handle.clone();
        }
        let arbiter = &self.handles[self.next_arbiter % self.handles.len()];
        self.next_arbiter += 1;
        let (repo, events, capacity) = (self.repo.clone(), self.events.clone(), self.settings.queue_limit);
        let addr =
            Supervisor::start_in_arbiter(arbiter, move |_| CalendarActor::new(provider_id, repo, events, capacity));
        let handle = CalendarHandle {
            addr,
            in_flight: Arc::new(AtomicUsize::new(0)),
            limit: capacity,
            last_used: Arc::new(AtomicU64::new(now)),
        };
        table.insert(provider_id, handle.clone());
        handle
    }

    /// Stops calendars idle for longer than `idle_after`. Under the write
    /// lock, so no sender is between finding a route and counting its
    /// message; once the route is gone no new message reaches the old
    /// calendar, and `Shutdown` queues behind any message already sent to it.
    fn sweep(&mut self) {
        let idle_after = u64::try_from(self.settings.idle_after.as_millis()).unwrap_or(u64::MAX);
        let now = self.routes.now_ms();
        self.routes.write().retain(|_, handle| {
            let quiet_for = now.saturating_sub(handle.last_used.load(Ordering::Acquire));
            let idle = quiet_for >= idle_after && handle.in_flight.load(Ordering::Acquire) == 0;
            if idle {
                handle.addr.do_send(Shutdown);
            }
            !idle
        });
    }
}

impl Actor for CalendarRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let period = (self.settings.idle_after / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
        ctx.run_interval(period, |registry, _| registry.sweep());
    }
}

/// A route to one calendar, with admission control: past `limit` requests
/// in flight it answers [`CalendarError::Overloaded`] at once instead of
/// queueing without bound.
#[derive(Clone)]
pub struct CalendarHandle {
    addr: Addr<CalendarActor>,
    in_flight: Arc<AtomicUsize>,
    limit: usize,
    /// When a message was last routed here (see [`Routes::now_ms`]).
    last_used: Arc<AtomicU64>,
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl CalendarHandle {
    pub async fn send<M, R>(&self, msg: M) -> Result<R, CalendarError>
    where
        M: Message<Result = Result<R, CalendarError>> + Send + 'static,
        R: Send + 'static,
        CalendarActor: Handler<Traced<M>>,
    {
        self.admit()?.send(msg).await
    }

    /// Counts one more message in flight, or answers overloaded.
    fn admit(&self) -> Result<Admitted, CalendarError> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(CalendarError::Overloaded);
        }
        Ok(Admitted { addr: self.addr.clone(), _in_flight: InFlight(self.in_flight.clone()) })
    }
}

/// A message counted in flight to a calendar (until it is answered).
struct Admitted {
    addr: Addr<CalendarActor>,
    _in_flight: InFlight,
}

impl Admitted {
    async fn send<M, R>(self, msg: M) -> Result<R, CalendarError>
    where
        M: Message<Result = Result<R, CalendarError>> + Send + 'static,
        R: Send + 'static,
        CalendarActor: Handler<Traced<M>>,
    {
        self.addr
            .send(Traced { message: msg, span: tracing::Span::current() })
            .await
            .map_err(|_| CalendarError::Unavailable("the calendar is restarting; please retry".into()))?
    }
}

#[derive(Message)]
#[rtype(result = "CalendarHandle")]
struct GetCalendar(ProviderId);

impl Handler<GetCalendar> for CalendarRegistry {
    type Result = actix::MessageResult<GetCalendar>;
    fn handle(&mut self, GetCalendar(provider_id): GetCalendar, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(self.calendar(provider_id))
    }
}

/// The front door to all calendars of this node.
#[derive(Clone)]
pub struct Calendars {
    registry: Addr<CalendarRegistry>,
    routes: Routes,
}

impl Calendars {
    /// Starts the registry on the current arbiter. Call once per process
    /// (not per HTTP worker).
    pub fn start(repo: Arc<dyn CalendarRepository>, events: Arc<dyn EventSink>, settings: RegistrySettings) -> Self {
        let routes = Routes::new();
        let registry = CalendarRegistry::new(repo, events, settings, routes.clone()).start();
        Self { registry, routes }
    }

    /// Sends `msg` to provider `provider_id`'s calendar, starting it if needed.
    pub async fn send<M, R>(&self, provider_id: ProviderId, msg: M) -> Result<R, CalendarError>
    where
        M: Message<Result = Result<R, CalendarError>> + Send + 'static,
        R: Send + 'static,
        CalendarActor: Handler<Traced<M>>,
    {
        match self.routes.admit(provider_id) {
            Some(admitted) => admitted?.send(msg).await,
            // Not running here yet: the registry starts it.
            None => self.calendar(provider_id).await?.send(msg).await,
        }
    }

    async fn calendar(&self, provider_id: ProviderId) -> Result<CalendarHandle, CalendarError> {
        let found = self.registry.send(GetCalendar(provider_id)).await;
        found.map_err(|_| CalendarError::Unavailable("the calendar registry is down".into()))
    }

    /// After a schedule, service or rules change: the calendar, if it runs,
    /// reloads (one not running loads fresh data when it starts). Queued
    /// before anything sent after this returns; traced under the caller's span.
    pub fn refresh(&self, provider_id: ProviderId) {
        if let Some(handle) = self.routes.read().get(&provider_id) {
            handle.addr.do_send(Traced { message: Reload, span: tracing::Span::current() });
        }
    }

    /// A booking changed on another node: this node's calendar, if it runs,
    /// takes in that booking ([`super::messages::ApplyBooking`]). Queued
    /// before anything sent after this returns.
    pub fn apply(&self, provider_id: ProviderId, booking_id: crate::domain::BookingId) {
        if let Some(handle) = self.routes.read().get(&provider_id) {
            let message = super::messages::ApplyBooking(booking_id);
            handle.addr.do_send(Traced { message, span: tracing::Span::current() });
        }
    }

    /// After a gap in cross-node events: every running calendar reloads.
    pub fn refresh_all(&self) {
        for handle in self.routes.read().values() {
            handle.addr.do_send(Traced { message: Reload, span: tracing::Span::current() });
        }
    }

    /// For tests of supervision and overload.
    #[cfg(feature = "test-faults")]
    pub async fn inject_fault(&self, provider_id: ProviderId, fault: super::messages::Fault) {
        if let Ok(handle) = self.calendar(provider_id).await {
            let _ = handle.addr.send(super::messages::InjectFault(fault)).await;
        }
    }

    /// How many calendars run on this node.
    pub fn running(&self) -> usize {
        self.routes.read().len()
    }
}
