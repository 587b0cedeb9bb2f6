//! The Mini App across a dropped socket: the server closes every session
//! with 1001 (what a restart does, through the hub's `CloseAll`); while the
//! app is reconnecting its slots screen offers nothing it cannot vouch for,
//! and once back it draws the fresh snapshot — without a booking made
//! meanwhile. Also: a provider's change of hours and a retired service reach
//! a watching client live.
//!
//! The window between the drop and the reconnect is a few hundred
//! milliseconds, too short to look at through chromedriver. The test holds
//! it open instead: it wraps the page's `WebSocket` so that, while
//! `window.__jbmHold` is set, every attempt dials a path that is no
//! WebSocket (and fails like a lost network); releasing the hold and firing
//! the browser's `online` event lets the app back in at once.

use actix::Addr;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use justbookme::live::{
    LiveHub,
    hub::{CloseAll, Stats},
};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, TestApp, every_day, spawn_app};

/// Installs the hold (once per page) and sets it: from now on, reconnects fail.
const HOLD: &str = "
    if (!window.__jbmSockets) {
      const Real = window.WebSocket;
      window.__jbmSockets = [];
      window.WebSocket = class extends Real {
        constructor(url, protocols) {
          super(window.__jbmHold ? url.replace(/\\/ws$/, '/not-a-socket') : url, protocols);
          window.__jbmSockets.push(this);
        }
      };
    }
    window.__jbmHold = true;
    return window.__jbmSockets.length;";

/// The sockets dialled so far (through the hold's wrapper).
const DIALLED: &str = "window.__jbmSockets.length";

/// No attempt is in flight: the newest socket is closed (so the `online`
/// event below reconnects at once rather than waiting for it).
const SETTLED: &str = "window.__jbmSockets.at(-1)?.readyState === WebSocket.CLOSED";

/// Lifts the hold and tells the app the network is back.
const RELEASE: &str = "window.__jbmHold = false; window.dispatchEvent(new Event('online')); return null";

fn live_is(state: &str) -> String {
    format!("document.getElementById('live-status')?.dataset.live === '{state}'")
}

/// Slot buttons shown, and how many of them can be chosen.
const SLOT_COUNTS: &str = "const all = [...document.querySelectorAll('#slots .slot')];
     return [all.length, all.filter((b) => !b.disabled && b.getAttribute('aria-disabled') !== 'true').length];";

/// Tomorrow in the provider's time zone (the day the phones pick).
fn tomorrow() -> String {
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date").to_string()
}

/// What a server restart does to sockets: every one closed with 1001.
async fn close_all(hub: &Addr<LiveHub>) -> usize {
    hub.send(CloseAll).await.expect("the hub answers")
}

/// A client's phone on the slots screen of `slug`'s service, `day` chosen,
/// once the watch is live.
async fn on_slots_screen(app: &TestApp, user: TgUser, slug: &str, day: &str) -> Option<TelegramPhone> {
    let phone = TelegramPhone::open(app, user, Theme::LIGHT, Launch::Link(slug)).await?;
    phone.click("[data-service]").await;
    phone.click(&format!("[data-date=\"{day}\"]")).await;
    phone.wait_for(&format!("[data-slot^=\"{day}T10:00\"]")).await;
    phone.wait_until(&live_is("live")).await;
    Some(phone)
}

