//! Checked against vectors published by independent implementations (each
//! cited), then against tampered, stale, wrong-token and malformed input.

use super::*;

fn fresh_at(auth_date: i64) -> Freshness {
    Freshness { now: auth_date + 60, max_age_secs: 86_400 }
}

/// aiogram, `tests/test_utils/test_web_app.py` (Python; github.com/aiogram/aiogram).
const AIOGRAM_TOKEN: &str = "42:TEST";
const AIOGRAM: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
/// Same file: spaces encoded as `+`, which must decode to a space.
const AIOGRAM_PLUS: &str = "auth_date=1650385342&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D&query_id=test&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe";

/// Telegram-Mini-Apps, `init-data-golang/validate_test.go` (Go; github.com/Telegram-Mini-Apps/init-data-golang).
const TMA_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
const TMA: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";

/// The init-data-golang README (docs.telegram-mini-apps.com/packages/init-data-golang):
/// a real Telegram payload carrying both `hash` and the Ed25519 `signature`.
const GOLANG_README_TOKEN: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";
const GOLANG_README: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";

/// nimaxin/init-data-py, `tests/vectors.py` (Python): real payload, Cyrillic names.
const INIT_DATA_PY_TOKEN: &str = "7244657541:AAHAJP25XehV6N02kiLLAEi2el-xLsSw29w";
const INIT_DATA_PY: &str = "query_id=AAF2GVE4AwAAAHYZUTgHczdc&user=%7B%22id%22%3A7387289974%2C%22first_name%22%3A%22%D0%90%D1%80%D1%82%D1%91%D0%BC%22%2C%22last_name%22%3A%22%D0%9E%D0%BD%D1%83%D1%84%D1%80%D0%B8%D0%B9%22%2C%22username%22%3A%22typexin%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%7D&auth_date=1724048856&hash=53b22bc70a748dae613a5aa91890b387b9cc0356c5dcffca173816b6e40a17e5";

/// RaghavSood/tgappex, `test/tg_app_ex_test.exs` (Elixir): real payload.
const TGAPPEX_TOKEN: &str = "7249749463:AAF47pE6-3XqBcqw11uzeIRA2Mr4Obl9JvU";
const TGAPPEX: &str = "user=%7B%22id%22%3A301401270%2C%22first_name%22%3A%22Raghav%22%2C%22last_name%22%3A%22Sood%22%2C%22username%22%3A%22RaghavSood%22%2C%22language_code%22%3A%22en%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%7D&chat_instance=3088182267291974857&chat_type=private&auth_date=1719548875&hash=8d08252f8da1fb386ad686a27ea51980b9e7c4898dd51595418a579cc2825ca4";

/// swimmwatch/telegram-webapp-auth, `tests/test_validate_third_party.py`
/// (Python): real payload, signed for bot 7544535829 with Telegram's production key.
const WEBAPP_AUTH_BOT_ID: i64 = 7544535829;
const WEBAPP_AUTH: &str = "query_id=AAH1t3EVAAAAAPW3cRVyuBgH&user=%7B%22id%22%3A359774197%2C%22first_name%22%3A%22Dmitry%22%2C%22last_name%22%3A%22Vasiliev%22%2C%22language_code%22%3A%22en%22%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2FaUkVEo2bVNr6G41sIB2bNwCdbkwnaVS79N41WHr_ApQ.svg%22%7D&auth_date=1736353840&signature=s72bv8J1hwJanbDqlo9TTMK6Uf4WSwQKuPKK_Q16QBhKD0hfOfoYCOpRl_d8m_8AEI1_oF-9WCJuwW1KQy5-BA&hash=c0b008672bf1edae403293e790eec42d047ac6613a5799e1939fac5eca41a397";

/// @telegram-apps/init-data-node, `src/entries/shared.test.ts` (TypeScript).
const INIT_DATA_NODE_BOT_ID: i64 = 7342037359;
const INIT_DATA_NODE_3RD: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6";

