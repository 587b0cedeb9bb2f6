//! `LiveHub`: one per node. Knows which session watches which provider,
//! service and dates, and who follows which provider's booking feed; turns
//! bus events into frames.
//!
//! One `slots` frame is computed per distinct watch (provider, service,
//! dates) and shared by its sessions; a new watcher gets its own first
//! snapshot. Computations are numbered per watch, so a late older result is
//! never shown after a newer one. A session whose bounded mailbox is full is
//! too slow to follow: it is dropped and told to close.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, MessageResponse, Recipient, fut, prelude::SendError,
};
use actors::calendar::{CalendarError, Calendars, GetSlots};
use actors::domain::{ProviderId, ServiceId, UserId};
use bytestring::ByteString;
use jiff::Timestamp;

use super::protocol::{self, Refusal, WatchKey};
use crate::{
    bus::LiveEvent,
    store::Store,
    views::{BookingView, SlotView},
};

/// Frames for a session, and the order to close.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum Outbound {
    Frame(ByteString),
    /// The hub dropped this watch (its provider or service is gone).
    Unwatched {
        provider_id: ProviderId,
        key: WatchKey,
    },
    Close(String),
    /// The node is stopping: close with 1001 (going away) so the client
    /// reconnects, to another node or to this one once it is back.
    GoingAway,
}

/// What session `.0` tells the hub.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FromSession(pub u64, pub SessionSays);

pub enum SessionSays {
    Connect(Recipient<Outbound>),
    Disconnect,
    Watch {
        provider_id: ProviderId,
        slug: String,
        key: WatchKey,
    },
    Unwatch {
        provider_id: ProviderId,
        key: WatchKey,
    },
    /// The session belongs to the provider: it gets their booking feed.
    JoinFeed(ProviderId),
    /// The session signed in as this user: it gets their waitlist offers.
    Identify(UserId),
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct BusEvent(pub LiveEvent);

#[derive(Debug, Clone, Copy, PartialEq, Eq, MessageResponse)]
pub struct HubStats {
    pub sessions: usize,
    pub watches: usize,
}

#[derive(Message)]
#[rtype(result = "HubStats")]
pub struct Stats;

/// Every session is told to close with 1001 (going away) and forgotten; the
/// answer is how many were told. Sent once when the node stops.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

struct Session {
    out: Recipient<Outbound>,
    watches: HashSet<(ProviderId, WatchKey)>,
    feed: Option<ProviderId>,
    user: Option<UserId>,
}

#[derive(Default)]
struct Watchers {
    /// Each session, with the number of the newest computation it was sent.
    sessions: HashMap<u64, u64>,
    /// Number of the newest computation started for this watch.
    started: u64,
    /// The newest frame computed, its computation's number and when: a new
    /// watcher gets it as its first frame while nothing changed since (and
    /// it is younger than [`FIRST_FRAME_MAX_AGE`]) instead of a computation
    /// of its own — a thousand phones opening one provider's page cost one.
    latest: Option<(u64, Instant, ByteString)>,
}

/// How old a kept frame may be to serve as a new watcher's first: slots also
/// change with the clock (the minimum notice), which no event announces.
const FIRST_FRAME_MAX_AGE: Duration = Duration::from_secs(5);

struct ProviderWatch {
    slug: String,
    keys: HashMap<WatchKey, Watchers>,
}

pub struct LiveHub {
    calendars: Calendars,
    store: Arc<dyn Store>,
    sessions: HashMap<u64, Session>,
    providers: HashMap<ProviderId, ProviderWatch>,
    feeds: HashMap<ProviderId, HashSet<u64>>,
}

impl LiveHub {
    pub fn new(calendars: Calendars, store: Arc<dyn Store>) -> Self {
        LiveHub { calendars, store, sessions: HashMap::new(), providers: HashMap::new(), feeds: HashMap::new() }
    }

