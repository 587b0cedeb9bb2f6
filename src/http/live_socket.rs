//! `GET /ws`: the WebSocket's way in; the session itself is `live::ws`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{extract::limit_per_ip, problem::Problem, state::State};
use crate::{live::ws, rate_limit::Rule};

/// Live availability and the provider's booking feed (DESIGN §7).
#[utoipa::path(get, path = "/ws", tag = "live",
    description = "WebSocket. Client → server: watch / unwatch / auth; server → client: slots, booking, authenticated, error.",
    responses((status = 101, description = "switching to WebSocket"), (status = 429, body = Problem)))]
pub async fn connect(req: HttpRequest, stream: web::Payload, state: State) -> Result<HttpResponse, actix_web::Error> {
    limit_per_ip(&state, &req, Rule::WsConnectPerIp).await?;
    ws::start(&req, stream, state.hub.clone(), state.store.clone(), state.config.heartbeat)
}
