//! Browser end-to-end tests: the Mini App in Debian's Chromium, inside a fake
//! Telegram client, clicked through like a phone user would.
//!
//! Each [`TelegramPhone`] is a Chromium of its own (through a chromedriver of
//! its own, on a port it picks) showing `telegram_client.html`: a page that
//! plays Telegram Web's side of the Mini App protocol, so the Mini App gets
//! its launch parameters, theme, MainButton, BackButton and popups exactly
//! as Telegram hands them over, through Telegram's own script.
//!
//! Browser tests run on SQLite only: they are about the UI, and the HTTP
//! suites already run everything the UI calls on both backends.
//!
//! They need `chromium` and `chromium-driver` (Debian's packages); without
//! them they are skipped *loudly*, and under `CI=true` a skip is a failure.
//! Screenshots land in `target/screenshots/`.

mod client;
mod driver;
mod figures;
mod phone;

mod harness;
mod live_booking;
mod onboarding;
mod outside_telegram;
mod privacy_rights;
mod provider_books;
mod reconnect;
mod requests;
mod reschedule;
mod smoke;
mod support;
mod two_zones;
mod waitlist;
mod workspace;

pub use client::{Launch, TgUser, Theme};
pub use phone::{BottomButton, TelegramPhone};
