//! JSON answers over 1 KiB travel gzip-compressed to a client that accepts
//! it (the 31-day slots answer: ≈ 20 KB of JSON, a tenth of that gzipped).
//!
//! Not actix's `Compress` middleware: that one compresses every answer,
//! however small, and hands each body over 1 KiB to a blocking thread. Here
//! only JSON (`application/json`, `application/problem+json`) is touched,
//! only when its whole body is known and larger than [`THRESHOLD`] — below
//! that, gzip's header and the work cost more than they save — and it is
//! compressed in place at gzip's fastest level (JSON compresses well even
//! there). The Mini App's assets keep their own compression (and ETags);
//! a body that already has a `Content-Encoding` is left alone.

use std::io::Write;

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue},
    middleware::Next,
};

/// Bodies up to this many bytes go as they are.
pub const THRESHOLD: usize = 1024;

pub async fn json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let gzip_accepted = req
        .get_header::<AcceptEncoding>()
        .and_then(|accepted| accepted.negotiate([Encoding::gzip()].iter()))
        .is_some_and(|chosen| chosen == Encoding::gzip());
    let response = next.call(req).await?.map_into_boxed_body();
    if !is_json(&response) || response.headers().contains_key(header::CONTENT_ENCODING) {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut response, body) = response.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        // A streamed body (none of ours is) goes on as it is.
        Err(body) => return Ok(ServiceResponse::new(request, response.set_body(body))),
    };
    if bytes.len() <= THRESHOLD {
        return Ok(ServiceResponse::new(request, response.set_body(BoxBody::new(bytes))));
    }
    // Caches must tell the two forms apart.
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let body = match gzip_accepted.then(|| gzip(&bytes)).and_then(Result::ok) {
        Some(compressed) => {
            response.headers_mut().insert(header::CONTENT_ENCODING, ContentEncoding::Gzip.to_header_value());
            BoxBody::new(compressed)
        }
        None => BoxBody::new(bytes),
    };
    Ok(ServiceResponse::new(request, response.set_body(body)))
}

fn is_json(response: &ServiceResponse<BoxBody>) -> bool {
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    content_type.is_some_and(|value| {
        let essence = value.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("application/problem+json")
    })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}
