//! Webhook mode's way in: Telegram posts an update; the node's own dispatcher
//! takes it from here (`telegram::webhook`).

use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};
use teloxide::types::Update;

use super::problem::{ApiError, ApiResult, ProblemType, not_found_fallback};
use super::state::State;

/// `POST /telegram/{derived path}`: one update from Telegram.
pub async fn receive(req: HttpRequest, body: web::Bytes, state: State) -> ApiResult {
    let (Some(secret), Some(sender)) = (&state.config.telegram_webhook_secret, &state.telegram_updates) else {
        return Err(not_found_fallback());
    };
    let given = req.headers().get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
    // Compared as digests: equal length, and no early exit on the first byte.
    if Sha256::digest(given) != Sha256::digest(secret.as_bytes()) {
        return Err(ApiError::new(ProblemType::Unauthorized, "wrong webhook secret token"));
    }
    let update: Update = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ProblemType::BadRequest, format!("not a Telegram update: {e}")))?;
    // Full: the dispatcher is far behind. Telegram redelivers an update it
    // got no 2xx for, so refusing here loses nothing and bounds our memory.
    if sender.try_send(update).is_err() {
        return Err(ApiError::new(ProblemType::Overloaded, "too many updates waiting; deliver again later"));
    }
    Ok(HttpResponse::Ok().finish())
}
