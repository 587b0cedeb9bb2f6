//! A WebSocket client text frame (`/ws`): watch, unwatch, auth. An accepted
//! watch covers a sane range and survives a round trip through JSON; a
//! refused frame carries an HTTP-like status and a reason.
#![no_main]

use justbookme::fuzzing::{ClientMessage, MAX_FRAME_BYTES, MAX_WATCH_DAYS, parse_ws_frame};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// The frame a client would send for `message`, written by hand (the
/// server never sends client messages, so it has no serializer for them).
fn frame(message: &ClientMessage) -> String {
    let (kind, provider, service, from, to) = match message {
        ClientMessage::Auth { token } => return json!({ "type": "auth", "token": token }).to_string(),
        ClientMessage::Watch { provider, service, from, to } => ("watch", provider, service, from, to),
        ClientMessage::Unwatch { provider, service, from, to } => ("unwatch", provider, service, from, to),
    };
    let (service, from, to) = (service.to_string(), from.to_string(), to.to_string());
    json!({ "type": kind, "provider": provider, "service": service, "from": from, "to": to }).to_string()
}

fuzz_target!(|data: &[u8]| {
    // The session refuses longer messages and non-UTF-8 text before parsing.
    if data.len() > MAX_FRAME_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_ws_frame(text) {
        Ok(message) => {
            if let ClientMessage::Watch { from, to, .. } | ClientMessage::Unwatch { from, to, .. } = &message {
                assert!(from <= to, "a watch ending before it starts: {text:?}");
                assert!((*to - *from).get_days() <= MAX_WATCH_DAYS, "a watch too long: {text:?}");
            }
            let again = parse_ws_frame(&frame(&message)).expect("an accepted message, written again, is accepted");
            assert_eq!(again, message, "the round trip changed {text:?}");
        }
        Err(refusal) => {
            assert!(matches!(refusal.status, 400 | 422), "refused with status {}", refusal.status);
            assert!(!refusal.detail.is_empty(), "refused without a reason");
        }
    }
});