    /// Starts a fresh computation of one watch's slots, for all its sessions
    /// or (a first snapshot) for one.
    fn refresh(&mut self, provider_id: ProviderId, key: WatchKey, only: Option<u64>, ctx: &mut Context<Self>) {
        let Some(watchers) = self.providers.get_mut(&provider_id).and_then(|p| p.keys.get_mut(&key)) else { return };
        watchers.started += 1;
        let seq = watchers.started;
        let calendars = self.calendars.clone();
        let message =
            GetSlots { service_id: key.service, from: key.from, to: key.to, now: Timestamp::now(), moving: None };
        let compute = fut::wrap_future::<_, Self>(async move { calendars.send(provider_id, message).await });
        ctx.spawn(compute.map(move |result, hub, _| hub.deliver_slots(provider_id, key, seq, only, result)));
    }

    fn deliver_slots(
        &mut self,
        provider_id: ProviderId,
        key: WatchKey,
        seq: u64,
        only: Option<u64>,
        result: Result<actors::calendar::Availability, CalendarError>,
    ) {
        let Some(provider) = self.providers.get_mut(&provider_id) else { return };
        let Some(watchers) = provider.keys.get_mut(&key) else { return };
        let mut recipients = Vec::new();
        for (id, newest) in watchers.sessions.iter_mut() {
            if only.is_none_or(|only| only == *id) && *newest < seq {
                *newest = seq;
                recipients.push(*id);
            }
        }
        if recipients.is_empty() {
            return;
        }
        let frame = match result {
            Ok(availability) => {
                let views: Vec<SlotView> =
                    availability.slots.iter().map(|slot| SlotView::new(&availability.time_zone, slot)).collect();
                let frame = protocol::slots(&provider.slug, &key, &views);
                if watchers.latest.as_ref().is_none_or(|(kept, _, _)| *kept < seq) {
                    watchers.latest = Some((seq, Instant::now(), frame.clone()));
                }
                frame
            }
            Err(CalendarError::NotFound(what)) => {
                // Retired (or gone): nothing is offered any more — to those
                // who were shown slots, an empty frame first, so no screen
                // keeps showing the old ones; then why; and the watch ends. A
                // first snapshot (`only`) just gets why.
                let empty = only.is_none().then(|| protocol::slots(&provider.slug, &key, &[]));
                let detail = match what {
                    "service" => "service not found: it is no longer offered".to_owned(),
                    other => format!("{other} not found"),
                };
                let frame = protocol::error(&Refusal::new(404, detail));
                for id in recipients {
                    if let Some(empty) = &empty {
                        self.send(id, empty.clone());
                    }
                    self.send(id, frame.clone());
                    if let Some(session) = self.sessions.get(&id) {
                        session.out.do_send(Outbound::Unwatched { provider_id, key });
                    }
                    self.drop_watch(id, provider_id, key);
                }
                return;
            }
            Err(error) => protocol::error(&Refusal::new(503, error.to_string())),
        };
        for id in recipients {
            self.send(id, frame.clone());
        }
    }

    fn send(&mut self, id: u64, frame: ByteString) {
        let Some(session) = self.sessions.get(&id) else { return };
        match session.out.try_send(Outbound::Frame(frame)) {
            Ok(()) => {}
            Err(SendError::Full(_)) => {
                tracing::info!(session = id, "live session too slow; disconnecting it");
                let out = session.out.clone();
                self.remove(id);
                out.do_send(Outbound::Close("too slow to keep up; reconnect".into()));
            }
            Err(SendError::Closed(_)) => self.remove(id),
        }
    }

    fn drop_watch(&mut self, id: u64, provider_id: ProviderId, key: WatchKey) {
        if let Some(session) = self.sessions.get_mut(&id) {
            session.watches.remove(&(provider_id, key));
        }
        if let Some(provider) = self.providers.get_mut(&provider_id) {
            if let Some(watchers) = provider.keys.get_mut(&key) {
                watchers.sessions.remove(&id);
                if watchers.sessions.is_empty() {
                    provider.keys.remove(&key);
                }
            }
            if provider.keys.is_empty() {
                self.providers.remove(&provider_id);
            }
        }
    }

