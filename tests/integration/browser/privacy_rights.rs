//! The privacy promises as a user meets them in the Mini App: a new policy
//! version is announced once and stays acknowledged (§10); a client asks a
//! provider to delete their card, and the provider sees the request on the
//! card, next to an export of that client's data (§6); the app keeps nothing
//! on the phone but its session token (§9).

use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, every_day, slot, spawn_app_with};

#[actix_web::test]
async fn a_new_policy_is_announced_once_in_the_app() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (dir.path().join("old.txt"), dir.path().join("new.txt"));
    std::fs::write(&old, "Policy, first words").expect("write");
    std::fs::write(&new, "Policy, second words").expect("write");
    let first = spawn_app_with(Backend::Sqlite, &[("POLICY_FILE", old.to_str().expect("path"))]).await;
    let Some(phone) = TelegramPhone::open(&first, TgUser::new(8700, "Nina"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    phone.wait_for("#privacy").await;
    assert_eq!(
        phone.eval("return document.querySelectorAll('#policy-updated').length").await,
        0,
        "new: nothing to tell"
    );
    phone.close().await;

    let database = first.database_url();
    let config = [("POLICY_FILE", new.to_str().expect("path")), ("DATABASE_URL", database.as_str())];
    let second = spawn_app_with(Backend::Sqlite, &config).await;
    let version = second.get("/api/policy", None).await.ok()["version"].as_str().expect("version").to_owned();
    let Some(phone) = TelegramPhone::open(&second, TgUser::new(8700, "Nina"), Theme::DARK, Launch::Menu).await else {
        return;
    };
    assert!(phone.text("#policy-updated").await.contains(&version));
    phone.screenshot("policy-updated-dark").await;
    phone.check_screen().await;
    phone.click("#policy-ack").await;
    phone.wait_gone("#policy-updated").await;
    // The privacy screen names the version in force.
    phone.click("#privacy").await;
    phone.wait_until(&format!("document.getElementById('policy-version')?.textContent.includes('{version}')")).await;
    phone.close().await;

    let Some(phone) = TelegramPhone::open(&second, TgUser::new(8700, "Nina"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    phone.wait_for("#privacy").await;
    assert_eq!(phone.eval("return document.querySelectorAll('#policy-updated').length").await, 0, "once");
    phone.close().await;
}

#[actix_web::test]
async fn a_client_asks_for_erasure_and_the_provider_sees_it_and_exports_the_card() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let (_, service) = app.provider(9400, "rita", json!({ "display_name": "Rita" }), every_day("09:00", "13:00")).await;
    let token = app.dev_sign_in(8800, "Paul").await;
    app.book(&token, "rita", &service, &slot("10:00")).await.ok();

    let Some(client) = TelegramPhone::open(&app, TgUser::new(8800, "Paul"), Theme::LIGHT, Launch::Menu).await else {
        return;
    };
    client.click("#my-bookings").await;
    client.click("[data-erasure=\"rita\"]").await;
    assert!(client.popup_text().await.contains("Rita"), "the question names the provider");
    client.answer_popup("ok").await;
    client.wait_until("document.getElementById('toast')?.textContent.includes('Rita')").await;
    // Policy §9: the only thing the app keeps on the phone is its session
    // token, for this session (Telegram's own script keeps its launch
    // parameters); no cookies, nothing that outlives the webview.
    let kept = client
        .eval(
            "return { local: Object.keys(localStorage), cookies: document.cookie,
                      session: Object.keys(sessionStorage).filter((k) => !k.startsWith('__telegram__')) };",
        )
        .await;
    assert_eq!(kept, json!({ "local": [], "cookies": "", "session": ["jbm.token"] }));
    client.close().await;

    let Some(provider) = TelegramPhone::open(&app, TgUser::new(9400, "Rita"), Theme::DARK, Launch::Menu).await else {
        return;
    };
    provider.click("#workspace").await;
    provider.click("[data-tab=\"clients\"]").await;
    provider.click("[data-client]").await;
    provider.wait_for("#erasure-requested").await;
    provider.screenshot("client-card-erasure-requested-dark").await;
    provider.check_screen().await;
    provider.click("#export-client").await;
    provider.wait_until("document.getElementById('export-json')?.textContent.includes('\"name\": \"Paul\"')").await;
    provider.close().await;
}
