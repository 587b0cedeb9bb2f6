//! Integration tests: the real server on a random port, spoken to over HTTP
//! like a client would, on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests need `TEST_POSTGRES_URL` (an admin URL; each test creates
//! and drops its own database). Without it they are skipped *loudly*, and
//! under `CI=true` a skip is a failure.

mod helpers;

mod api_auth;
mod api_bookings;
mod api_ops;
mod api_provider;
mod api_slots;
mod bot;
mod calendar;
mod cluster;
mod fake_telegram;
mod live;
mod privacy;
mod store_contract;
