//! Every request is answered within [`REQUEST_TIMEOUT`]: a database cut
//! mid-query (packets dropped, nobody told) would otherwise hold a request
//! until TCP gives up, minutes later. Past the deadline the handler is
//! dropped (an open transaction rolls back with its connection) and the
//! client gets 503 + `Retry-After`; booking retries are safe with their
//! `Idempotency-Key`. A WebSocket's upgrade is answered at once, so live
//! sessions are not limited by it.

use std::time::Duration;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use super::problem::{ApiError, ProblemType};

/// Longer than every bound below it (the pool's 2 s acquire timeout, the
/// calendar's 5 s repository timeout), so those answer first and precisely.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Logged inside the request's span, which names the path and the id.
    actix_web::rt::time::timeout(REQUEST_TIMEOUT, next.call(req)).await.unwrap_or_else(|_| {
        tracing::warn!("request timed out");
        Err(ApiError::new(ProblemType::Unavailable, "the server could not answer in time; please retry").into())
    })
}
