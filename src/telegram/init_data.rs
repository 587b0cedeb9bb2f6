//! Verification of Telegram Mini App `initData`, exactly as Telegram specifies
//! (<https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app>).
//!
//! Nothing in `initData` is trusted until its HMAC checks out: the raw query
//! string is parsed as `application/x-www-form-urlencoded` (`+` is a space),
//! every key except `hash` goes into the data-check-string as `key=value`
//! with the *decoded* value (never re-serialized JSON), sorted by key and joined
//! by `\n`; the secret is HMAC-SHA256(key = "WebAppData", message = bot token).
//! Then `auth_date` must be neither too old nor in the future.

use std::collections::BTreeMap;

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Telegram's Ed25519 key for third-party validation, production environment.
pub const TELEGRAM_PUBLIC_KEY_PRODUCTION: [u8; 32] =
    hex_literal("e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d");
/// Telegram's Ed25519 key for third-party validation, test environment.
pub const TELEGRAM_PUBLIC_KEY_TEST: [u8; 32] =
    hex_literal("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec");

/// A tolerance for clocks: Telegram's and ours may disagree by a few seconds,
/// so an `auth_date` up to this far ahead of our clock is not "in the future".
pub const CLOCK_SKEW_SECS: i64 = 30;

/// Longest `initData` accepted; real ones are well under 2 KiB.
const MAX_INIT_DATA_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("init data is empty or too long")]
    BadLength,
    #[error("init data lists {0:?} more than once")]
    DuplicateKey(String),
    #[error("init data has no hash")]
    MissingHash,
    #[error("init data has no signature")]
    MissingSignature,
    #[error("init data hash does not match")]
    BadHash,
    #[error("init data signature does not match")]
    BadSignature,
    #[error("init data has no valid auth_date")]
    MissingAuthDate,
    #[error("init data is too old")]
    Expired,
    #[error("init data auth_date is in the future")]
    FromTheFuture,
    #[error("init data has no valid user: {0}")]
    BadUser(String),
}

/// The `user` object Telegram puts in `initData`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebAppUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
}

/// `initData` whose authenticity and freshness were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInitData {
    pub auth_date: i64,
    pub user: Option<WebAppUser>,
    pub start_param: Option<String>,
}

/// How fresh `initData` must be.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    /// Current Unix time.
    pub now: i64,
    /// Oldest accepted `auth_date`, in seconds before `now`.
    pub max_age_secs: i64,
}

/// Verifies `initData` signed with the bot token (the way a bot's own server
/// checks it).
pub fn verify_with_bot_token(
    raw: &str,
    bot_token: &str,
    freshness: Freshness,
) -> Result<VerifiedInitData, InitDataError> {
    let fields = parse(raw)?;
    let hash = fields.get("hash").ok_or(InitDataError::MissingHash)?;
    let expected = hex::decode(hash).map_err(|_| InitDataError::BadHash)?;
    let check_string = data_check_string(&fields, &["hash"]);

    let hmac =
        |key: &[u8], message: &str| HmacSha256::new_from_slice(key).expect("any key length").chain_update(message);
    let secret = hmac(b"WebAppData", bot_token).finalize().into_bytes();
    // `verify_slice` compares in constant time.
    hmac(&secret, &check_string).verify_slice(&expected).map_err(|_| InitDataError::BadHash)?;

    finish(&fields, freshness)
}

/// Verifies the Ed25519 `signature` Telegram adds for third parties that do
/// not know the bot token, given the bot's numeric id and Telegram's public
/// key ([`TELEGRAM_PUBLIC_KEY_PRODUCTION`] or [`TELEGRAM_PUBLIC_KEY_TEST`]).
pub fn verify_third_party(
    raw: &str,
    bot_id: i64,
    public_key: &[u8; 32],
    freshness: Freshness,
) -> Result<VerifiedInitData, InitDataError> {
    let fields = parse(raw)?;
    let signature = fields.get("signature").ok_or(InitDataError::MissingSignature)?;
    let lenient_base64url = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let signature = lenient_base64url
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(InitDataError::BadSignature)?;
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| InitDataError::BadSignature)?;
    let message = format!("{bot_id}:WebAppData\n{}", data_check_string(&fields, &["hash", "signature"]));
    key.verify(message.as_bytes(), &signature).map_err(|_| InitDataError::BadSignature)?;
    finish(&fields, freshness)
}

/// Form-urlencoded parse that refuses a key given twice: with duplicates, the
/// value we read and the value that was signed could differ.
fn parse(raw: &str) -> Result<BTreeMap<String, String>, InitDataError> {
    if raw.is_empty() || raw.len() > MAX_INIT_DATA_LEN {
        return Err(InitDataError::BadLength);
    }
    let mut fields = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let key = key.into_owned();
        if fields.contains_key(&key) {
            return Err(InitDataError::DuplicateKey(key));
        }
        fields.insert(key, value.into_owned());
    }
    Ok(fields)
}

/// `key=value` lines sorted by key (a `BTreeMap` iterates in byte order, which
/// is the order Telegram uses), without the `excluded` keys.
fn data_check_string(fields: &BTreeMap<String, String>, excluded: &[&str]) -> String {
    let lines = fields.iter().filter(|(key, _)| !excluded.contains(&key.as_str()));
    lines.map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("\n")
}

fn finish(fields: &BTreeMap<String, String>, freshness: Freshness) -> Result<VerifiedInitData, InitDataError> {
    let auth_date: i64 =
        fields.get("auth_date").and_then(|value| value.parse().ok()).ok_or(InitDataError::MissingAuthDate)?;
    if auth_date > freshness.now + CLOCK_SKEW_SECS {
        return Err(InitDataError::FromTheFuture);
    }
    if freshness.now - auth_date > freshness.max_age_secs {
        return Err(InitDataError::Expired);
    }
    let user = fields
        .get("user")
        .map(|json| serde_json::from_str::<WebAppUser>(json).map_err(|e| InitDataError::BadUser(e.to_string())))
        .transpose()?;
    if let Some(user) = &user {
        check_user(user)?;
    }
    Ok(VerifiedInitData { auth_date, user, start_param: fields.get("start_param").cloned() })
}

/// A valid signature proves Telegram sent it, not that every value is sane
/// (a leaked bot token signs anything): Telegram user ids are positive, and
/// names carry no control characters (NUL, escapes, line breaks), which
/// would otherwise reach our database, logs and bot messages.
fn check_user(user: &WebAppUser) -> Result<(), InitDataError> {
    if user.id <= 0 {
        return Err(InitDataError::BadUser("the user id must be positive".into()));
    }
    let texts = [Some(&user.first_name), user.last_name.as_ref(), user.username.as_ref(), user.language_code.as_ref()];
    if texts.into_iter().flatten().any(|text| text.chars().any(char::is_control)) {
        return Err(InitDataError::BadUser("a name contains control characters".into()));
    }
    Ok(())
}

/// Decodes a 64-digit hex string at compile time.
const fn hex_literal(text: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let bytes = text.as_bytes();
    assert!(bytes.len() == 64, "expected 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(bytes[2 * i]) << 4 | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;
