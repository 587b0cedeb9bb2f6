//! The Just Book Me server: adapters (HTTP, storage, Telegram) around the pure
//! domain and actors of the `actors` crate, wired together in [`startup`].

pub mod access_log;
pub mod account;
pub mod backup;
pub mod bus;
pub mod client_address;
pub mod config;
pub mod export;
pub mod http;
pub mod ical;
pub mod letters;
pub mod live;
pub mod policy;
pub mod rate_limit;
pub mod retention;
pub mod session;
pub mod startup;
pub mod stats;
pub mod store;
pub mod telegram;
pub mod views;
