//! The cluster half of the bus: every local event is published on one Redis
//! channel, and every other node's events are brought in.
//!
//! The subscription uses a dedicated connection (pub/sub cannot share a
//! pooled one). When it drops, it reconnects with backoff and resubscribes;
//! because events published meanwhile are gone, every running calendar then
//! reloads and every live view gets a fresh snapshot ([`LiveEvent::Resync`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use actors::calendar::Calendars;
use deadpool_redis::Pool;
use futures_util::StreamExt;
use redis::RedisResult;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{LiveEvent, LocalBus};

pub const CHANNEL: &str = "justbookme:events";
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The node that published it, so it does not deliver its own events twice.
    origin: String,
    event: LiveEvent,
}

pub struct RedisBridge;

impl RedisBridge {
    /// Starts the publisher and the subscriber on the current runtime.
    pub fn start(
        client: redis::Client,
        pool: Pool,
        node_id: String,
        bus: Arc<LocalBus>,
        calendars: Calendars,
        outbound: mpsc::Receiver<LiveEvent>,
    ) {
        actix_web::rt::spawn(publish(pool, node_id.clone(), outbound, bus.overflowed()));
        actix_web::rt::spawn(subscribe(client, node_id, bus, calendars));
    }
}

async fn publish(pool: Pool, origin: String, mut outbound: mpsc::Receiver<LiveEvent>, overflowed: Arc<AtomicBool>) {
    while let Some(mut event) = outbound.recv().await {
        // Events were dropped while the queue was full: instead of this one,
        // everyone reloads everything (which covers this one too).
        if overflowed.swap(false, Ordering::AcqRel) {
            event = LiveEvent::Resync;
        }
        let Ok(payload) = serde_json::to_string(&Envelope { origin: origin.clone(), event }) else { continue };
        let sent = async {
            let mut conn = pool.get().await?;
            anyhow::Ok(redis::cmd("PUBLISH").arg(CHANNEL).arg(&payload).query_async::<i64>(&mut conn).await?)
        };
        match tokio::time::timeout(Duration::from_secs(1), sent).await {
            Ok(Ok(_)) => {}
            // Other nodes resync when their subscription comes back; this node
            // already delivered the event locally.
            Ok(Err(error)) => tracing::warn!(%error, "event not published to Redis"),
            Err(_) => tracing::warn!("event not published to Redis: timed out"),
        }
    }
}

async fn subscribe(client: redis::Client, origin: String, bus: Arc<LocalBus>, calendars: Calendars) {
    let mut backoff = Duration::from_millis(100);
    loop {
        // Bounded: a connect into a cut link would otherwise wait for TCP's
        // own SYN timeout (minutes), long after the link healed.
        match within_connect_timeout("connect", client.get_async_pubsub()).await {
            Ok(mut pubsub) => match within_connect_timeout("subscribe", pubsub.subscribe(CHANNEL)).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    tracing::info!("subscribed to Redis events");
                    // Whatever was published while we were away is lost.
                    calendars.refresh_all();
                    bus.set_hears_others(true);
                    bus.deliver_locally(LiveEvent::Resync);
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(payload) = message.get_payload::<String>() else { continue };
                        let Ok(envelope) = serde_json::from_str::<Envelope>(&payload) else { continue };
                        if envelope.origin == origin {
                            continue;
                        }
                        // Another node changed this calendar: ours takes the
                        // change in first (the booking, or a reload for new
                        // settings), so that live views computed next see it.
                        // A resync (it lost events) reloads them all.
                        match (&envelope.event, envelope.event.provider_id()) {
                            // An offer or an account changes no calendar.
                            (LiveEvent::Offer { .. } | LiveEvent::Account { .. }, _) => {}
                            // A booking: ours takes in that one booking. The
                            // availability event that follows it needs nothing more.
                            (LiveEvent::Booking { provider_id, booking_id, .. }, _) => {
                                calendars.apply(*provider_id, *booking_id)
                            }
                            (LiveEvent::Availability { .. }, _) => {}
                            (_, Some(provider_id)) => calendars.refresh(provider_id),
                            (_, None) => calendars.refresh_all(),
                        }
                        bus.deliver_locally(envelope.event);
                    }
                    bus.set_hears_others(false);
                    tracing::warn!("Redis subscription lost; reconnecting");
                }
                Err(error) => tracing::warn!(%error, "Redis subscribe failed"),
            },
            Err(error) => tracing::warn!(%error, "Redis unreachable for events"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// `what` within [`CONNECT_TIMEOUT`], else an I/O error saying it timed out.
async fn within_connect_timeout<T>(what: &'static str, step: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
    tokio::time::timeout(CONNECT_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, what, "timed out".to_owned()))))
}
