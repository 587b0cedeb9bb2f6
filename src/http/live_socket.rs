//! `GET /ws`: the WebSocket's way in; the session itself is `live::ws`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    extract::limit_per_ip,
    problem::{ApiError, Problem, ProblemType},
    state::State,
};
use crate::{live::ws, rate_limit::Rule};

/// Live availability and the provider's booking feed (DESIGN §7).
#[utoipa::path(get, path = "/ws", tag = "live",
    description = "WebSocket. Client → server: watch / unwatch / auth; server → client: slots, booking, authenticated, error. \
        A client may send `WS_MESSAGES_PER_SEC` messages a second (a burst of twice that); more get an error frame with \
        status 429, and 50 such in a row close the connection with 1008 (policy violation).",
    responses((status = 101, description = "switching to WebSocket"),
        (status = 400, description = "not a WebSocket handshake", body = Problem), (status = 429, body = Problem)))]
pub async fn connect(req: HttpRequest, stream: web::Payload, state: State) -> Result<HttpResponse, actix_web::Error> {
    limit_per_ip(&state, &req, Rule::WsConnectPerIp).await?;
    // Checked here so a plain GET gets a problem, not actix-web-actors' bare text.
    if let Err(error) = actix_web_actors::ws::handshake(&req) {
        return Err(ApiError::new(ProblemType::BadRequest, format!("not a WebSocket handshake: {error}")).into());
    }
    let config = &state.config;
    ws::start(
        &req,
        stream,
        state.hub.clone(),
        state.store.clone(),
        state.sessions.clone(),
        config.heartbeat,
        config.caps.ws_messages_per_sec,
    )
}
