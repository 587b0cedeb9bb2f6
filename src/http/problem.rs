//! Errors as `application/problem+json` (RFC 9457), with a stable `type` per
//! kind of problem and, for bad input, the offending field.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use actors::calendar::CalendarError;
use actors::domain::{FieldError, TransitionError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// What 503 answers suggest: calendars restart and drain within a second.
const RETRY_AFTER_SECS: u32 = 1;

/// Whole seconds to wait, rounded up (Retry-After has no fractions).
fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The offending input field, as a path (`weekly[2].end`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// This occurrence: `urn:uuid:<request id>`, the same id as the
    /// `x-request-id` header and in our logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Every kind of problem this API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    /// Well-formed input with a value the rules refuse (422).
    Validation,
    /// Input that cannot be read at all: malformed JSON, wrong content type (400).
    BadRequest,
    UnsupportedMediaType,
    /// A body over the limit (413).
    PayloadTooLarge,
    /// A body that did not arrive within `BODY_TIMEOUT_SECS` (408).
    RequestTimeout,
    Unauthorized,
    /// The provider blocked this client (403); said politely, nothing more.
    ClientBlocked,
    /// The path exists, but not with this method (405).
    MethodNotAllowed,
    NotFound,
    /// The caller must create their provider profile first.
    NoProviderProfile,
    // The request conflicts with the current state (409), e.g. a slug in use.
    SlugTaken,
    SlotTaken,
    /// A class with no seat left at that start (409).
    ClassFull,
    InvalidStatus,
    /// Answering a proposal that is not (or no longer) there (409).
    NoProposal,
    /// A per-account cap is reached (`CLIENT_BOOK_MAX`, `SERVICES_MAX`): the
    /// state, not the input, is what must change (409).
    ClientBookFull,
    TooManyServices,
    /// A client waits for `waitlist::MAX_ENTRIES` days already (409).
    WaitlistFull,
    // Well-formed input that breaks a booking rule (422), e.g. a time that is
    // not offered or a cut-off that passed.
    NotBookable,
    IdempotencyKeyReused,
    PastCutoff,
    NotStarted,
    /// "I'm coming" for a visit that already started (422).
    AlreadyStarted,
    /// A dependency or feature is not available right now (503).
    Unavailable,
    /// Too busy right now; retry after a second (503 + Retry-After).
    Overloaded,
    /// Over a rate limit (429 + Retry-After).
    TooManyRequests,
    Internal,
}

impl ProblemType {
    /// The last segment of the `type` URI (`/problems/<slug>`), the status and the title.
    fn parts(self) -> (&'static str, StatusCode, &'static str) {
        use ProblemType::*;
        const RULES: &str = "Not allowed by the booking rules";
        match self {
            Validation => ("validation", StatusCode::UNPROCESSABLE_ENTITY, "Invalid value"),
            BadRequest => ("bad-request", StatusCode::BAD_REQUEST, "Malformed request"),
            UnsupportedMediaType => {
                ("unsupported-media-type", StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            }
            PayloadTooLarge => ("payload-too-large", StatusCode::PAYLOAD_TOO_LARGE, "Payload too large"),
            RequestTimeout => ("request-timeout", StatusCode::REQUEST_TIMEOUT, "Request timeout"),
            Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED, "Not signed in"),
            ClientBlocked => ("client-blocked", StatusCode::FORBIDDEN, "Not bookable for you"),
            MethodNotAllowed => ("method-not-allowed", StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            NotFound => ("not-found", StatusCode::NOT_FOUND, "Not found"),
            NoProviderProfile => ("no-provider-profile", StatusCode::NOT_FOUND, "No provider profile"),
            SlugTaken => ("slug-taken", StatusCode::CONFLICT, "Conflict"),
            SlotTaken => ("slot-taken", StatusCode::CONFLICT, "Conflict"),
            ClassFull => ("class-full", StatusCode::CONFLICT, "Class full"),
            InvalidStatus => ("invalid-status", StatusCode::CONFLICT, "Conflict"),
            NoProposal => ("no-proposal", StatusCode::CONFLICT, "Conflict"),
            ClientBookFull => ("client-book-full", StatusCode::CONFLICT, "Client book full"),
            TooManyServices => ("too-many-services", StatusCode::CONFLICT, "Too many services"),
            WaitlistFull => ("waitlist-full", StatusCode::CONFLICT, "Waitlist full"),
            NotBookable => ("not-bookable", StatusCode::UNPROCESSABLE_ENTITY, RULES),
            IdempotencyKeyReused => ("idempotency-key-reused", StatusCode::UNPROCESSABLE_ENTITY, RULES),
            PastCutoff => ("past-cutoff", StatusCode::UNPROCESSABLE_ENTITY, RULES),
            NotStarted => ("not-started", StatusCode::UNPROCESSABLE_ENTITY, RULES),
            AlreadyStarted => ("already-started", StatusCode::UNPROCESSABLE_ENTITY, RULES),
            Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
            Overloaded => ("overloaded", StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
            TooManyRequests => ("too-many-requests", StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
            Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
        }
    }
}

/// What handlers (and the helpers they share) answer.
pub type ApiResult<T = HttpResponse> = Result<T, ApiError>;

/// Everything an HTTP handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(#[from] FieldError),
    /// A problem of `kind`; `field` is the input to blame, if any.
    #[error("{detail}")]
    Problem { kind: ProblemType, field: Option<String>, detail: String },
    /// Retry after the given time.
    #[error("too many requests; retry in {} s", retry_after_secs(.0))]
    TooManyRequests(std::time::Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        ApiError::Problem { kind, field: None, detail: detail.into() }
    }

    pub fn blaming(kind: ProblemType, field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Problem { kind, field: Some(field.into()), detail: detail.into() }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(FieldError::new(field, message))
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(ProblemType::NotFound, format!("{what} not found"))
    }

    pub fn kind(&self) -> ProblemType {
        match self {
            ApiError::Validation(_) => ProblemType::Validation,
            ApiError::Problem { kind, .. } => *kind,
            ApiError::TooManyRequests(_) => ProblemType::TooManyRequests,
            ApiError::Internal(_) => ProblemType::Internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        use ProblemType::*;
        match error {
            StoreError::SlugTaken => {
                ApiError::blaming(SlugTaken, "slug", "this slug is already used by another provider")
            }
            StoreError::BookingOverlap | StoreError::DuplicateIdempotencyKey => {
                ApiError::blaming(SlotTaken, "start", "this time was just taken")
            }
            // The calendar retries these itself; one reaching a handler means
            // the settings kept changing under it: safe to retry.
            StoreError::StaleSettings => {
                ApiError::new(Unavailable, "the provider's settings just changed; please retry")
            }
            StoreError::Database(error) if database_unreachable(&error) => {
                tracing::warn!(%error, "the database is unreachable");
                ApiError::new(Unavailable, "the database is unreachable right now; retry shortly")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

/// "The database cannot be reached or is restarting", not "this request is
/// wrong": pool timeouts, broken sockets, and PostgreSQL's connection-exception
/// (08…), shutting-down / starting-up (57P01–57P03) and too-many-connections
/// (53300). These are 503 + Retry-After; anything else stays a 500.
fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<CalendarError> for ApiError {
    fn from(error: CalendarError) -> Self {
        use ProblemType::*;
        let detail = error.to_string();
        match error {
            CalendarError::NotFound(what) => ApiError::not_found(what),
            CalendarError::NotBookable(_) => ApiError::blaming(NotBookable, "start", detail),
            CalendarError::SlotTaken => ApiError::blaming(SlotTaken, "start", detail),
            CalendarError::ClassFull => ApiError::blaming(ClassFull, "start", detail),
            CalendarError::ClientBlocked => ApiError::new(ClientBlocked, super::bookings::BLOCKED),
            CalendarError::IdempotencyKeyReused => ApiError::blaming(IdempotencyKeyReused, "Idempotency-Key", detail),
            CalendarError::Transition(TransitionError::NotYours) => ApiError::not_found("booking"),
            CalendarError::Transition(TransitionError::WrongStatus(..)) => ApiError::new(InvalidStatus, detail),
            CalendarError::Transition(TransitionError::PastCutoff(_)) => ApiError::new(PastCutoff, detail),
            CalendarError::Transition(TransitionError::NotStarted) => ApiError::new(NotStarted, detail),
            CalendarError::Transition(TransitionError::NoProposal) => ApiError::new(NoProposal, detail),
            CalendarError::Transition(TransitionError::AlreadyStarted) => ApiError::new(AlreadyStarted, detail),
            // Only the system expires requests; no request reaches this.
            CalendarError::Transition(TransitionError::NotDue) => ApiError::new(InvalidStatus, detail),
            CalendarError::Overloaded => ApiError::new(Overloaded, detail),
            CalendarError::Unavailable(_) => ApiError::new(Unavailable, detail),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().parts().1
    }

    fn error_response(&self) -> HttpResponse {
        let (slug, status, title) = self.kind().parts();
        let detail = match self {
            ApiError::Internal(error) => {
                // The cause goes to the log, never to the client.
                tracing::error!(error = ?error, "request failed");
                "something went wrong on our side; try again".to_owned()
            }
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field: match self {
                ApiError::Validation(error) => Some(error.field.clone()),
                ApiError::Problem { field, .. } => field.clone(),
                _ => None,
            },
            instance: super::request_id::current().map(|id| format!("urn:uuid:{id}")),
        };
        let mut response = HttpResponse::build(status);
        match (self, self.kind()) {
            (_, ProblemType::Unauthorized) => response.insert_header((header::WWW_AUTHENTICATE, "Bearer")),
            (_, ProblemType::Unavailable | ProblemType::Overloaded) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()))
            }
            (ApiError::TooManyRequests(wait), _) => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs(wait).to_string()))
            }
            _ => &mut response,
        };
        response.content_type("application/problem+json").json(problem)
    }
}

/// Turns actix's own extractor and routing failures into problem+json too.
pub fn not_found_fallback() -> ApiError {
    ApiError::new(ProblemType::NotFound, "no such route")
}

/// actix answers a known path with a wrong method by an empty 405; this
/// turns it into a problem like every other error (wired in `startup`).
pub fn method_not_allowed<B>(
    response: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    let (request, _) = response.into_parts();
    let detail = format!("{} is not allowed here", request.method());
    let problem = ApiError::new(ProblemType::MethodNotAllowed, detail).error_response();
    let response = actix_web::dev::ServiceResponse::new(request, problem).map_into_right_body();
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(response))
}