/// aiogram, `tests/test_utils/test_web_app_signature.py`: signed with aiogram's
/// own test key pair (not Telegram's), which exercises the key parameter.
const AIOGRAM_PUBLIC_KEY: [u8; 32] = hex_literal("4112765021341e5415e772cd65903f6b94e3ea1c2ab669e6d3e18ee2db00da61");
const AIOGRAM_SIGNED: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-jU_Cw";

fn auth_date_of(raw: &str) -> i64 {
    parse(raw).unwrap()["auth_date"].parse().unwrap()
}

#[test]
fn published_hmac_vectors_verify() {
    for (name, raw, token) in [
        ("aiogram", AIOGRAM, AIOGRAM_TOKEN),
        ("init-data-golang", TMA, TMA_TOKEN),
        ("init-data-golang README (with signature)", GOLANG_README, GOLANG_README_TOKEN),
        ("init-data-py, UTF-8", INIT_DATA_PY, INIT_DATA_PY_TOKEN),
        ("tgappex", TGAPPEX, TGAPPEX_TOKEN),
    ] {
        let result = verify_with_bot_token(raw, token, fresh_at(auth_date_of(raw)));
        assert!(result.is_ok(), "{name}: {result:?}");
    }
}

#[test]
fn plus_decodes_to_a_space_before_hashing() {
    // aiogram's synthetic vector: its hash only matches if `+` became a space.
    // Its `user.id` is a JSON string (Telegram sends a number), so the user
    // is refused *after* the hash was accepted.
    let result = verify_with_bot_token(AIOGRAM_PLUS, AIOGRAM_TOKEN, fresh_at(1650385342));
    assert!(matches!(result, Err(InitDataError::BadUser(_))), "{result:?}");
}

#[test]
fn user_fields_are_read_after_verification() {
    let data = verify_with_bot_token(GOLANG_README, GOLANG_README_TOKEN, fresh_at(1733509682)).unwrap();
    let user = data.user.unwrap();
    assert_eq!(user.id, 279058397);
    // `%20%2B%20-%20%3F%20%5C%2F` decodes to ` + - ? \/`; the JSON `\/` is a `/`.
    assert_eq!(user.first_name, "Vladislav + - ? /");
    assert_eq!(user.username.as_deref(), Some("vdkfrost"));
    assert_eq!(user.language_code.as_deref(), Some("ru"));
    assert_eq!(
        user.photo_url.as_deref(),
        Some("https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg")
    );
    let data = verify_with_bot_token(INIT_DATA_PY, INIT_DATA_PY_TOKEN, fresh_at(1724048856)).unwrap();
    assert_eq!(data.user.unwrap().first_name, "Артём");
}

#[test]
fn published_ed25519_vectors_verify_with_telegrams_production_key() {
    for (name, raw, bot_id) in [
        ("init-data-node", INIT_DATA_NODE_3RD, INIT_DATA_NODE_BOT_ID),
        ("init-data-golang README", GOLANG_README, 7342037359),
        ("telegram-webapp-auth", WEBAPP_AUTH, WEBAPP_AUTH_BOT_ID),
    ] {
        let freshness = fresh_at(auth_date_of(raw));
        let result = verify_third_party(raw, bot_id, &TELEGRAM_PUBLIC_KEY_PRODUCTION, freshness);
        assert!(result.is_ok(), "{name}: {result:?}");
        assert_eq!(
            verify_third_party(raw, bot_id, &TELEGRAM_PUBLIC_KEY_TEST, freshness),
            Err(InitDataError::BadSignature),
            "{name} must not verify with the test-environment key"
        );
        assert_eq!(
            verify_third_party(raw, bot_id + 1, &TELEGRAM_PUBLIC_KEY_PRODUCTION, freshness),
            Err(InitDataError::BadSignature),
            "{name} must not verify for another bot"
        );
    }
    assert!(verify_third_party(AIOGRAM_SIGNED, 42, &AIOGRAM_PUBLIC_KEY, fresh_at(1650385342)).is_ok());
}

#[test]
fn wrong_token_is_rejected() {
    assert_eq!(verify_with_bot_token(AIOGRAM, "42:INVALID", fresh_at(1650385342)), Err(InitDataError::BadHash));
}