    fn remove(&mut self, id: u64) {
        let Some(session) = self.sessions.remove(&id) else { return };
        for (provider_id, key) in session.watches {
            self.drop_watch(id, provider_id, key);
        }
        if let Some(provider_id) = session.feed {
            self.leave_feed(id, provider_id);
        }
    }

    /// Takes a session off a provider's feed; an empty feed goes, so that
    /// booking events of that provider no longer read anything for nobody.
    fn leave_feed(&mut self, id: u64, provider_id: ProviderId) {
        if let Some(feed) = self.feeds.get_mut(&provider_id) {
            feed.remove(&id);
            if feed.is_empty() {
                self.feeds.remove(&provider_id);
            }
        }
    }

    /// Recomputes, for all their sessions, the watches of `provider` (or of
    /// every provider) that `touched` picks.
    fn refresh_where(
        &mut self,
        provider: Option<ProviderId>,
        touched: impl Fn(&WatchKey) -> bool,
        ctx: &mut Context<Self>,
    ) {
        let providers: Vec<_> = match provider {
            Some(id) => self.providers.get_key_value(&id).into_iter().collect(),
            None => self.providers.iter().collect(),
        };
        let picked: Vec<(ProviderId, WatchKey)> = providers
            .into_iter()
            .flat_map(|(id, p)| p.keys.keys().filter(|key| touched(key)).map(move |key| (*id, *key)))
            .collect();
        for (provider_id, key) in picked {
            self.refresh(provider_id, key, None, ctx);
        }
    }
}

impl LiveHub {
    /// Shows a waitlist offer to the user's sessions on this node, if any.
    fn offer(
        &mut self,
        user_id: UserId,
        entry: uuid::Uuid,
        provider_id: ProviderId,
        service_id: ServiceId,
        start: Timestamp,
        ctx: &mut Context<Self>,
    ) {
        if !self.sessions.values().any(|s| s.user == Some(user_id)) {
            return;
        }
        let store = self.store.clone();
        let read = fut::wrap_future::<_, Self>(async move {
            Ok::<_, crate::store::StoreError>((
                store.provider(provider_id).await?,
                store.service(provider_id, service_id).await?,
            ))
        });
        ctx.spawn(read.map(move |result, hub, _| {
            let Ok((Some(provider), Some(service))) = result else { return };
            let zone = &provider.profile.timezone;
            let end = start + jiff::SignedDuration::from_secs(service.fields.timing.duration_secs());
            let frame = protocol::offer(&protocol::Offer {
                entry,
                provider: provider.profile.slug.as_str(),
                provider_name: &provider.profile.display_name,
                service: service_id,
                service_name: &service.fields.name,
                date: zone.date_of(start),
                timezone: zone.name(),
                start: zone.format(start),
                end: zone.format(end),
            });
            let mine: Vec<u64> =
                hub.sessions.iter().filter(|(_, s)| s.user == Some(user_id)).map(|(id, _)| *id).collect();
            for id in mine {
                hub.send(id, frame.clone());
            }
        }));
    }
}

impl Actor for LiveHub {
    type Context = Context<Self>;
}

impl Handler<FromSession> for LiveHub {
    type Result = ();
    fn handle(&mut self, FromSession(id, says): FromSession, ctx: &mut Context<Self>) {
        match says {
            SessionSays::Connect(out) => {
                self.sessions.insert(id, Session { out, watches: HashSet::new(), feed: None, user: None });
            }
            SessionSays::Disconnect => self.remove(id),
            SessionSays::Watch { provider_id, slug, key } => {
                let Some(session) = self.sessions.get_mut(&id) else { return };
                session.watches.insert((provider_id, key));
                let provider =
                    self.providers.entry(provider_id).or_insert_with(|| ProviderWatch { slug, keys: HashMap::new() });
                let watchers = provider.keys.entry(key).or_default();
                // The first frame of a watch is a fresh snapshot, for this
                // session: the newest one computed if nothing changed since.
                let current = watchers
                    .latest
                    .as_ref()
                    .filter(|(seq, at, _)| *seq == watchers.started && at.elapsed() < FIRST_FRAME_MAX_AGE);
                match current.map(|(seq, _, frame)| (*seq, frame.clone())) {
                    Some((seq, frame)) => {
                        watchers.sessions.insert(id, seq);
                        self.send(id, frame);
                    }
                    None => {
                        watchers.sessions.entry(id).or_insert(0);
                        self.refresh(provider_id, key, Some(id), ctx);
                    }
                }
            }
            SessionSays::Unwatch { provider_id, key } => self.drop_watch(id, provider_id, key),
            SessionSays::Identify(user) => {
                if let Some(session) = self.sessions.get_mut(&id) {
                    session.user = Some(user);
                }
            }
            SessionSays::JoinFeed(provider_id) => {
                let Some(session) = self.sessions.get_mut(&id) else { return };
                if let Some(previous) = session.feed.replace(provider_id) {
                    self.leave_feed(id, previous);
                }
                self.feeds.entry(provider_id).or_default().insert(id);
            }
        }
        metrics::gauge!("live_sessions").set(self.sessions.len() as f64);
    }
}

impl Handler<BusEvent> for LiveHub {
    type Result = ();
    fn handle(&mut self, BusEvent(event): BusEvent, ctx: &mut Context<Self>) {
        match event {
            LiveEvent::Availability { provider_id, dates } => {
                self.refresh_where(Some(provider_id), |key| key.touches(&dates), ctx);
            }
            LiveEvent::Booking { provider_id, booking_id, event } => {
                if !self.feeds.contains_key(&provider_id) {
                    return;
                }
                let store = self.store.clone();
                let read = fut::wrap_future::<_, Self>(async move { store.booking(provider_id, booking_id).await });
                ctx.spawn(read.map(move |result, hub, _| {
                    let Ok(Some(details)) = result else { return };
                    let frame = protocol::booking(event, &BookingView::from(&details));
                    let followers: Vec<u64> = hub.feeds.get(&provider_id).into_iter().flatten().copied().collect();
                    for id in followers {
                        hub.send(id, frame.clone());
                    }
                }));
            }
            // Hours, services or rules: any date and any service may differ.
            LiveEvent::Settings { provider_id } => self.refresh_where(Some(provider_id), |_| true, ctx),
            LiveEvent::Resync => self.refresh_where(None, |_| true, ctx),
            LiveEvent::Offer { user_id, entry_id, provider_id, service_id, start } => {
                self.offer(user_id, entry_id, provider_id, service_id, start, ctx);
            }
            // For the session caches (`crate::session`), not for what sockets show.
            LiveEvent::Account { .. } => {}
        }
    }
}

impl Handler<CloseAll> for LiveHub {
    type Result = usize;
    fn handle(&mut self, _: CloseAll, _: &mut Context<Self>) -> usize {
        let sessions = std::mem::take(&mut self.sessions);
        self.providers.clear();
        self.feeds.clear();
        metrics::gauge!("live_sessions").set(0.0);
        for session in sessions.values() {
            // `do_send` ignores the mailbox bound: the close must arrive even
            // at a session whose queue is full.
            session.out.do_send(Outbound::GoingAway);
        }
        sessions.len()
    }
}

impl Handler<Stats> for LiveHub {
    type Result = HubStats;
    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> HubStats {
        HubStats { sessions: self.sessions.len(), watches: self.sessions.values().map(|s| s.watches.len()).sum() }
    }
}
