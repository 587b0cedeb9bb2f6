//! Operations endpoints: liveness, readiness, metrics, the OpenAPI document.

use actix_web::HttpResponse;
use serde_json::json;
use utoipa::OpenApi;

use super::openapi::ApiDoc;
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::state::State;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200), (status = 503, body = Problem)))]
pub async fn readyz(state: State) -> ApiResult {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(%error, "readiness check failed");
        ApiError::new(ProblemType::Unavailable, "the database does not answer")
    })?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}

/// What the Mini App needs to know about this node before anyone signs in.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AppSettings {
    /// The bot's @username (without the @) once Telegram told it; providers'
    /// share links are `https://t.me/<bot_username>?startapp=<slug>`.
    pub bot_username: Option<String>,
    /// Whether `POST /api/auth/dev` works (`DEV_LOGIN=1`).
    pub dev_login: bool,
    /// Whether Telegram sign-in can work (a bot token is configured).
    pub telegram_sign_in: bool,
}

/// Settings the Mini App reads at start.
#[utoipa::path(get, path = "/api/app", tag = "ops", responses((status = 200, body = AppSettings)))]
pub async fn app_settings(state: State) -> HttpResponse {
    HttpResponse::Ok().json(AppSettings {
        bot_username: state.telegram.bot_username.get().cloned(),
        dev_login: state.config.dev_login,
        telegram_sign_in: state.config.telegram_bot_token.is_some(),
    })
}

/// This API, described as OpenAPI 3.1.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops", responses((status = 200, content_type = "application/json")))]
pub async fn openapi() -> HttpResponse {
    // The document never changes while the process runs: build it once.
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default());
    HttpResponse::Ok().content_type("application/json").body(body.as_str())
}
