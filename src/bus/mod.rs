//! The live-event bus. Calendars publish committed changes; the WebSocket hub
//! (and, next, the bot) subscribe. In-process by default (a tokio broadcast
//! channel); with `REDIS_URL`, [`redis::RedisBridge`] also carries every event
//! to the other nodes and brings theirs in.

pub mod redis;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use actors::calendar::{BookingEventKind, CalendarEvent, Calendars, EventSink};
use actors::domain::{BookingId, ProviderId, ServiceId, UserId};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::store::ChangeListener;

/// Events a slow subscriber may fall behind by before it starts losing them
/// (it is told, via `RecvError::Lagged`, and resyncs).
const CAPACITY: usize = 4096;

/// What the bus carries, on this node and between nodes. Only ids: whoever
/// needs details reads them from the database, so no personal data travels
/// through Redis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// Free slots of the provider may have changed on these local dates.
    Availability { provider_id: ProviderId, dates: Vec<Date> },
    /// A booking of the provider changed (`event`: created, cancelled, …).
    Booking { provider_id: ProviderId, booking_id: BookingId, event: BookingEventKind },
    /// The provider's settings (profile, rules, services, hours, overrides)
    /// changed: every node's calendar reloads, every watcher of the provider
    /// gets fresh slots.
    Settings { provider_id: ProviderId },
    /// Events may have been lost (a Redis reconnect, a lagging subscriber):
    /// everyone should refresh what they show.
    Resync,
    /// A slot a waitlisted user waits for freed up: their open sessions, on
    /// whichever node, are shown it. Published once, by the node that saw
    /// it free (see `crate::waitlist`).
    Offer { user_id: UserId, entry_id: Uuid, provider_id: ProviderId, service_id: ServiceId, start: Timestamp },
    /// An account (`None`: every account) or its sessions changed: every
    /// node's session cache forgets it (see `crate::session`).
    Account { user_id: Option<UserId> },
}

impl LiveEvent {
    fn from_calendar(event: CalendarEvent) -> Self {
        match event {
            CalendarEvent::AvailabilityChanged { provider_id, dates } => LiveEvent::Availability { provider_id, dates },
            CalendarEvent::Booking { kind, booking } => {
                LiveEvent::Booking { provider_id: booking.provider_id, booking_id: booking.id, event: kind }
            }
        }
    }

    /// The provider whose calendar this event is about.
    pub fn provider_id(&self) -> Option<ProviderId> {
        match self {
            LiveEvent::Availability { provider_id, .. }
            | LiveEvent::Booking { provider_id, .. }
            | LiveEvent::Settings { provider_id }
            | LiveEvent::Offer { provider_id, .. } => Some(*provider_id),
            LiveEvent::Resync | LiveEvent::Account { .. } => None,
        }
    }
}

pub struct LocalBus {
    sender: broadcast::Sender<LiveEvent>,
    /// This node's own events only (not those heard from other nodes): what
    /// happened here is acted on once, here (waitlist offers).
    origin: broadcast::Sender<LiveEvent>,
    /// Other nodes' events only, and the bridge's resyncs: what this node
    /// did not do itself and must catch up on (the memos).
    heard: broadcast::Sender<LiveEvent>,
    /// Set when a Redis bridge runs: local events are also sent there.
    outbound: Option<mpsc::Sender<LiveEvent>>,
    /// An event could not be queued for Redis (the queue was full): the
    /// bridge tells the other nodes to resync once it catches up.
    overflowed: Arc<AtomicBool>,
    /// Whether this node hears the other nodes' events now: always alone;
    /// with Redis, while the bridge's subscription is up.
    hears_others: Arc<AtomicBool>,
}

/// Events queued for Redis before the bus stops queueing and, instead,
/// has the other nodes resync (Redis slow or away for that long).
pub const OUTBOUND_QUEUE: usize = 4096;

impl LocalBus {
    pub fn new(outbound: Option<mpsc::Sender<LiveEvent>>) -> Self {
        let alone = outbound.is_none();
        Self {
            sender: broadcast::channel(CAPACITY).0,
            origin: broadcast::channel(CAPACITY).0,
            heard: broadcast::channel(CAPACITY).0,
            outbound,
            overflowed: Arc::default(),
            hears_others: Arc::new(AtomicBool::new(alone)),
        }
    }