#[actix_web::test]
async fn while_reconnecting_no_stale_slot_is_offered_and_the_fresh_snapshot_is_drawn_after() {
    const SLUG: &str = "vera-massage";
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Vera", "slot_step_min": 60, "min_notice_min": 0 });
    let (_, service) = app.provider(9201, SLUG, profile, every_day("09:00", "18:00")).await;
    let day = tomorrow();
    let ten = format!("[data-slot^=\"{day}T10:00\"]");
    let eleven = format!("[data-slot^=\"{day}T11:00\"]");

    let alice = TgUser::new(8201, "Alice");
    let Some(a) = on_slots_screen(&app, alice, SLUG, &day).await else { return };
    let vera = TgUser::new(9201, "Vera");
    let Some(provider) = TelegramPhone::open(&app, vera, Theme::LIGHT, Launch::Menu).await else { return };
    provider.click("#workspace").await;
    provider.click("[data-range=\"week\"]").await;
    provider.wait_for("#agenda .empty-state").await;
    provider.wait_until(&live_is("live")).await;

    // Alice picks 10:00: the MainButton offers it.
    a.click(&ten).await;
    let button = a.main_button().await.expect("the MainButton shows once a slot is chosen");
    assert!(button.text.contains("10:00"), "{}", button.text);
    let ten_start = a.eval(&format!("return document.querySelector('{ten}').dataset.slot")).await;
    let ten_start = ten_start.as_str().expect("the slot's start").to_owned();
    a.eval("window.__sameDocument = true; return null").await;

    // The server "restarts": every socket closed with 1001, reconnects held.
    for phone in [&a, &provider] {
        phone.eval(HOLD).await;
    }
    assert!(close_all(&app.hub).await >= 2, "both phones had a socket");

    // Alice sees the hint; no slot can be chosen, and the MainButton is gone.
    a.wait_until(&live_is("reconnecting")).await;
    assert_eq!(status_text(&a).await, "Reconnecting…", "the short hint");
    a.wait_for("#slots-paused").await;
    let (shown, selectable) = slot_counts(&a).await;
    assert!(shown > 0 && selectable == 0, "{shown} slots shown, {selectable} selectable while reconnecting");
    a.wait_until_client("document.getElementById('tg-main-button').hidden").await;
    // A tap on a dimmed slot does nothing.
    a.eval(&format!("document.querySelector('{eleven}').click(); return null")).await;
    let pressed = a.eval(&format!("return document.querySelector('{eleven}').getAttribute('aria-pressed')")).await;
    assert_eq!(pressed, "false", "a dimmed slot cannot be chosen");
    assert_eq!(a.main_button().await, None, "no MainButton for a slot that may be stale");
    a.screenshot("client-slots-reconnecting-light").await;
    a.check_screen().await;
    // The provider's agenda says the same.
    provider.wait_until(&live_is("reconnecting")).await;
    assert_eq!(status_text(&provider).await, "Reconnecting…");

    // It keeps trying (and, held, failing).
    let dialled = a.eval(&format!("return {DIALLED}")).await.as_u64().unwrap_or_default();
    a.wait_until(&format!("{DIALLED} >= {} && {SETTLED}", dialled + 1)).await;

    // Meanwhile Boris books 10:00 over HTTP; Alice's socket is down and hears nothing.
    let boris = app.dev_sign_in(8202, "Boris").await;
    app.book(&boris, SLUG, &service, &ten_start).await.ok();
    let (shown, selectable) = slot_counts(&a).await;
    assert!(shown > 0 && selectable == 0, "still paused: {shown} shown, {selectable} selectable");
    assert!(a.eval(&format!("return Boolean(document.querySelector('{ten}'))")).await == true);

    // The network is back: the fresh snapshot replaces what was shown.
    for phone in [&a, &provider] {
        phone.wait_until(SETTLED).await;
        phone.eval(RELEASE).await;
    }
    a.wait_until(&live_is("live")).await;
    a.wait_gone(&ten).await;
    a.wait_gone("#slots-paused").await;
    a.wait_until(&format!("!document.querySelector('{eleven}').disabled")).await;
    let (shown, selectable) = slot_counts(&a).await;
    assert!(shown > 0 && shown == selectable, "{shown} slots shown, {selectable} selectable once live again");
    // The chosen 10:00 is gone, and the app says so.
    a.wait_until("document.getElementById('toast').textContent.includes('taken')").await;
    assert_eq!(a.main_button().await, None, "nothing chosen any more");
    assert_eq!(a.eval("return window.__sameDocument === true").await, true, "no reload happened");
    a.screenshot("client-slots-reconnected-light").await;
    // The provider's agenda caught up on the booking made while it was away.
    provider.wait_until(&live_is("live")).await;
    provider.wait_for("#agenda [data-booking]").await;
    assert!(provider.text("#agenda [data-booking]").await.contains("Boris"));
    // Each phone holds two: its screen's, and the app's own that hears
    // waitlist offers on any screen (offers.js). Both came back; none is left over.
    let mut stats = app.hub.send(Stats).await.expect("the hub answers");
    for _ in 0..50 {
        if stats.sessions >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stats = app.hub.send(Stats).await.expect("the hub answers");
    }
    assert_eq!(stats.sessions, 4, "two sockets per phone again, none left over: {stats:?}");

    // Another restart, not held: the app comes back by itself (jittered
    // backoff, at most 300 ms for the first attempt), and a booking made
    // around the reconnect is not shown either way.
    a.click(&eleven).await;
    a.main_button().await.expect("11:00 offered");
    let eleven_start = a.eval(&format!("return document.querySelector('{eleven}').dataset.slot")).await;
    let eleven_start = eleven_start.as_str().expect("the slot's start").to_owned();
    assert!(close_all(&app.hub).await >= 2);
    app.book(&boris, SLUG, &service, &eleven_start).await.ok();
    a.wait_gone(&eleven).await;
    a.wait_until(&live_is("live")).await;
    a.wait_for(&format!("[data-slot^=\"{day}T12:00\"]:not(:disabled)")).await;

    a.close().await;
    provider.close().await;
}

