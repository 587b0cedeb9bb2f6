//! The WebSocket transport: one `WsSession` actor per connection
//! (actix-web-actors). Everything transport-specific lives in this file.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use actix::{Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Handler, StreamHandler, fut};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_actors::ws;
use actors::domain::ProviderId;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{
    hub::{FromSession, LiveHub, Outbound, SessionSays},
    protocol::{self, ClientMessage, MAX_FRAME_BYTES, MAX_WATCHES, Refusal, WatchKey},
};
use crate::{config::Heartbeat, session::SessionCache, store::Store};

/// Frames queued for one session before it counts as too slow.
const SESSION_QUEUE: usize = 64;

/// Messages refused in a row for their rate before the connection is closed
/// (1008): a client that keeps sending after its 429s is not listening.
const REFUSED_IN_A_ROW_BEFORE_CLOSE: u32 = 50;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// One clock for every session's rate limiter: a new one per session
/// calibrates itself (CPUID, which traps in a VM) — 3.6 % of the CPU while
/// 10,000 sessions connect (perf, `loadtest report` live rows).
static CLOCK: std::sync::LazyLock<governor::clock::DefaultClock> = std::sync::LazyLock::new(Default::default);

pub struct WsSession {
    id: u64,
    hub: Addr<LiveHub>,
    store: Arc<dyn Store>,
    sessions: Arc<SessionCache>,
    heartbeat: Heartbeat,
    last_heard: Instant,
    /// What this session watches, by slug as the client named it.
    watches: HashMap<(String, WatchKey), ProviderId>,
    /// A text message arriving in fragments (RFC 6455 §5.4), until its last
    /// one; bounded by the same limit as a single frame.
    fragments: Option<Vec<u8>>,
    /// `WS_MESSAGES_PER_SEC` for this connection (governor's GCRA, a burst of
    /// twice the rate): each message costs a store lookup or a hub message.
    rate: DefaultDirectRateLimiter,
    refused_in_a_row: u32,
}

impl WsSession {
    fn refuse(&self, ctx: &mut ws::WebsocketContext<Self>, refusal: Refusal) {
        ctx.text(protocol::error(&refusal));
    }

    /// Whether one more client message is within the rate; if not, it is
    /// answered 429, and after [`REFUSED_IN_A_ROW_BEFORE_CLOSE`] such answers
    /// in a row the connection is closed.
    fn within_rate(&mut self, ctx: &mut ws::WebsocketContext<Self>) -> bool {
        if self.rate.check().is_ok() {
            self.refused_in_a_row = 0;
            return true;
        }
        self.refused_in_a_row += 1;
        if self.refused_in_a_row >= REFUSED_IN_A_ROW_BEFORE_CLOSE {
            close(ctx, ws::CloseCode::Policy, "too many messages; slow down");
        } else {
            self.refuse(ctx, Refusal::new(429, "too many messages; this one was dropped"));
        }
        false
    }

    fn tell_hub(&self, says: SessionSays) {
        self.hub.do_send(FromSession(self.id, says));
    }

