//! The access log's HTTP side (privacy policy §2): the middleware that
//! records each request of a signed-in user and each sign-in attempt, and
//! `GET /api/me/access-log`, which shows a user their own lines.
//!
//! The middleware does no I/O and never waits: after the response is ready
//! it copies a few fields into a line and queues it (`crate::access_log`).
//! Who the user was is learned from the request's extensions, where the
//! bearer extractor (and a successful sign-in) put [`SignedIn`].

use actix_web::{
    Error, HttpMessage, HttpRequest, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web,
};
use actors::domain::UserId;
use jiff::Timestamp;

use super::auth::AuthUser;
use super::extract::{client_ip, query_params};
use super::problem::{ApiError, ApiResult, Problem};
use super::state::{AppState, State};
use crate::{access_log::PendingLine, views::AccessEntryView};

/// The routes whose every attempt is logged, signed in or not.
const SIGN_IN_ROUTES: &[&str] = &["/api/auth/telegram", "/api/auth/dev"];
/// Lines shown when `limit` is not given, and the most one request may ask for.
const DEFAULT_LIMIT: i64 = 200;
const MAX_LIMIT: i64 = 1_000;

/// The request was made by this user (put by the bearer extractor and by a
/// successful sign-in; read by the middleware).
#[derive(Clone, Copy)]
pub struct SignedIn(pub UserId);

/// Marks `req` as made by `user_id`.
pub fn mark(req: &HttpRequest, user_id: UserId) {
    req.extensions_mut().insert(SignedIn(user_id));
}

/// Unmarks `req`: an account deleted by this very request leaves no line.
pub fn unmark(req: &HttpRequest) {
    req.extensions_mut().remove::<SignedIn>();
}

/// Records the request after it was answered, if it is one we log.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let at = Timestamp::now();
    let response = next.call(req).await?;
    let request = response.request();
    let Some(state) = request.app_data::<web::Data<AppState>>() else { return Ok(response) };
    let Some(log) = &state.access_log else { return Ok(response) };
    let user_id = request.extensions().get::<SignedIn>().map(|signed_in| signed_in.0);
    let route = request.match_pattern();
    let is_sign_in = route.as_deref().is_some_and(|route| SIGN_IN_ROUTES.contains(&route));
    let (Some(route), true) = (route, user_id.is_some() || is_sign_in) else { return Ok(response) };
    log.send(PendingLine {
        at,
        user_id,
        ip: client_ip(request, &state.config.trusted_proxies),
        user_agent: request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        method: request.method().to_string(),
        route,
        status: response.status().as_u16(),
    });
    Ok(response)
}

/// My access log (privacy policy §2): the requests I made and my sign-ins,
/// newest first; `limit` (1–1000, default 200) lines. Lines are written in
/// batches, up to a second after the request.
#[utoipa::path(get, path = "/api/me/access-log", tag = "account", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1–1000, default 200")),
    responses((status = 200, body = [AccessEntryView]), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn my_access_log(state: State, req: HttpRequest, AuthUser(user): AuthUser) -> ApiResult {
    let limit = match query_params(&req)?.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => {
            text.parse::<i64>().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)).ok_or_else(|| {
                ApiError::field("limit", format!("{text:?} is not a whole number from 1 to {MAX_LIMIT}"))
            })?
        }
    };
    let entries = state.store.access_log(user.id, limit).await?;
    Ok(HttpResponse::Ok().json(entries.iter().map(AccessEntryView::from).collect::<Vec<_>>()))
}
