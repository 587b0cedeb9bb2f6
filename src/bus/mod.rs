//! The live-event bus. Calendars publish committed changes here; the
//! WebSocket sessions and the bot subscribe. In-process by default
//! (a tokio broadcast channel); the Redis bridge for clusters builds on it.

use actors::calendar::{CalendarEvent, EventSink};
use tokio::sync::broadcast;

/// Events a slow subscriber may fall behind by before it starts losing them
/// (it is told, via `RecvError::Lagged`, and resyncs).
const CAPACITY: usize = 4096;

pub struct LocalBus {
    sender: broadcast::Sender<CalendarEvent>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0 }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CalendarEvent> {
        self.sender.subscribe()
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventSink for LocalBus {
    fn publish(&self, event: CalendarEvent) {
        // No subscriber is not an error: nobody is watching right now.
        let _ = self.sender.send(event);
    }
}
