//! The fake Telegram client tested on its own, with a fixture Mini App that
//! uses Telegram's script and nothing else: if these fail, a failing Mini
//! App test says nothing about the Mini App.

use serde_json::json;

use super::{BottomButton, Launch, TelegramPhone, TgUser, Theme};

#[actix_web::test]
async fn the_fake_client_plays_telegrams_side_of_the_protocol() {
    let anna = TgUser {
        last_name: Some("Ivanova"),
        username: Some("anna_i"),
        language_code: "ru",
        ..TgUser::new(4242, "Anna")
    };
    let Some(phone) = TelegramPhone::open_fixture(anna, Theme::DARK, Launch::Link("anna-nails")).await else {
        return;
    };

    // Launch parameters: the signed data, the start parameter, the theme.
    assert_eq!(phone.text("#greeting").await, "Hello, Anna");
    let launch = phone
        .eval(
            "const app = Telegram.WebApp;
             return { href: location.href, init_data: app.initData, start_param: app.initDataUnsafe.start_param,
                      user: app.initDataUnsafe.user, search: location.search, scheme: app.colorScheme,
                      bg: app.themeParams.bg_color, platform: app.platform, version: app.version };",
        )
        .await;
    assert_eq!(launch["href"], phone.launch_url());
    assert_eq!(launch["init_data"], phone.init_data());
    assert_eq!(launch["start_param"], "anna-nails");
    assert_eq!(launch["search"], "?tgWebAppStartParam=anna-nails");
    assert_eq!(
        launch["user"],
        json!({ "id": 4242, "first_name": "Anna", "last_name": "Ivanova", "username": "anna_i",
            "language_code": "ru", "allows_write_to_pm": true })
    );
    assert_eq!((launch["scheme"].as_str(), launch["bg"].as_str()), (Some("dark"), Some("#212121")));
    assert_eq!((launch["platform"].as_str(), launch["version"].as_str()), (Some("web"), Some("8.0")));

    // The app asked for the viewport and got the frame's height.
    phone.wait_until("Telegram.WebApp.viewportStableHeight === window.innerHeight").await;
    let events = phone.events().await;
    assert_eq!(events.first().map(String::as_str), Some("iframe_ready"), "{events:?}");
    for expected in ["web_app_ready", "web_app_expand", "web_app_request_theme", "web_app_setup_main_button"] {
        assert!(events.iter().any(|e| e == expected), "{expected} in {events:?}");
    }

    // MainButton: drawn in the theme's colours, inactive until there is a name.
    let inactive = BottomButton {
        text: "Book".into(),
        active: false,
        progress: false,
        color: "rgb(135, 116, 225)".into(),
        text_color: "rgb(255, 255, 255)".into(),
    };
    assert_eq!(phone.main_button().await, Some(inactive));
    phone.fill("#name", "Anna").await;
    assert_eq!(phone.text("#echo").await, "Anna");
    phone.wait_until_client("document.querySelector('#tg-main-button').dataset.active === 'true'").await;
    assert_eq!(phone.main_button().await.map(|b| b.text), Some("Book for Anna".to_owned()));

    // MainButton → popup → answer → haptic and BackButton.
    phone.press_main_button().await;
    assert_eq!(phone.popup_text().await.lines().collect::<Vec<_>>(), ["Confirm", "Book 10:00?", "Book", "Cancel"]);
    phone.screenshot("harness-dark-popup").await;
    phone.answer_popup("yes").await;
    phone.wait_until("document.getElementById('log').textContent === 'main popup:yes'").await;
    let log = phone.event_log().await;
    let haptic = json!({ "eventType": "web_app_trigger_haptic_feedback",
        "eventData": { "type": "notification", "notification_type": "success" } });
    assert!(log.contains(&haptic), "{log:?}");
    phone.press_back().await;
    phone.wait_until("document.getElementById('log').textContent.endsWith(' back')").await;
    phone.wait_until_client("document.getElementById('tg-back').hidden").await;

    phone.click("#vanish").await;
    phone.wait_gone("#vanish").await;
    let haptic = json!({ "eventType": "web_app_trigger_haptic_feedback",
        "eventData": { "type": "impact", "impact_style": "light" } });
    assert!(phone.event_log().await.contains(&haptic));
    phone.close().await;
}

#[actix_web::test]
async fn two_phones_are_separate_phone_sized_browsers() {
    let boris = TgUser::new(5151, "Boris");
    let Some(a) = TelegramPhone::open_fixture(TgUser::new(5150, "Anna"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    let Some(b) = TelegramPhone::open_fixture(boris, Theme::LIGHT, Launch::StartButton("anna-nails")).await else {
        return;
    };
    for phone in [&a, &b] {
        let client = phone.in_client().await.execute("return [innerWidth, innerHeight]", vec![]).await.unwrap();
        assert_eq!(client, json!([390, 844]), "the phone's screen");
        let app = phone.in_app().await.execute("return innerWidth", vec![]).await.unwrap();
        assert_eq!(app, 390, "the Mini App spans the screen");
    }
    assert_eq!(a.text("#greeting").await, "Hello, Anna");
    assert_eq!(b.text("#greeting").await, "Hello, Boris");

    // The bot's /start button: the slug in the URL's own query, none signed.
    let start = b.eval("return [location.search, Telegram.WebApp.initDataUnsafe.start_param ?? null]").await;
    assert_eq!(start, json!(["?startapp=anna-nails", null]));

    // Separate profiles: what one phone stores, the other never sees.
    a.eval("localStorage.setItem('who', 'a'); sessionStorage.setItem('who', 'a');").await;
    let seen = b.eval("return [localStorage.getItem('who'), sessionStorage.getItem('who')]").await;
    assert_eq!(seen, json!([null, null]));
    a.screenshot("harness-light").await;
    a.close().await;
    b.close().await;
}
