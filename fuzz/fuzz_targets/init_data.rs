//! Telegram `initData` (POST /api/auth/telegram): the form-urlencoded parse,
//! the HMAC check with a fixed bot token and, for input this target signs
//! itself, everything checked after the signature (auth_date, user JSON).
#![no_main]

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use justbookme::fuzzing::{Freshness, InitDataError, VerifiedInitData, verify_with_bot_token};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const BOT_TOKEN: &str = "123456:fuzz-token-not-a-secret";
const NOW: i64 = 1_780_000_000;
const FRESHNESS: Freshness = Freshness { now: NOW, max_age_secs: 86_400 };
const MAX_LEN: usize = 8 * 1024;

/// Signs `fields` as Telegram does, written apart from the server's code so
/// the two must agree: `key=value` lines sorted by key, HMAC-SHA256 keyed by
/// HMAC-SHA256("WebAppData", bot token).
fn sign(fields: &BTreeMap<String, String>) -> String {
    let check = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
    let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("any key length");
    secret.update(BOT_TOKEN.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.finalize().into_bytes()).expect("any key length");
    mac.update(check.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn encode(fields: &BTreeMap<String, String>, hash: &str) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in fields {
        form.append_pair(key, value);
    }
    form.append_pair("hash", hash);
    form.finish()
}

/// What holds of every accepted `initData`, signed by anyone.
fn check_accepted(verified: &VerifiedInitData) {
    assert!(verified.auth_date <= NOW + 30, "auth_date from the future accepted");
    assert!(NOW - verified.auth_date <= FRESHNESS.max_age_secs, "expired auth_date accepted");
    if let Some(user) = &verified.user {
        assert!(user.id > 0, "non-positive user id accepted");
        let texts = [Some(&user.first_name), user.last_name.as_ref(), user.username.as_ref()];
        assert!(texts.into_iter().flatten().all(|t| !t.chars().any(char::is_control)), "control character accepted");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 3 {
        // Raw, as a stranger sends it: without the bot token no hash is right.
        0 => match verify_with_bot_token(text, BOT_TOKEN, FRESHNESS) {
            Ok(verified) => {
                // Only possible if the input carries the right hash for its fields.
                check_accepted(&verified);
                let fields: BTreeMap<String, String> = url::form_urlencoded::parse(text.as_bytes())
                    .filter(|(k, _)| k != "hash")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let hash = url::form_urlencoded::parse(text.as_bytes()).find(|(k, _)| k == "hash");
                assert_eq!(hash.map(|(_, v)| v.to_ascii_lowercase()), Some(sign(&fields)), "unsigned data accepted");
            }
            Err(InitDataError::BadLength) => assert!(text.is_empty() || text.len() > MAX_LEN),
            Err(_) => {}
        },
        // The input's own fields, signed properly: never a bad hash, and the
        // checks after the signature see arbitrary values.
        1 => {
            let mut fields = BTreeMap::new();
            let mut duplicate = false;
            for (key, value) in url::form_urlencoded::parse(text.as_bytes()) {
                if key == "hash" {
                    continue;
                }
                duplicate |= fields.insert(key.into_owned(), value.into_owned()).is_some();
            }
            let raw = encode(&fields, &sign(&fields));
            match verify_with_bot_token(&raw, BOT_TOKEN, FRESHNESS) {
                Ok(verified) => {
                    check_accepted(&verified);
                    assert_eq!(verified.start_param.as_ref(), fields.get("start_param"));
                    let sent = fields.get("auth_date").and_then(|date| date.parse::<i64>().ok());
                    assert_eq!(sent, Some(verified.auth_date), "auth_date changed on the way");
                }
                Err(InitDataError::BadHash) if !duplicate => {
                    panic!("properly signed data refused as a bad hash: {raw:?}")
                }
                Err(InitDataError::BadLength) => assert!(raw.len() > MAX_LEN),
                Err(_) => {}
            }
        }
        // Structured: a fresh auth_date and a fuzzed user object, signed, so
        // almost every run reaches the user checks.
        _ => {
            let (age, user) = text.split_at(text.char_indices().nth(1).map_or(text.len(), |(i, _)| i));
            let age = age.bytes().next().map_or(0, i64::from) * 400 - 2_000;
            let mut fields = BTreeMap::from([
                ("auth_date".to_owned(), (NOW - age).to_string()),
                ("query_id".to_owned(), "AAHdF6IQAAAAAN0XohDhrOrc".to_owned()),
            ]);
            fields.insert("user".to_owned(), user.to_owned());
            let raw = encode(&fields, &sign(&fields));
            match verify_with_bot_token(&raw, BOT_TOKEN, FRESHNESS) {
                Ok(verified) => {
                    check_accepted(&verified);
                    let got = verified.user.expect("the user was sent");
                    // Fields the server ignores may hold what a Value cannot
                    // (a number like 1e400): compare only when it can.
                    if let Ok(parsed) = serde_json::from_str::<serde_json::Value>(user) {
                        assert_eq!(parsed["id"].as_i64(), Some(got.id), "user id changed on the way");
                        assert_eq!(parsed["first_name"].as_str(), Some(got.first_name.as_str()));
                    }
                }
                Err(InitDataError::BadUser(_)) | Err(InitDataError::Expired) | Err(InitDataError::FromTheFuture) => {}
                Err(InitDataError::BadLength) => assert!(raw.len() > MAX_LEN),
                Err(other) => panic!("signed, fresh data refused as {other:?}: {raw:?}"),
            }
        }
    }
});
