//! Integration tests: the real server on a random port, spoken to over HTTP
//! like a client would, on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests need `TEST_POSTGRES_URL` (an admin URL; each test creates
//! and drops its own database). Without it they are skipped *loudly*, and
//! under `CI=true` a skip is a failure.
//!
//! Browser tests (`browser/`) need Debian's `chromium` and `chromium-driver`;
//! without them they are skipped just as loudly, and fail under `CI=true`.

mod helpers;

mod access_log;
mod api_auth;
mod api_bookings;
mod api_ops;
mod api_provider;
mod api_slots;
mod authz_matrix;
mod backup;
mod bot;
mod browser;
mod calendar;
mod calendar_feed;
mod classes;
mod client_card;
mod cluster;
mod consistency;
mod erasure;
mod fake_telegram;
mod faults;
mod figures;
mod hostile;
mod hostile_input;
mod limits;
mod live;
mod privacy;
mod provider_books;
mod requests;
mod schemathesis;
mod sessions;
mod shutdown;
mod store_contract;
mod support;
mod third_parties;
mod time_zones;
mod waitlist;
mod web_app;