    /// Reassembles a fragmented text message; a binary one is refused once
    /// its last fragment arrived, one past the size limit at once, with a
    /// close (as an oversized frame is).
    fn on_fragment(&mut self, item: actix_http::ws::Item, ctx: &mut ws::WebsocketContext<Self>) {
        let (bytes, last) = match item {
            actix_http::ws::Item::FirstText(bytes) => {
                self.fragments = Some(Vec::new());
                (bytes, false)
            }
            actix_http::ws::Item::FirstBinary(_) => {
                self.fragments = None;
                return self.refuse(ctx, Refusal::new(400, "send JSON text frames"));
            }
            actix_http::ws::Item::Continue(bytes) => (bytes, false),
            actix_http::ws::Item::Last(bytes) => (bytes, true),
        };
        // Fragments of a refused binary message are dropped quietly.
        let Some(message) = self.fragments.as_mut() else { return };
        message.extend_from_slice(&bytes);
        if message.len() > MAX_FRAME_BYTES {
            self.fragments = None;
            let reason = format!("a message is at most {MAX_FRAME_BYTES} bytes");
            self.refuse(ctx, Refusal::new(400, reason.clone()));
            return close(ctx, ws::CloseCode::Size, reason);
        }
        if last && let Some(message) = self.fragments.take() {
            match String::from_utf8(message) {
                Ok(text) => self.on_text(&text, ctx),
                Err(_) => close(ctx, ws::CloseCode::Invalid, "a text message must be UTF-8"),
            }
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        if !self.within_rate(ctx) {
            return;
        }
        let message = match protocol::parse(text) {
            Ok(message) => message,
            Err(refusal) => return self.refuse(ctx, refusal),
        };
        match message {
            ClientMessage::Watch { provider, service, from, to } => {
                let key = WatchKey { service, from, to };
                if self.watches.contains_key(&(provider.clone(), key)) {
                    return;
                }
                if self.watches.len() >= MAX_WATCHES {
                    return self
                        .refuse(ctx, Refusal::new(422, format!("at most {MAX_WATCHES} watches per connection")));
                }
                let store = self.store.clone();
                let slug = provider.clone();
                let lookup = fut::wrap_future::<_, Self>(async move { store.provider_by_slug(&slug).await });
                // `wait`: frames of one session are handled in order.
                ctx.wait(lookup.map(move |result, session, ctx| match result {
                    Ok(Some(found)) => {
                        session.watches.insert((provider.clone(), key), found.id);
                        session.tell_hub(SessionSays::Watch { provider_id: found.id, slug: provider, key });
                    }
                    Ok(None) => session.refuse(ctx, Refusal::new(404, format!("no provider {provider:?}"))),
                    Err(_) => session.refuse(ctx, Refusal::new(503, "try again in a moment")),
                }));
            }
            ClientMessage::Unwatch { provider, service, from, to } => {
                let key = WatchKey { service, from, to };
                match self.watches.remove(&(provider, key)) {
                    Some(provider_id) => self.tell_hub(SessionSays::Unwatch { provider_id, key }),
                    None => self.refuse(ctx, Refusal::new(404, "not watching that")),
                }
            }
            ClientMessage::Auth { token, feed } => {
                let wants_feed = feed.unwrap_or(true);
                let (store, sessions) = (self.store.clone(), self.sessions.clone());
                let check = fut::wrap_future::<_, Self>(async move {
                    let Some(user) = sessions.user_for_token(store.as_ref(), &token).await? else {
                        return Ok(None);
                    };
                    let provider = store.provider_of_user(user.id).await?;
                    Ok::<_, crate::store::StoreError>(Some((user.id, provider)))
                });
                ctx.wait(check.map(move |result, session, ctx| match result {
                    Ok(Some((user, provider))) => {
                        session.tell_hub(SessionSays::Identify(user));
                        if let Some(provider) = provider.as_ref().filter(|_| wants_feed) {
                            session.tell_hub(SessionSays::JoinFeed(provider.id));
                        }
                        ctx.text(protocol::authenticated(user, provider.as_ref().map(|p| p.profile.slug.as_str())));
                    }
                    Ok(None) => session.refuse(ctx, Refusal::new(401, "the session is invalid or expired")),
                    Err(_) => session.refuse(ctx, Refusal::new(503, "try again in a moment")),
                }));
            }
        }
    }
}

/// Closes the connection with `code`, saying why, and ends the session.
fn close(ctx: &mut ws::WebsocketContext<WsSession>, code: ws::CloseCode, why: impl Into<String>) {
    ctx.close(Some(ws::CloseReason { code, description: Some(why.into()) }));
    ctx.stop();
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(SESSION_QUEUE);
        self.tell_hub(SessionSays::Connect(ctx.address().recipient()));
        let Heartbeat { interval, timeout } = self.heartbeat;
        ctx.run_interval(interval, move |session, ctx| {
            if session.last_heard.elapsed() > timeout {
                close(ctx, ws::CloseCode::Policy, "silent too long");
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.tell_hub(SessionSays::Disconnect);
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match item {
            Ok(ws::Message::Text(text)) => self.on_text(&text, ctx),
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Pong(_) | ws::Message::Nop) => {}
            Ok(ws::Message::Continuation(item)) => self.on_fragment(item, ctx),
            Ok(ws::Message::Binary(_)) => {
                if !self.within_rate(ctx) {
                    return;
                }
                self.refuse(ctx, Refusal::new(400, "send JSON text frames"));
            }
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(error) => {
                // Oversized or malformed frames: say why, then hang up.
                self.refuse(ctx, Refusal::new(400, error.to_string()));
                close(ctx, ws::CloseCode::Protocol, error.to_string());
            }
        }
    }
}

impl Handler<Outbound> for WsSession {
    type Result = ();
    fn handle(&mut self, msg: Outbound, ctx: &mut Self::Context) {
        match msg {
            Outbound::Frame(frame) => ctx.text(frame),
            Outbound::Unwatched { provider_id, key } => {
                self.watches.retain(|(_, watched), id| !(*watched == key && *id == provider_id));
            }
            Outbound::Close(reason) => close(ctx, ws::CloseCode::Again, reason),
            Outbound::GoingAway => close(ctx, ws::CloseCode::Away, "the server is restarting; reconnect"),
        }
    }
}

pub fn start(
    req: &HttpRequest,
    stream: web::Payload,
    hub: Addr<LiveHub>,
    store: Arc<dyn Store>,
    sessions: Arc<SessionCache>,
    heartbeat: Heartbeat,
    messages_per_sec: u32,
) -> Result<HttpResponse, actix_web::Error> {
    let per_sec = NonZeroU32::new(messages_per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = per_sec.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
    let session = WsSession {
        id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
        hub,
        store,
        sessions,
        heartbeat,
        last_heard: Instant::now(),
        watches: HashMap::new(),
        fragments: None,
        rate: RateLimiter::direct_with_clock(Quota::per_second(per_sec).allow_burst(burst), CLOCK.clone()),
        refused_in_a_row: 0,
    };
    ws::WsResponseBuilder::new(session, req, stream).frame_size(MAX_FRAME_BYTES).start()
}
