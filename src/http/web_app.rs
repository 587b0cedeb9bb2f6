//! The Mini App's files (`web/`): embedded into release builds, read from disk
//! in debug builds (rust-embed's own switch), so a front-end change needs no
//! rebuild in development and the release binary needs nothing beside it.
//!
//! There is no build step: the files are plain ES modules and CSS. Every
//! response is revalidated (`no-cache` + a content-hash ETag): a returning
//! Mini App costs one 304 per file, and a deploy is never half-seen.

use std::borrow::Cow;

use actix_web::{
    HttpRequest, HttpResponse, guard,
    http::header::{self, HeaderValue},
    middleware::Compress,
    web::{self, Bytes},
};
use rust_embed::RustEmbed;

use super::problem::{ApiError, ApiResult};
use super::state::State;

#[derive(RustEmbed)]
#[folder = "web/"]
#[include = "index.html"]
#[include = "assets/*"]
struct Files;

/// Only Telegram's own script and ours run; only our origin is reached (the
/// privacy policy's promise: no third-party scripts, no trackers). Telegram
/// clients show the app in a frame, so framing stays allowed. The style hash
/// is that of an empty `<style>`, which Telegram's script adds when framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").wrap(Compress::default()).route(get_or_head().to(index)))
        .service(web::resource("/assets/{path:.*}").wrap(Compress::default()).route(get_or_head().to(asset)))
        .service(web::resource("/privacy").wrap(Compress::default()).route(get_or_head().to(privacy_policy)));
}

fn get_or_head() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn index(req: HttpRequest) -> ApiResult {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> ApiResult {
    serve(&req, &format!("assets/{path}"))
}

/// The published policy as plain text (the same text the bot's `/privacy` sends).
async fn privacy_policy(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(state.telegram.policy.text.to_string())
}

fn serve(req: &HttpRequest, path: &str) -> ApiResult {
    let file = Files::get(path).ok_or_else(|| ApiError::not_found("file"))?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if path == "index.html" {
        response.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY));
    }
    if fresh {
        return Ok(response.finish());
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") || mime.ends_with("json") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let content_type =
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Release builds hold the file in the binary: send it from there, no copy per request.
    let body = match file.data {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Ok(response.insert_header((header::CONTENT_TYPE, content_type)).body(body))
}
