//! The registry: starts a provider's calendar on first use (supervised, on one
//! of a few dedicated arbiter threads), routes to it by provider id, and stops
//! calendars that stayed idle. `Calendars` is the cheap, cloneable front the
//! HTTP layer uses.

use crate::domain::ProviderId;
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
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

struct Entry {
    handle: CalendarHandle,
    last_used: Instant,
}

pub struct CalendarRegistry {
    repo: Arc<dyn CalendarRepository>,
    events: Arc<dyn EventSink>,
    settings: RegistrySettings,
    /// Kept so the threads live as long as the registry.
    _arbiters: Vec<Arbiter>,
    handles: Vec<ArbiterHandle>,
    next_arbiter: usize,
    calendars: HashMap<ProviderId, Entry>,
}

impl CalendarRegistry {
    /// Must be called inside an actix `System`.
    pub fn new(repo: Arc<dyn CalendarRepository>, events: Arc<dyn EventSink>, settings: RegistrySettings) -> Self {
        let arbiters: Vec<Arbiter> = (0..settings.threads.max(1)).map(|_| Arbiter::new()).collect();
        let handles = arbiters.iter().map(Arbiter::handle).collect();
        Self { repo, events, settings, _arbiters: arbiters, handles, next_arbiter: 0, calendars: HashMap::new() }
    }

    fn entry(&mut self, provider_id: ProviderId) -> &mut Entry {
        if !self.calendars.get(&provider_id).is_some_and(|e| e.handle.addr.connected()) {
            let arbiter = &self.handles[self.next_arbiter % self.handles.len()];
            self.next_arbiter += 1;
            let (repo, events, capacity) = (self.repo.clone(), self.events.clone(), self.settings.queue_limit);
            let addr =
                Supervisor::start_in_arbiter(arbiter, move |_| CalendarActor::new(provider_id, repo, events, capacity));
            let handle = CalendarHandle { addr, in_flight: Arc::new(AtomicUsize::new(0)), limit: capacity };
            self.calendars.insert(provider_id, Entry { handle, last_used: Instant::now() });
        }
        self.calendars.get_mut(&provider_id).expect("inserted above")
    }

    /// Stops calendars idle for longer than `idle_after`. Addresses are only
    /// handed out by this actor and used at once, so after the sweep removes
    /// an entry no new message reaches the old calendar; `Shutdown` queues
    /// behind any message already sent to it.
    fn sweep(&mut self) {
        let idle_after = self.settings.idle_after;
        self.calendars.retain(|_, entry| {
            let idle = entry.last_used.elapsed() >= idle_after && entry.handle.in_flight.load(Ordering::Acquire) == 0;
            if idle {
                entry.handle.addr.do_send(Shutdown);
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
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(CalendarError::Overloaded);
        }
        let _in_flight = InFlight(self.in_flight.clone());
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
        let entry = self.entry(provider_id);
        entry.last_used = Instant::now();
        actix::MessageResult(entry.handle.clone())
    }
}

/// Tells one running calendar, or (`None`) every one, to reload (one not running loads fresh data when it starts);
/// the reload is traced under the span of whoever asked (a settings write, a bus resync).
#[derive(Message)]
#[rtype(result = "()")]
struct Refresh(Option<ProviderId>, tracing::Span);

impl Handler<Refresh> for CalendarRegistry {
    type Result = ();
    fn handle(&mut self, Refresh(only, span): Refresh, _: &mut Context<Self>) {
        let reload = |entry: &Entry| entry.handle.addr.do_send(Traced { message: Reload, span: span.clone() });
        match only {
            Some(provider_id) => self.calendars.get(&provider_id).into_iter().for_each(reload),
            None => self.calendars.values().for_each(reload),
        }
    }
}

#[derive(Message)]
#[rtype(result = "usize")]
struct RunningCount;

impl Handler<RunningCount> for CalendarRegistry {
    type Result = usize;
    fn handle(&mut self, _: RunningCount, _: &mut Context<Self>) -> usize {
        self.calendars.len()
    }
}

/// The front door to all calendars of this node.
#[derive(Clone)]
pub struct Calendars {
    registry: Addr<CalendarRegistry>,
}

impl Calendars {
    /// Starts the registry on the current arbiter. Call once per process
    /// (not per HTTP worker).
    pub fn start(repo: Arc<dyn CalendarRepository>, events: Arc<dyn EventSink>, settings: RegistrySettings) -> Self {
        Self { registry: CalendarRegistry::new(repo, events, settings).start() }
    }

    /// Sends `msg` to provider `provider_id`'s calendar, starting it if needed.
    pub async fn send<M, R>(&self, provider_id: ProviderId, msg: M) -> Result<R, CalendarError>
    where
        M: Message<Result = Result<R, CalendarError>> + Send + 'static,
        R: Send + 'static,
        CalendarActor: Handler<Traced<M>>,
    {
        self.calendar(provider_id).await?.send(msg).await
    }

    async fn calendar(&self, provider_id: ProviderId) -> Result<CalendarHandle, CalendarError> {
        let found = self.registry.send(GetCalendar(provider_id)).await;
        found.map_err(|_| CalendarError::Unavailable("the calendar registry is down".into()))
    }

    /// After a schedule, service or rules change: the calendar reloads.
    pub async fn refresh(&self, provider_id: ProviderId) {
        let _ = self.registry.send(Refresh(Some(provider_id), tracing::Span::current())).await;
    }

    /// After a gap in cross-node events: every running calendar reloads.
    pub async fn refresh_all(&self) {
        let _ = self.registry.send(Refresh(None, tracing::Span::current())).await;
    }

    /// For tests of supervision and overload.
    #[cfg(feature = "test-faults")]
    pub async fn inject_fault(&self, provider_id: ProviderId, fault: super::messages::Fault) {
        if let Ok(handle) = self.calendar(provider_id).await {
            let _ = handle.addr.send(super::messages::InjectFault(fault)).await;
        }
    }

    /// How many calendars run on this node.
    pub async fn running(&self) -> usize {
        self.registry.send(RunningCount).await.unwrap_or(0)
    }
}
