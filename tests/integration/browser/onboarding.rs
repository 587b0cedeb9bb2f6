//! A new provider walks onboarding in the Mini App — profile, first service,
//! hours — gets a share link, and a client opening that link can book.

use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, spawn_app_with},
};

#[actix_web::test]
async fn a_provider_onboards_to_a_bookable_page() {
    // A fake Bot API, so the server learns its bot's username from getMe
    // (the share link is built from it).
    let telegram = FakeTelegram::start().await;
    let app = spawn_app_with(Backend::Sqlite, &[("TELEGRAM_API_URL", &telegram.url), ("DEV_LOGIN", "")]).await;
    let maria = TgUser { username: Some("maria_nails"), language_code: "ru", ..TgUser::new(8100, "Мария") };
    let Some(provider) = TelegramPhone::open(&app, maria, Theme::DARK, Launch::Menu).await else { return };

    provider.wait_for("#become-provider").await;
    let bytes = provider
        .eval(
            "const nav = performance.getEntriesByType('navigation')[0];
             const files = performance.getEntriesByType('resource').filter((r) => !r.name.includes('/api/'));
             return { page: nav.transferSize, files: files.map((r) => [r.name, r.transferSize, r.decodedBodySize]),
                      total: nav.transferSize + files.reduce((sum, r) => sum + r.transferSize, 0) };",
        )
        .await;
    eprintln!("FIGURE first screen transferred bytes (page + files, gzip, headers included): {bytes}");
    provider.screenshot("provider-home-dark").await;
    provider.click("#become-provider").await;

    // 1. Profile: the name comes from Telegram, the link name from the username.
    provider.wait_for("main[data-screen=\"onboarding\"]").await;
    assert_eq!(provider.eval("return document.querySelector('[name=slug]').value").await, "maria-nails");
    assert_eq!(provider.eval("return document.querySelector('[name=display_name]').value").await, "Мария");
    provider.fill("[name=\"business_name\"]", "Ногти у Марии").await;
    provider.fill("[name=\"contacts\"]", "+7 900 000-00-00").await;
    provider.screenshot("provider-onboarding-profile-dark").await;
    provider.check_screen().await;
    provider.press_main_button().await;

    // 2. The first service; a bad duration is refused next to its field.
    provider.wait_for("main[data-screen=\"onboarding-service\"]").await;
    provider.fill("[name=\"name\"]", "Маникюр").await;
    provider.fill("[name=\"duration_min\"]", "0").await;
    provider.press_main_button().await;
    provider.wait_for(".field[aria-invalid=\"true\"] [name=\"duration_min\"]").await;
    provider.fill("[name=\"duration_min\"]", "90").await;
    provider.fill("[name=\"price_minor\"]", "2500").await;
    provider.press_main_button().await;

    // 3. Hours: Monday to Friday are suggested; open Saturday too.
    provider.wait_for("main[data-screen=\"onboarding-hours\"]").await;
    provider.click("[name=\"day-6\"]").await;
    provider.click("[data-weekday=\"1\"] .link-btn").await; // a break on Mondays
    provider.screenshot("provider-onboarding-hours-dark").await;
    provider.check_screen().await;
    provider.press_main_button().await;

    // The workspace opens on the share link.
    let link = provider.text("#share-link").await;
    assert_eq!(link, "https://t.me/jstbk_bot?startapp=maria-nails");
    provider.screenshot("provider-settings-dark").await;
    provider.check_screen().await;
    let page = app.get("/api/providers/maria-nails", None).await;
    assert_eq!(page.ok()["business_name"], "Ногти у Марии");
    // What was saved, read back as the provider (signed in with the same initData).
    let signed_in =
        app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": provider.init_data() }))).await;
    let token = signed_in.ok()["token"].as_str().expect("token").to_owned();
    let schedule = app.get("/api/provider/schedule", Some(&token)).await;
    let weekly: Vec<(u64, String, String)> = schedule.ok()["weekly"]
        .as_array()
        .expect("weekly")
        .iter()
        .map(|w| (w["weekday"].as_u64().unwrap_or(0), w["start"].to_string(), w["end"].to_string()))
        .collect();
    let monday: Vec<_> = weekly.iter().filter(|w| w.0 == 1).map(|w| format!("{}-{}", w.1, w.2)).collect();
    assert_eq!(monday, ["\"10:00\"-\"14:00\"", "\"15:00\"-\"19:00\""], "the break cut an hour out of Monday");
    let days: std::collections::BTreeSet<u64> = weekly.iter().map(|w| w.0).collect();
    assert_eq!(days, [1, 2, 3, 4, 5, 6].into(), "Monday to Friday suggested, Saturday opened");

    // The provider keeps the week's agenda open.
    provider.click("[data-tab=\"agenda\"]").await;
    provider.click("[data-range=\"week\"]").await;
    provider.wait_for("#agenda .empty-state").await;

    // A client follows the link (Telegram hands the start parameter over).
    let ivan = TgUser::new(8101, "Ivan");
    let Some(client) = TelegramPhone::open(&app, ivan, Theme::LIGHT, Launch::Link("maria-nails")).await else { return };
    assert!(client.text("main[data-screen=\"provider\"] h1").await.contains("Ногти у Марии"));
    client.click("[data-service]").await;
    client.click(".slot").await;
    client.press_main_button().await;
    client.wait_for("main[data-screen=\"booked\"]").await;

    // The provider sees it arrive.
    provider.wait_for("#agenda [data-booking]").await;
    assert!(provider.text("#agenda [data-booking]").await.contains("Ivan"));
    provider.screenshot("provider-agenda-dark").await;

    client.close().await;
    provider.close().await;
}
