//! `ValidJson<T>`: a JSON body extractor whose errors name the offending field.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use serde::de::DeserializeOwned;

use super::problem::{ApiError, ApiResult, ProblemType, ProblemType::BadRequest};

/// Largest JSON body accepted; every request of the API fits in a fraction.
const MAX_BODY_BYTES: usize = 64 * 1024;

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
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ProblemType::UnsupportedMediaType,
                    "send the body as JSON with Content-Type: application/json",
                ));
            }
            let bytes = body.await.map_err(|e| ApiError::new(BadRequest, e.to_string()))?;
            if bytes.len() > MAX_BODY_BYTES {
                return Err(ApiError::new(BadRequest, format!("body larger than {MAX_BODY_BYTES} bytes")));
            }
            parse(&bytes).map(ValidJson)
        })
    }
}

/// Deserializes `bytes`, mapping serde's error to the field it concerns.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::new(BadRequest, format!("malformed JSON: {message}"));
        }
        ApiError::field(field_of(&path, &message), message)
    })
}

/// serde names a missing or unknown field in the message, at the parent's
/// path; the field a client must fix is that name under the parent.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (named, path) {
        (Some(name), "." | "") => name.to_owned(),
        // serde_path_to_error already ends the path with an unknown field.
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
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

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(parse::<Outer>(b"{\"name\": "), Err(ApiError::Problem { kind: BadRequest, .. })));
        assert!(matches!(parse::<Outer>(b"not json"), Err(ApiError::Problem { kind: BadRequest, .. })));
    }
}
