//! Two phones on one provider's page: A watches the free slots while B books
//! one — A's slot disappears without a reload; B cancels — it comes back. The
//! provider's agenda, open on a third phone, shows the booking as it happens.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, spawn_app};

const SLUG: &str = "anna-studio";
const PROVIDER_TG_ID: i64 = 9001;

/// Tomorrow in the provider's time zone (the day both phones pick).
fn tomorrow() -> String {
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date").to_string()
}

#[actix_web::test]
async fn a_slot_booked_in_one_window_vanishes_live_from_another_and_returns_when_cancelled() {
    let app = spawn_app(Backend::Sqlite).await;
    // The provider is set up through the API (that is not what this test is
    // about); the phones below sign in with Telegram initData only.
    let profile = json!({ "display_name": "Anna Petrova", "business_name": "Anna's Studio",
        "contacts": "+49 30 1234567 · Torstraße 1", "slot_step_min": 60, "min_notice_min": 0 });
    app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let day = tomorrow();
    let ten = format!("[data-slot^=\"{day}T10:00\"]");

    let alice = TgUser { username: Some("alice"), ..TgUser::new(8001, "Alice") };
    let Some(a) = TelegramPhone::open(&app, alice, Theme::LIGHT, Launch::Link(SLUG)).await else { return };
    let boris = TgUser { language_code: "ru", ..TgUser::new(8002, "Борис") };
    let Some(b) = TelegramPhone::open(&app, boris, Theme::DARK, Launch::Link(SLUG)).await else { return };
    let anna = TgUser::new(PROVIDER_TG_ID, "Anna");
    let Some(provider) = TelegramPhone::open(&app, anna, Theme::LIGHT, Launch::Menu).await else { return };

    // Both clients: the provider's page, the service, tomorrow, 10:00.
    for (phone, theme) in [(&a, "light"), (&b, "dark")] {
        phone.wait_for("main[data-screen=\"provider\"] [data-service]").await;
        phone.screenshot(&format!("client-provider-{theme}")).await;
        phone.check_screen().await;
        phone.click("[data-service]").await;
        phone.click(&format!("[data-date=\"{day}\"]")).await;
        phone.wait_for(&ten).await;
    }
    assert!(b.text("h1").await.contains("Visit"), "the service's name heads the slots screen");
    assert!(a.eval("return document.documentElement.lang").await == "en");
    assert!(b.eval("return document.documentElement.lang").await == "ru", "Telegram said Boris speaks Russian");
    let figures = a
        .eval(
            "const m = (n) => performance.getEntriesByName(n)[0]?.startTime;
             const request = performance.getEntriesByType('resource').find((r) => r.name.includes('/slots?'));
             return { shown_ms: m('jbm:slots-shown') - m('jbm:slots-requested'), http_ms: request?.duration,
                      bytes: request?.transferSize };",
        )
        .await;
    eprintln!(
        "FIGURE time to first slots (service tapped → slots drawn; the slots request alone), loopback: {figures}"
    );
    a.screenshot("client-slots-light").await;
    a.check_screen().await;

    // The provider watches the week's agenda.
    provider.click("#workspace").await;
    provider.click("[data-range=\"week\"]").await;
    provider.wait_for("#agenda .empty-state").await;

    // A marker that a reload would wipe out.
    a.eval("window.__sameDocument = true; return null").await;

    // B picks 10:00: Telegram's MainButton offers it; B taps it.
    b.click(&ten).await;
    let button = b.main_button().await.expect("the MainButton shows once a slot is chosen");
    assert!(button.text.contains("10:00"), "{}", button.text);
    b.screenshot("client-slot-chosen-dark").await;
    b.press_main_button().await;
    b.wait_for("main[data-screen=\"booked\"]").await;
    b.screenshot("client-booked-dark").await;
    b.check_screen().await;

    // A's 10:00 disappears, live; 11:00 stays.
    a.wait_gone(&ten).await;
    a.wait_for(&format!("[data-slot^=\"{day}T11:00\"]")).await;
    assert_eq!(a.eval("return window.__sameDocument === true").await, true, "no reload happened");

    // The provider's agenda got it from the provider feed.
    provider.wait_for("#agenda [data-booking]").await;
    assert!(provider.text("#agenda [data-booking]").await.contains("Борис"), "the client's name, for the provider");
    provider.screenshot("provider-agenda-light").await;
    provider.check_screen().await;

    // B: my bookings → cancel → Telegram's confirm popup → OK.
    b.press_main_button().await;
    b.click("main[data-screen=\"my-bookings\"] [data-booking] [data-action=\"cancel\"]").await;
    b.screenshot("client-my-bookings-dark").await;

    assert!(b.popup_text().await.contains("Visit"), "the popup names what is cancelled");
    b.answer_popup("ok").await;
    b.wait_for("[data-booking][data-status=\"cancelled\"]").await;

    // A's 10:00 is back, still without a reload.
    a.wait_for(&ten).await;
    assert_eq!(a.eval("return window.__sameDocument === true").await, true, "no reload happened");
    a.screenshot("client-slot-returned-light").await;
    provider.wait_for("#agenda [data-booking][data-status=\"cancelled\"]").await;

    let haptics = a.events().await.into_iter().filter(|e| e == "web_app_trigger_haptic_feedback").count();
    assert!(haptics >= 2, "selections buzz ({haptics} haptic events)");
    let events = b.events().await;
    assert!(events.iter().any(|e| e == "web_app_setup_back_button"), "BackButton used for navigation: {events:?}");

    a.close().await;
    b.close().await;
    provider.close().await;
}
