//! "Contact support" on the privacy screen opens the bot chat at
//! `t.me/<bot>?start=support` (policy §8, §11), through Telegram's own
//! `openTelegramLink`; the bot's `/start support` then opens the conversation
//! (tests/integration/support.rs).

use std::time::{Duration, Instant};

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::{
    fake_telegram::FakeTelegram,
    helpers::{Backend, spawn_app_with},
};

#[actix_web::test]
async fn contact_support_opens_the_bot_chat_on_support() {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(Backend::Sqlite, &[("TELEGRAM_API_URL", &fake.url)]).await;
    // The bot learns its username from getMe; the Mini App asks /api/app.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/api/app", None).await.body["bot_username"] != "jstbk_bot" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(phone) = TelegramPhone::open(&app, TgUser::new(7004, "Olga"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    phone.click("#privacy").await;
    phone.click("#contact-support").await;
    phone
        .wait_until_client(
            "window.tgEvents.some(e => e.eventType === 'web_app_open_tg_link' \
             && e.eventData && e.eventData.path_full === '/jstbk_bot?start=support')",
        )
        .await;
    phone.close().await;
}
