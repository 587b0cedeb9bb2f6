//! The WebSocket protocol (DESIGN §7), as plain data: client frames parsed and
//! validated, server frames rendered to JSON text once.

use actors::domain::{ServiceId, UserId};
use bytestring::ByteString;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::json;

use crate::views::{BookingView, SlotView};

/// Largest client frame accepted; real ones are ~150 bytes.
pub const MAX_FRAME_BYTES: usize = 4 * 1024;
/// Watches one session may hold at once.
pub const MAX_WATCHES: usize = 16;
/// Longest date range one watch may cover (inclusive days).
pub const MAX_WATCH_DAYS: i32 = 31;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Watch {
        provider: String,
        service: ServiceId,
        from: Date,
        to: Date,
    },
    Unwatch {
        provider: String,
        service: ServiceId,
        from: Date,
        to: Date,
    },
    /// Sign the session in: it hears the user's waitlist offers, and — a
    /// provider's, unless `feed` is `false` — their booking feed.
    Auth {
        token: String,
        #[serde(default)]
        feed: Option<bool>,
    },
}

/// What a session is watching: one service of one provider over a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatchKey {
    pub service: ServiceId,
    pub from: Date,
    pub to: Date,
}

impl WatchKey {
    /// Whether any of `dates` falls inside this watch.
    pub fn touches(&self, dates: &[Date]) -> bool {
        dates.iter().any(|d| *d >= self.from && *d <= self.to)
    }
}

/// A frame the server refuses, with the status it would have over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub detail: String,
}

impl Refusal {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Refusal { status, detail: detail.into() }
    }
}

/// Parses and validates one text frame.
pub fn parse(text: &str) -> Result<ClientMessage, Refusal> {
    let message: ClientMessage =
        serde_json::from_str(text).map_err(|e| Refusal::new(400, format!("unreadable message: {e}")))?;
    if let ClientMessage::Watch { from, to, .. } | ClientMessage::Unwatch { from, to, .. } = &message {
        if to < from {
            return Err(Refusal::new(422, "to must not be before from"));
        }
        if (*to - *from).get_days() > MAX_WATCH_DAYS {
            return Err(Refusal::new(422, format!("watch at most {MAX_WATCH_DAYS} days at a time")));
        }
    }
    Ok(message)
}

pub fn slots(provider: &str, key: &WatchKey, slots: &[SlotView]) -> ByteString {
    let frame = json!({ "type": "slots", "provider": provider, "service": key.service,
        "from": key.from.to_string(), "to": key.to.to_string(), "slots": slots });
    ByteString::from(frame.to_string())
}

pub fn booking(event: actors::calendar::BookingEventKind, booking: &BookingView) -> ByteString {
    ByteString::from(json!({ "type": "booking", "event": event, "booking": booking }).to_string())
}

pub fn error(refusal: &Refusal) -> ByteString {
    ByteString::from(json!({ "type": "error", "status": refusal.status, "detail": refusal.detail }).to_string())
}

/// A waitlist offer (see `crate::waitlist`): the slot, and what to show of it.
pub struct Offer<'a> {
    pub entry: uuid::Uuid,
    pub provider: &'a str,
    pub provider_name: &'a str,
    pub service: ServiceId,
    pub service_name: &'a str,
    pub date: Date,
    /// The provider's IANA zone: `start` and `end` carry its offset; the
    /// Mini App names whose clock that is (and the device's beside it).
    pub timezone: &'a str,
    pub start: String,
    pub end: String,
}

pub fn offer(offer: &Offer<'_>) -> ByteString {
    let frame = json!({ "type": "offer", "entry": offer.entry, "provider": offer.provider,
        "provider_name": offer.provider_name, "service": offer.service, "service_name": offer.service_name,
        "date": offer.date.to_string(), "timezone": offer.timezone, "start": offer.start, "end": offer.end });
    ByteString::from(frame.to_string())
}

pub fn authenticated(user: UserId, provider: Option<&str>) -> ByteString {
    ByteString::from(json!({ "type": "authenticated", "user": user, "provider": provider }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_client_messages() {
        let watch = parse(
            r#"{"type":"watch","provider":"anna","service":"01a20fcd-3cf8-748d-b7ff-4cf464e749f0","from":"2027-06-01","to":"2027-06-07"}"#,
        );
        assert!(matches!(watch, Ok(ClientMessage::Watch { .. })));
        assert!(matches!(parse(r#"{"type":"auth","token":"x"}"#), Ok(ClientMessage::Auth { .. })));
    }

    #[test]
    fn refuses_bad_frames_with_a_status() {
        for (text, status) in [
            ("not json", 400),
            (r#"{"type":"dance"}"#, 400),
            (r#"{"type":"auth"}"#, 400),
            (r#"{"type":"watch","provider":"a","service":"x","from":"2027-06-01","to":"2027-06-02"}"#, 400),
            (
                r#"{"type":"watch","provider":"a","service":"01a20fcd-3cf8-748d-b7ff-4cf464e749f0","from":"2027-06-09","to":"2027-06-02"}"#,
                422,
            ),
            (
                r#"{"type":"watch","provider":"a","service":"01a20fcd-3cf8-748d-b7ff-4cf464e749f0","from":"2027-06-01","to":"2027-09-02"}"#,
                422,
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().status, status, "{text}");
        }
    }

    #[test]
    fn a_watch_is_touched_by_dates_inside_it() {
        let key = WatchKey {
            service: ServiceId(uuid::Uuid::nil()),
            from: jiff::civil::date(2027, 6, 1),
            to: jiff::civil::date(2027, 6, 7),
        };
        assert!(key.touches(&[jiff::civil::date(2027, 6, 7)]));
        assert!(!key.touches(&[jiff::civil::date(2027, 6, 8), jiff::civil::date(2027, 5, 31)]));
    }
}
