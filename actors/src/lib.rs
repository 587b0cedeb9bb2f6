//! The Just Book Me core: the pure booking domain and (next) the actors that own
//! provider calendars.
//!
//! Nothing in this crate talks to a database, the network or a clock it was not
//! handed: every function takes "now" and the data it needs as arguments, so the
//! rules can be tested exhaustively and reused by any adapter.

pub mod calendar;
pub mod domain;