/// The live status as written (the heading shows it in capitals).
async fn status_text(phone: &TelegramPhone) -> String {
    let text = phone.eval("return document.getElementById('live-status').textContent").await;
    text.as_str().unwrap_or_default().to_owned()
}

async fn slot_counts(phone: &TelegramPhone) -> (u64, u64) {
    let counts = phone.eval(SLOT_COUNTS).await;
    (counts[0].as_u64().unwrap_or_default(), counts[1].as_u64().unwrap_or_default())
}

/// Needs the server to send every watcher a fresh `slots` frame when the
/// provider changes hours (DESIGN §8 "Consistency").
#[actix_web::test]
async fn a_day_the_provider_closes_vanishes_live_from_a_watching_client() {
    const SLUG: &str = "ivan-tutor";
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Ivan", "slot_step_min": 60, "min_notice_min": 0 });
    let hours = every_day("09:00", "18:00");
    let (token, _) = app.provider(9202, SLUG, profile, hours.clone()).await;
    let day = tomorrow();
    let on_day = format!("[data-slot^=\"{day}T\"]");

    let Some(a) = on_slots_screen(&app, TgUser::new(8203, "Alice"), SLUG, &day).await else { return };
    a.eval("window.__sameDocument = true; return null").await;

    let mut closed = hours;
    closed["overrides"] = json!([{ "date": day, "closed": true }]);
    app.request("PUT", "/api/provider/schedule", Some(&token), Some(closed)).await.ok();

    a.wait_gone(&on_day).await;
    a.wait_until(&format!("document.querySelector('[data-date=\"{day}\"] .count').textContent === '–'")).await;
    assert_eq!(a.eval("return window.__sameDocument === true").await, true, "no reload happened");
    a.wait_until(&live_is("live")).await;
    a.close().await;
}

/// Needs the server to answer a retired service's watchers with an empty
/// `slots` frame and a 404 error frame.
#[actix_web::test]
async fn a_retired_service_is_no_longer_offered_to_a_watching_client() {
    const SLUG: &str = "olga-yoga";
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Olga", "slot_step_min": 60, "min_notice_min": 0 });
    let (token, service) = app.provider(9203, SLUG, profile, every_day("09:00", "18:00")).await;
    let day = tomorrow();

    let Some(a) = on_slots_screen(&app, TgUser::new(8204, "Alice"), SLUG, &day).await else { return };
    a.click(&format!("[data-slot^=\"{day}T10:00\"]")).await;
    a.main_button().await.expect("10:00 offered");

    app.request("DELETE", &format!("/api/provider/services/{service}"), Some(&token), None).await.ok();

    a.wait_until(&live_is("gone")).await;
    assert_eq!(status_text(&a).await, "No longer offered", "not \"reconnecting\"");
    assert!(a.text("#slots").await.contains("no longer offered"));
    a.wait_gone("#slots .slot").await;
    a.wait_until_client("document.getElementById('tg-main-button').hidden").await;
    assert!(
        !a.eval("return document.getElementById('toast').textContent").await.as_str().unwrap_or("").contains("taken")
    );
    a.check_screen().await;
    a.close().await;
}
