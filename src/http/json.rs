//! `ValidJson<T>`: a JSON body extractor whose errors name the offending field.
//!
//! It also holds the body limits against hostile clients (issue 16): only
//! `application/json` is JSON (415 otherwise), at most [`MAX_BODY_BYTES`]
//! (413), whole within `BODY_TIMEOUT_SECS` (408, and the connection is
//! closed), at most [`MAX_DEPTH`] arrays and objects deep (400), and one JSON
//! value with nothing after it (400).

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpRequest,
    dev::{Decompress, Payload},
    http::header,
    web::{self, BytesMut},
};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::problem::{ApiError, ApiResult, ProblemType, ProblemType::BadRequest};
use super::state::AppState;

/// Largest JSON body accepted; every request of the API fits in a fraction.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Deepest nesting of arrays and objects accepted. The deepest body of the
/// API (a schedule's week of intervals) is 3 levels; serde_json's own guard
/// is 128, deep enough to cost stack and time on every hostile request.
pub const MAX_DEPTH: usize = 32;

/// A JSON request body. Unlike `web::Json`, a type or missing-field error says
/// which field (`weekly[1].start`), as `application/problem+json`.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            // Exactly `application/json`: a `+json` suffix names another
            // format (problem+json, evil+json) that merely looks like JSON.
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .is_some_and(|length| length > MAX_BODY_BYTES as u64);
        let timeout = req
            .app_data::<web::Data<AppState>>()
            .map_or(crate::config::DEFAULT_BODY_TIMEOUT, |state| state.config.body_timeout);
        // Decompressed as actix's own extractors do, so the limit counts
        // what we parse (a small gzip body cannot unpack past it).
        let body = Decompress::from_headers(payload.take(), req.headers());
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ProblemType::UnsupportedMediaType,
                    "send the body as JSON with Content-Type: application/json",
                ));
            }
            if declared_too_large {
                return Err(too_large());
            }
            let bytes = actix_web::rt::time::timeout(timeout, read_limited(body)).await.map_err(|_| {
                ApiError::new(
                    ProblemType::RequestTimeout,
                    format!("the body did not arrive within {} s", timeout.as_secs()),
                )
            })??;
            parse(&bytes).map(ValidJson)
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(ProblemType::PayloadTooLarge, format!("body larger than {MAX_BODY_BYTES} bytes"))
}

/// The whole body, refused as soon as it passes [`MAX_BODY_BYTES`] (a
/// chunked body has no length to check up front).
async fn read_limited(mut body: Decompress<Payload>) -> ApiResult<web::Bytes> {
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(BadRequest, e.to_string()))?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Deserializes `bytes`, mapping serde's error to the field it concerns.
/// Exactly one JSON value: anything after it (`{…}{…}`, `{…} garbage`) is
/// refused, not silently ignored.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if depth(bytes) > MAX_DEPTH {
        return Err(ApiError::new(BadRequest, format!("JSON nested deeper than {MAX_DEPTH} levels")));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::new(BadRequest, format!("malformed JSON: {message}"));
        }
        ApiError::field(field_of(&path, &message), message)
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::new(BadRequest, "malformed JSON: data after the end of the JSON value"))?;
    Ok(value)
}

/// How deep arrays and objects nest in `bytes`, brackets inside strings not
/// counted. One pass over bytes, before any parsing: malformed input gets
/// some number and the parser then refuses it on its own terms.
fn depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// serde names a missing or unknown field in the message, at the parent's
/// path; the field a client must fix is that name under the parent.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (named, path) {
        // A key named "" has no name to blame: the object holding it is
        // blamed instead (the whole body at the top), never an empty field.
        (Some(""), path) => match path.strip_suffix('.').unwrap_or(path) {
            "" => "body".to_owned(),
            parent => parent.to_owned(),
        },
        (Some(name), "." | "") => name.to_owned(),
        // serde_path_to_error already ends the path with an unknown field.
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "") => "body".to_owned(),
        (None, path) => path.to_owned(),
    }
}

/// serde_json appends " at line 1 column 17", which is noise for an API client.
fn strip_position(message: &str) -> String {
    message.rfind(" at line ").map_or(message, |index| &message[..index]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actors::domain::TimeOfDay;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        start: TimeOfDay,
    }

    fn field(body: &str) -> Option<String> {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation(error)) => Some(error.field),
            _ => None,
        }
    }

    #[test]
    fn names_the_field_for_every_kind_of_data_error() {
        assert_eq!(field(r#"{"name": 5, "items": []}"#).as_deref(), Some("name"));
        assert_eq!(field(r#"{"items": []}"#).as_deref(), Some("name"));
        assert_eq!(
            field(r#"{"name": "x", "items": [{"start": "09:00"}, {"start": "9"}]}"#).as_deref(),
            Some("items[1].start")
        );
        assert_eq!(field(r#"{"name": "x", "items": [{}]}"#).as_deref(), Some("items[0].start"));
        assert_eq!(field(r#"{"name": "x", "items": [], "extra": 1}"#).as_deref(), Some("extra"));
    }

    /// Found by the `json_bodies` fuzz target: an unknown key `""` was
    /// refused blaming the field `""`, which names nothing a client can fix.
    #[test]
    fn an_empty_key_blames_the_object_holding_it() {
        assert_eq!(field(r#"{"": 1, "name": "x", "items": []}"#).as_deref(), Some("body"));
        assert_eq!(field(r#"{"name": "x", "items": [{"start": "09:00", "": 1}]}"#).as_deref(), Some("items[0]"));
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(parse::<Outer>(b"{\"name\": "), Err(ApiError::Problem { kind: BadRequest, .. })));
        assert!(matches!(parse::<Outer>(b"not json"), Err(ApiError::Problem { kind: BadRequest, .. })));
        let trailing = br#"{"name": "x", "items": []}{"name": "y"} garbage"#;
        assert!(matches!(parse::<Outer>(trailing), Err(ApiError::Problem { kind: BadRequest, .. })));
        assert!(parse::<Outer>(b"{\"name\": \"x\", \"items\": []}\n ").is_ok(), "trailing whitespace is fine");
    }

    #[test]
    fn nesting_is_bounded_and_brackets_in_strings_do_not_count() {
        let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        assert_eq!(depth(nested(MAX_DEPTH).as_bytes()), MAX_DEPTH);
        assert!(matches!(
            parse::<serde_json::Value>(nested(MAX_DEPTH + 1).as_bytes()),
            Err(ApiError::Problem { kind: BadRequest, .. })
        ));
        assert!(parse::<serde_json::Value>(nested(MAX_DEPTH).as_bytes()).is_ok());
        let brackets_in_a_string = format!(r#"{{"name": "{}\"[", "items": []}}"#, "[{".repeat(100));
        assert!(parse::<Outer>(brackets_in_a_string.as_bytes()).is_ok());
    }
}
