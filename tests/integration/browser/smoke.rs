//! The Mini App opens in Telegram: the launch parameters reach Telegram's
//! script inside the frame, the app tells Telegram it is ready, signs in with
//! the signed initData and shows its home screen.

use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, spawn_app};

#[actix_web::test]
async fn the_mini_app_opens_in_telegram_and_signs_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = TgUser { username: Some("anna_i"), ..TgUser::new(7001, "Anna") };
    let Some(phone) = TelegramPhone::open(&app, user, Theme::LIGHT, Launch::Menu).await else { return };

    phone.wait_for("main#app[data-screen]").await;
    let frame = phone
        .eval("return [document.title, window.Telegram.WebApp.initData, document.getElementById('app').dataset.screen]")
        .await;
    assert_eq!(frame[0], "Just Book Me");
    // The handover itself: Telegram's script parsed exactly the signed string
    // out of the URL's hash.
    assert_eq!(frame[1], phone.init_data());
    assert_eq!(frame[2], "home", "signed in with the initData (not a sign-in failure)");
    assert!(phone.text("main#app h1").await.contains("Anna"), "greets the user Telegram named");

    let events = phone.events().await;
    assert_eq!(events.first().map(String::as_str), Some("iframe_ready"), "{events:?}");
    for expected in ["web_app_ready", "web_app_expand", "web_app_request_theme", "web_app_request_viewport"] {
        assert!(events.iter().any(|e| e == expected), "{expected} in {events:?}");
    }
    phone.screenshot("smoke-light").await;

    // Privacy and data rights, one tap from home.
    phone.click("#privacy").await;
    phone.click("#export-data").await;
    phone.wait_until("document.getElementById('export-json')?.textContent.includes('\"telegram_id\": 7001')").await;
    phone.press_back().await;
    phone.wait_for("#export-data").await;
    phone.click("[name=\"processing_restricted\"]").await;
    phone.wait_until("document.getElementById('toast').classList.contains('shown')").await;
    phone.screenshot("privacy-light").await;
    phone.check_screen().await;
    phone.click("#privacy-policy-link").await;
    phone.wait_until("document.querySelector('.policy')?.textContent.includes('Privacy Policy')").await;
    phone.press_back().await;
    phone.press_back().await;
    phone.wait_for("main[data-screen=\"home\"]").await;
    let init_data = phone.init_data().to_owned();
    phone.close().await;
    let signed_in = app.request("POST", "/api/auth/telegram", None, Some(json!({ "init_data": init_data }))).await;
    let token = signed_in.ok()["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.get("/api/me", Some(&token)).await.ok()["processing_restricted"],
        true,
        "the switch restricted processing"
    );
}

/// The bot's `/start <slug>` button opens `PUBLIC_URL?startapp=<slug>`; the
/// Mini App goes straight to that provider's page.
#[actix_web::test]
async fn the_bots_start_button_opens_the_providers_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let profile = json!({ "display_name": "Vera", "business_name": "Vera Tutoring" });
    app.provider(9200, "vera-tutor", profile, crate::helpers::every_day("09:00", "18:00")).await;
    let Some(phone) =
        TelegramPhone::open(&app, TgUser::new(7002, "Ivan"), Theme::DARK, Launch::StartButton("vera-tutor")).await
    else {
        return;
    };
    assert_eq!(phone.text("main[data-screen=\"provider\"] h1").await, "Vera Tutoring");
    phone.check_screen().await; // no contacts given: nothing shows in their place
    phone.close().await;
}

/// Deleting the account from the privacy screen: Telegram's confirm popup,
/// then the session is over and the account's data gone.
#[actix_web::test]
async fn an_account_is_deleted_from_the_privacy_screen() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(7003, "Dora"), Theme::DARK, Launch::Menu).await else {
        return;
    };
    phone.click("#privacy").await;
    let token = phone.eval("return sessionStorage.getItem('jbm.token')").await;
    let token = token.as_str().expect("a session token").to_owned();
    assert_eq!(app.get("/api/me", Some(&token)).await.ok()["first_name"], "Dora");
    phone.click("#delete-account").await;
    phone.answer_popup("ok").await;
    phone.wait_for("main[data-screen=\"deleted\"]").await;
    assert!(phone.eval("return sessionStorage.getItem('jbm.token')").await.is_null(), "nothing kept on the phone");
    phone.close().await;
    app.get("/api/me", Some(&token)).await.problem(401);
}