#[test]
fn any_one_character_change_is_rejected() {
    let freshness = fresh_at(1662771648);
    let hash_start = TMA.find("&hash=").unwrap();
    // Flip every character of the signed part in turn (keeping it decodable).
    let in_escape = |i: usize| i >= 1 && (TMA.as_bytes()[i - 1] == b'%' || (i >= 2 && TMA.as_bytes()[i - 2] == b'%'));
    for i in (0..hash_start).filter(|&i| !in_escape(i)) {
        let mut bytes = TMA.as_bytes().to_vec();
        bytes[i] = match bytes[i] {
            b'a' => b'b',
            b'0' => b'1',
            b'%' | b'&' | b'=' => continue,
            other if other.is_ascii_alphanumeric() => b'a',
            _ => b'x',
        };
        let tampered = String::from_utf8(bytes).unwrap();
        if tampered == TMA {
            continue;
        }
        assert!(verify_with_bot_token(&tampered, TMA_TOKEN, freshness).is_err(), "byte {i} changed: {tampered}");
    }
    // And the hash itself.
    let mut forged = TMA.to_owned();
    forged.pop();
    forged.push('3');
    assert_eq!(verify_with_bot_token(&forged, TMA_TOKEN, freshness), Err(InitDataError::BadHash));
}

#[test]
fn stale_and_future_auth_dates_are_rejected() {
    let auth_date = 1662771648;
    for (now, expected) in [
        (auth_date + 86_401, Err(InitDataError::Expired)),
        (auth_date + 86_400, Ok(auth_date)),
        (auth_date - CLOCK_SKEW_SECS - 1, Err(InitDataError::FromTheFuture)),
    ] {
        let result = verify_with_bot_token(TMA, TMA_TOKEN, Freshness { now, max_age_secs: 86_400 });
        assert_eq!(result.map(|data| data.auth_date), expected, "now = {now}");
    }
}

#[test]
fn malformed_input_is_rejected_without_panicking() {
    let freshness = fresh_at(1662771648);
    let without_hash = &TMA[..TMA.find("&hash=").unwrap()];
    for (raw, expected) in [
        (without_hash.to_owned(), InitDataError::MissingHash),
        (String::new(), InitDataError::BadLength),
        ("a".repeat(9000), InitDataError::BadLength),
        (format!("{TMA}&auth_date=1"), InitDataError::DuplicateKey("auth_date".into())),
        (format!("hash=zz&{without_hash}"), InitDataError::BadHash),
    ] {
        assert_eq!(verify_with_bot_token(&raw, TMA_TOKEN, freshness), Err(expected), "{raw:.40}");
    }
    for junk in ["%", "%%%%", "&&&", "=", "hash", "hash=", "user=%ff%fe&hash=00", "\u{0}"] {
        assert!(verify_with_bot_token(junk, TMA_TOKEN, freshness).is_err(), "{junk:?}");
        assert!(verify_third_party(junk, 1, &TELEGRAM_PUBLIC_KEY_PRODUCTION, freshness).is_err(), "{junk:?}");
    }
    assert_eq!(
        verify_third_party(&format!("{AIOGRAM_SIGNED}x"), 42, &AIOGRAM_PUBLIC_KEY, fresh_at(1650385342)),
        Err(InitDataError::BadSignature)
    );
}

#[test]
fn public_keys_decode_to_telegrams_published_hex() {
    for (key, published) in [
        (TELEGRAM_PUBLIC_KEY_PRODUCTION, "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"),
        (TELEGRAM_PUBLIC_KEY_TEST, "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"),
    ] {
        assert_eq!(hex::encode(key), published);
    }
}

#[test]
fn a_signed_but_impossible_user_is_rejected() {
    let user = |id: i64, first_name: &str| WebAppUser {
        id,
        first_name: first_name.to_owned(),
        last_name: None,
        username: None,
        language_code: None,
        photo_url: None,
    };
    assert!(check_user(&user(42, "Артём 🙂")).is_ok());
    for wrong in [user(0, "Eve"), user(-5, "Eve"), user(42, "E\u{0}ve"), user(42, "Eve\r\nBcc: x")] {
        assert!(matches!(check_user(&wrong), Err(InitDataError::BadUser(_))), "{wrong:?}");
    }
}