    /// The bridge says when its subscription is up or down.
    pub(crate) fn set_hears_others(&self, up: bool) {
        self.hears_others.store(up, Ordering::Release);
    }

    /// Whether this node hears the other nodes' events now (always, alone).
    pub fn hears_others(&self) -> bool {
        self.hears_others.load(Ordering::Acquire)
    }

    /// Set when an event was dropped for Redis; the bridge reads and clears it.
    pub fn overflowed(&self) -> Arc<AtomicBool> {
        self.overflowed.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// This node's own events, never another node's.
    pub fn subscribe_origin(&self) -> broadcast::Receiver<LiveEvent> {
        self.origin.subscribe()
    }

    /// Other nodes' events (and resyncs), never this node's own.
    pub fn subscribe_heard(&self) -> broadcast::Receiver<LiveEvent> {
        self.heard.subscribe()
    }

    /// Publishes on this node and, with a Redis bridge, to the other nodes.
    pub fn publish(&self, event: LiveEvent) {
        if let Some(outbound) = &self.outbound
            && outbound.try_send(event.clone()).is_err()
            && !self.overflowed.swap(true, Ordering::AcqRel)
        {
            tracing::warn!("the queue to Redis is full; the other nodes will be told to resync");
        }
        let _ = self.origin.send(event.clone());
        // No subscriber is not an error: nobody is watching right now.
        let _ = self.sender.send(event);
    }

    /// Delivers what another node published (or a resync) to this node's
    /// subscribers only.
    pub fn deliver_locally(&self, event: LiveEvent) {
        let _ = self.heard.send(event.clone());
        let _ = self.sender.send(event);
    }
}

impl EventSink for LocalBus {
    fn publish(&self, event: CalendarEvent) {
        LocalBus::publish(self, LiveEvent::from_calendar(event));
    }

    fn may_miss_events(&self) -> bool {
        !self.hears_others()
    }
}

/// Announces committed settings and account writes (see [`crate::store::Store::announcing_to`]).
pub struct ChangeAnnouncer {
    pub calendars: Calendars,
    pub bus: Arc<LocalBus>,
    pub sessions: Arc<crate::session::SessionCache>,
    pub providers: Arc<crate::memo::ProviderMemo>,
}

#[async_trait]
impl ChangeListener for ChangeAnnouncer {
    async fn account_changed(&self, user_id: Option<UserId>) {
        // This node's next request already asks the database.
        self.sessions.forget(user_id);
        self.bus.publish(LiveEvent::Account { user_id });
    }

    async fn settings_changed(&self, provider_id: ProviderId) {
        // This node's calendar reloads before the event reaches the hub, so
        // the slots it then computes already follow the new settings. Other
        // nodes do the same on receipt (see `redis::subscribe`).
        self.calendars.refresh(provider_id);
        self.providers.forget_where(move |provider| provider.id == provider_id);
        self.bus.publish(LiveEvent::Settings { provider_id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn availability() -> LiveEvent {
        LiveEvent::Availability {
            provider_id: ProviderId(uuid::Uuid::nil()),
            dates: vec![jiff::civil::date(2027, 6, 1)],
        }
    }

    #[test]
    fn a_full_queue_to_redis_flags_a_resync_instead_of_growing() {
        let (sender, mut queued) = mpsc::channel(2);
        let bus = LocalBus::new(Some(sender));
        let mut local = bus.subscribe();
        for _ in 0..5 {
            bus.publish(availability());
        }
        assert!(bus.overflowed().load(Ordering::Acquire), "the dropped events are remembered as a resync");
        assert_eq!((queued.try_recv().ok(), queued.try_recv().ok()), (Some(availability()), Some(availability())));
        assert!(queued.try_recv().is_err(), "the queue held its bound");
        for _ in 0..5 {
            assert_eq!(local.try_recv().ok(), Some(availability()), "this node's own delivery loses nothing");
        }
    }
}
