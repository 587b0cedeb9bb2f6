//! The Mini App's files as the server sends them: the page, its assets,
//! revalidation, compression, the security headers and the policy text.

use crate::helpers::{Backend, spawn_app, spawn_app_with};

#[actix_web::test]
async fn the_page_and_its_assets_are_served_with_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.client.get(format!("{}/", app.address)).send().await.expect("GET /");
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("script-src 'self'"), "only our own scripts (and Telegram's, served by us): {csp}");
    assert!(csp.contains("connect-src 'self'"), "no third-party calls: {csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = page.text().await.expect("body");
    for asset in ["/assets/telegram-web-app.js", "/assets/app.css", "/assets/app.js"] {
        assert!(html.contains(asset), "index.html loads {asset}");
        let response = app.client.get(format!("{}{asset}", app.address)).send().await.expect("asset");
        assert_eq!(response.status(), 200, "{asset}");
    }
    assert!(!html.contains("https://"), "the page loads nothing from another host");
}

#[actix_web::test]
async fn assets_revalidate_by_etag_and_travel_compressed() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/assets/telegram-web-app.js", app.address);
    let plain = app.client.get(&url).send().await.expect("asset");
    let etag = plain.headers()["etag"].clone();
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    assert!(plain.headers()["content-type"].to_str().expect("ascii").contains("javascript"));
    let plain_len = plain.bytes().await.expect("body").len();

    let again = app.client.get(&url).header("if-none-match", etag.clone()).send().await.expect("asset");
    assert_eq!(again.status(), 304, "an unchanged file is not sent twice");
    assert!(again.bytes().await.expect("body").is_empty());

    let gzipped = app.client.get(&url).header("accept-encoding", "gzip").send().await.expect("asset");
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped_len = gzipped.bytes().await.expect("body").len();
    assert!(gzipped_len * 3 < plain_len, "gzip: {gzipped_len} of {plain_len} bytes");

    let missing = app.client.get(format!("{}/assets/nope.js", app.address)).send().await.expect("asset");
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["content-type"], "application/problem+json");
    // Percent-encoded, so the client sends the dots instead of resolving them away.
    let outside = app.client.get(format!("{}/assets/%2e%2e/Cargo.toml", app.address)).send().await.expect("asset");
    assert_eq!(outside.status(), 404, "nothing outside web/ is reachable");
}

#[actix_web::test]
async fn the_privacy_policy_and_app_settings_are_public() {
    let policy_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(policy_file.path(), "Our own policy text").expect("write");
    let path = policy_file.path().to_str().expect("utf-8 path").to_owned();
    let app = spawn_app_with(Backend::Sqlite, &[("PRIVACY_POLICY_FILE", &path)]).await;
    let policy = app.client.get(format!("{}/privacy", app.address)).send().await.expect("policy");
    assert_eq!(policy.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(policy.text().await.expect("text"), "Our own policy text", "the same text the bot's /privacy sends");

    let settings = app.get("/api/app", None).await;
    assert_eq!(settings.ok()["dev_login"], true);
    assert_eq!(settings.ok()["telegram_sign_in"], true);
    assert!(settings.ok()["bot_username"].is_null(), "Telegram has not answered getMe (there is none here)");
}

/// Every interface text exists in English and Russian, and every key the
/// Mini App's modules ask for exists: a missing one would show its raw key.
#[test]
fn every_interface_text_exists_in_english_and_russian() {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/assets");
    let i18n = std::fs::read_to_string(web.join("i18n.js")).expect("i18n.js");
    let section = |start: &str, end: &str| -> std::collections::BTreeSet<String> {
        let from = i18n.find(start).expect("dictionary start");
        let to = from + i18n[from..].find(end).expect("dictionary end");
        i18n[from..to]
            .lines()
            .filter_map(|line| line.trim_start().split_once(": '").map(|(key, _)| key.trim().to_owned()))
            .filter(|key| key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect()
    };
    let en = section("const en = {", "\n};");
    let ru = section("const ru = {", "\n};");
    assert!(en.len() > 100, "found {} English texts", en.len());
    assert_eq!(en.symmetric_difference(&ru).collect::<Vec<_>>(), Vec::<&String>::new(), "keys in only one language");

    let mut asked = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&web).expect("web/assets") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "js") && !path.ends_with("telegram-web-app.js") {
            let code = std::fs::read_to_string(&path).expect("module");
            // Calls of `t('key'…)` itself, not of `get('…')` or `.split('…')`.
            for (at, _) in code.match_indices("t('") {
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                if let Some((key, _)) = code[at + 3..].split_once('\'') {
                    asked.insert(key.to_owned());
                }
            }
        }
    }
    let missing: Vec<_> = asked.iter().filter(|key| !en.contains(*key)).collect();
    assert!(missing.is_empty(), "asked for but not written: {missing:?}");
}
