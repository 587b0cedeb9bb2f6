//! Sign-in (Telegram initData, and the dev login when enabled) and the
//! bearer-token extractor every private route uses.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header, web};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem, ProblemType, ProblemType::Unauthorized};
use super::state::{AppState, State};
use super::{
    extract::{client_ip, limit_per_ip},
    json::ValidJson,
    validate,
};
use crate::session::token_hash;
use crate::store::{NewSession, SessionUser, TelegramProfile, User};
use crate::telegram::init_data::{self, Freshness};
use crate::{rate_limit::Rule, views::UserView};

/// The signed-in user of a request (`Authorization: Bearer <token>`).
pub struct AuthUser(pub User);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token =
                token.ok_or_else(|| ApiError::new(Unauthorized, "sign in and send Authorization: Bearer <token>"))?;
            let user = state
                .sessions
                .user_for_token(state.store.as_ref(), &token)
                .await?
                .ok_or_else(|| ApiError::new(Unauthorized, "the session is invalid or expired; sign in again"))?;
            super::access_log::mark(&req, user.id);
            Ok(AuthUser(user))
        })
    }
}

/// The token of `Bearer <token>`. RFC 9110 §11.1: the scheme is
/// case-insensitive (`bearer`, `BEARER`), and one or more spaces follow it.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

pub(super) fn random_bytes<const N: usize>() -> ApiResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(bytes)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramSignIn {
    /// `Telegram.WebApp.initData`, exactly as the Mini App received it.
    pub init_data: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevSignIn {
    pub telegram_id: i64,
    pub first_name: String,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub user: UserView,
}

/// Sign in with Telegram Mini App `initData`.
#[utoipa::path(post, path = "/api/auth/telegram", tag = "auth", request_body = TelegramSignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = Problem), (status = 429, body = Problem),
        (status = 503, body = Problem)))]
pub async fn telegram_sign_in(state: State, req: HttpRequest, ValidJson(body): ValidJson<TelegramSignIn>) -> ApiResult {
    // Limited per address: guessing init data or flooding the account table
    // from one place gets 429.
    limit_per_ip(&state, &req, Rule::SignInPerIp).await?;
    let token =
        state.config.telegram_bot_token.as_ref().ok_or_else(|| {
            ApiError::new(ProblemType::Unavailable, "Telegram sign-in is not configured on this server")
        })?;
    let freshness = Freshness {
        now: Timestamp::now().as_second(),
        max_age_secs: i64::try_from(state.config.init_data_max_age.as_secs()).unwrap_or(i64::MAX),
    };
    let verified = init_data::verify_with_bot_token(&body.init_data, token.expose(), freshness)
        .map_err(|error| error.to_string())
        .and_then(|verified| verified.user.ok_or_else(|| "init data carries no user".to_owned()));
    let user = match verified {
        Ok(user) => user,
        Err(error) => return Err(sign_in_failed(&state, &req, error).await),
    };
    let profile = TelegramProfile {
        telegram_id: user.id,
        first_name: user.first_name,
        last_name: user.last_name.filter(|s| !s.is_empty()),
        username: user.username.filter(|s| !s.is_empty()),
        language_code: user.language_code.filter(|s| !s.is_empty()),
        photo_url: user.photo_url.filter(|s| !s.is_empty()),
    };
    sign_in(&state, &req, &profile, "telegram").await
}

/// A refused sign-in (policy §3, security): logged with the address, and
/// counted against it. Past `RATE_SIGN_IN_FAILURES_PER_MIN` failures the
/// address gets 429 instead of 401 — only failures count, and a valid
/// `initData` from the same address still signs in: a forgery from a shared
/// address (a carrier's NAT, an office) must not lock everyone else out, and
/// a valid signature cannot be guessed anyway.
async fn sign_in_failed(state: &AppState, req: &HttpRequest, error: String) -> ApiError {
    let ip = client_ip(req, &state.config.trusted_proxies);
    tracing::warn!(target: "audit", %error, %ip, "telegram sign-in refused");
    match state.limiter.check(Rule::SignInFailurePerIp, &ip).await {
        Ok(()) => ApiError::new(Unauthorized, error),
        Err(retry_after) => {
            tracing::warn!(target: "audit", %ip, "too many failed sign-ins from this address");
            ApiError::TooManyRequests(retry_after)
        }
    }
}

/// Development sign-in without Telegram; exists only with `DEV_LOGIN=1`.
#[utoipa::path(post, path = "/api/auth/dev", tag = "auth", request_body = DevSignIn,
    responses((status = 200, body = SignedIn), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn dev_sign_in(state: State, req: HttpRequest, ValidJson(body): ValidJson<DevSignIn>) -> ApiResult {
    if !state.config.dev_login {
        return Err(super::problem::not_found_fallback());
    }
    limit_per_ip(&state, &req, Rule::SignInPerIp).await?;
    if body.telegram_id <= 0 {
        return Err(ApiError::field("telegram_id", "must be a positive Telegram user id"));
    }
    let profile = TelegramProfile {
        telegram_id: body.telegram_id,
        first_name: validate::text("first_name", &body.first_name, 64, false)?,
        last_name: None,
        username: validate::optional_text("username", body.username.as_deref(), 32, false)?,
        language_code: validate::language_code("language_code", body.language_code.as_deref())?,
        photo_url: None,
    };
    sign_in(&state, &req, &profile, "dev").await
}

async fn sign_in(state: &AppState, req: &HttpRequest, profile: &TelegramProfile, method: &str) -> ApiResult {
    let now = Timestamp::now();
    let mut user = state.store.upsert_telegram_user(profile, now).await?;
    if user.policy_version_seen.is_none() {
        // A new account agreed to the policy in force by signing up (§10):
        // it has no update to be told of.
        let version = &state.telegram.policy.version;
        state.store.acknowledge_policy(user.id, version, true).await?;
        user.policy_version_seen = Some(version.clone());
    }
    // 256 random bits, URL-safe: unguessable and opaque (it encodes nothing).
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let ttl = SignedDuration::try_from(state.config.session_ttl).map_err(|e| ApiError::Internal(e.into()))?;
    let expires_at = now.checked_add(ttl).map_err(|e| ApiError::Internal(e.into()))?;
    // The account's own writes above were forgotten already; a sign-out or
    // deletion from here on is not missed (see `Memo::keep`).
    let started = state.sessions.read_started();
    state
        .store
        .create_session(&NewSession { token_hash: token_hash(&token), user_id: user.id, created_at: now, expires_at })
        .await?;
    state.sessions.keep_signed_in(started, &token, SessionUser { user: user.clone(), expires_at });
    tracing::info!(target: "audit", user = %user.id, method, "signed in");
    super::access_log::mark(req, user.id);
    Ok(HttpResponse::Ok().json(SignedIn { token, expires_at: expires_at.to_string(), user: UserView::from(&user) }))
}
