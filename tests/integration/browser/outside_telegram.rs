//! The Mini App opened as a plain web page, outside Telegram: without
//! `DEV_LOGIN` it says to open it in Telegram (and links to the bot); with it,
//! a dev sign-in form stands in, and a bottom bar stands in for the MainButton.

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, spawn_app_with},
};

#[actix_web::test]
async fn without_telegram_it_asks_to_open_in_telegram() {
    let telegram = FakeTelegram::start().await;
    let app = spawn_app_with(Backend::Sqlite, &[("TELEGRAM_API_URL", &telegram.url), ("DEV_LOGIN", "")]).await;
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(8300, "Eve"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    // The phone's whole page becomes the app, with no launch parameters.
    phone.in_client().await.goto(&format!("{}/?startapp=anna-studio", app.address)).await.expect("open the app");
    phone.wait_until_client("document.querySelector('main[data-screen=\"open-in-telegram\"]')").await;
    let link = phone.in_client().await.execute("return document.getElementById('open-in-telegram').href", vec![]);
    assert_eq!(link.await.expect("the link"), "https://t.me/jstbk_bot?startapp=anna-studio");
    phone.screenshot("outside-telegram-light").await;
    phone.close().await;
}

#[actix_web::test]
async fn with_dev_login_a_browser_signs_in_without_telegram() {
    let app = spawn_app_with(Backend::Sqlite, &[("DEV_LOGIN", "1")]).await;
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(8301, "Eve"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    phone.in_client().await.goto(&format!("{}/", app.address)).await.expect("open the app");
    phone.wait_until_client("document.querySelector('main[data-screen=\"dev-sign-in\"]')").await;
    phone.screenshot("dev-sign-in").await;
    phone
        .in_client()
        .await
        .execute(
            "document.querySelector('[name=first_name]').value = 'Eve';
             document.getElementById('fallback-main-button').click();",
            vec![],
        )
        .await
        .expect("sign in");
    phone.wait_until_client("document.querySelector('main[data-screen=\"home\"]')").await;
    phone.wait_until_client("document.querySelector('h1').textContent.includes('Eve')").await;
    phone.close().await;
}
