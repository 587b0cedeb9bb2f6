//! Live availability over WebSocket: the hub (one per node) fans bus events
//! out to sessions; the session actors speak the protocol of DESIGN §7.
//!
//! `ws.rs` is the only file that knows the WebSocket transport
//! (actix-web-actors, deprecated upstream): a move to actix-ws touches it alone.

pub mod hub;
pub mod protocol;
pub mod ws;

pub use hub::LiveHub;
