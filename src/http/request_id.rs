//! A request id on every request: in the `x-request-id` response header, in
//! every problem+json body as `instance` (`urn:uuid:…`), and on the tracing
//! span the whole request runs in — so a user's "it said something went
//! wrong" with the id finds the log lines of exactly that request.
//!
//! The id is always ours (a UUIDv7, time-ordered): a client-sent id would
//! let anyone write what they like into our logs.

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;
use uuid::Uuid;

tokio::task_local! {
    static REQUEST_ID: Uuid;
}

pub const HEADER: &str = "x-request-id";

/// The id of the request this task serves, if any.
pub fn current() -> Option<Uuid> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// Outermost middleware: numbers the request and renders errors inside its
/// scope, so that their problem+json carries the id too.
pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = Uuid::now_v7();
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path());
    // Always valid: a UUID is plain ASCII.
    let value = HeaderValue::from_str(&id.to_string())?;
    let header = value.clone();
    let served = REQUEST_ID.scope(id, async move {
        match next.call(req).await {
            Ok(response) => Ok::<_, Error>(response.map_into_boxed_body()),
            // An error no inner layer turned into a response (the deadline's):
            // render it here, in scope, and hand that response on.
            Err(error) => {
                let mut response = error.error_response();
                response.headers_mut().insert(HeaderName::from_static(HEADER), header);
                Err(InternalError::from_response(error.to_string(), response).into())
            }
        }
    });
    let mut response = served.instrument(span).await?;
    response.headers_mut().insert(HeaderName::from_static(HEADER), value);
    Ok(response)
}
