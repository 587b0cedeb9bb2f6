//! `/api/me`: the signed-in account (privacy policy §8: access and correction).

use actix_web::HttpResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, json::ValidJson, state::State, validate};
use crate::account::DeletionError;
use crate::export::ExportView;
use crate::store::UserChanges;
use crate::views::UserView;

/// My account.
#[utoipa::path(get, path = "/api/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
pub async fn get_me(AuthUser(user): AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&user))
}

/// Corrections to the account. Telegram refreshes these fields at the next
/// Telegram sign-in, so a correction lasts until the user changes them there.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub language_code: Option<Option<String>>,
    /// Restrict processing (privacy policy §8): the bot stops messaging you.
    pub processing_restricted: Option<bool>,
    /// The device's IANA time zone (`Europe/Berlin`): the Mini App sends it
    /// whenever it differs from the stored one, and the bot then shows this
    /// user's own wall time beside the provider's. `null` clears it.
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>, example = "Europe/Berlin")]
    pub time_zone: Option<Option<String>>,
}

/// Correct my account.
#[utoipa::path(patch, path = "/api/me", tag = "account", security(("bearer" = [])), request_body = MePatch,
    responses((status = 200, body = UserView), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_me(state: State, AuthUser(user): AuthUser, ValidJson(patch): ValidJson<MePatch>) -> ApiResult {
    let changes = UserChanges {
        first_name: patch.first_name.map(|name| validate::text("first_name", &name, 64, false)).transpose()?,
        last_name: patch
            .last_name
            .map(|name| validate::optional_text("last_name", name.as_deref(), 64, false))
            .transpose()?,
        language_code: patch
            .language_code
            .map(|code| validate::language_code("language_code", code.as_deref()))
            .transpose()?,
        processing_restricted: patch.processing_restricted,
        time_zone: patch.time_zone.map(|zone| validate::time_zone("time_zone", zone.as_deref())).transpose()?,
    };
    let updated = state
        .store
        .update_user(user.id, &changes, Timestamp::now())
        .await?
        .ok_or_else(|| ApiError::new(ProblemType::Unauthorized, "this account no longer exists"))?;
    Ok(HttpResponse::Ok().json(UserView::from(&updated)))
}

/// Everything held about me, as JSON (privacy policy §8: access); the bot's
/// `/mydata` sends the same document.
#[utoipa::path(get, path = "/api/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = ExportView), (status = 401, body = Problem)))]
pub async fn export_me(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let export = crate::export::export(&*state.store, &user).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{}\"", crate::export::FILE_NAME)))
        .json(export))
}

/// The published privacy policy (§10).
#[derive(Serialize, ToSchema)]
pub struct PolicyView {
    /// `<publication date>.<start of the text's SHA-256>`: changes whenever the text does.
    pub version: String,
    pub published_at: String,
    pub text: String,
}

/// The privacy policy in force, with its version.
#[utoipa::path(get, path = "/api/policy", tag = "account", responses((status = 200, body = PolicyView)))]
pub async fn get_policy(state: State) -> HttpResponse {
    let policy = &state.telegram.policy;
    HttpResponse::Ok().insert_header(("Cache-Control", "no-cache")).json(PolicyView {
        version: policy.version.clone(),
        published_at: policy.published_at.to_string(),
        text: policy.text.to_string(),
    })
}

/// I have seen the policy in force (the Mini App's "policy updated" notice
/// stops). Answers the account, `policy_version_seen` updated.
#[utoipa::path(post, path = "/api/me/policy-ack", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
pub async fn acknowledge_policy(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let version = &state.telegram.policy.version;
    state.store.acknowledge_policy(user.id, version, false).await?;
    // The one field the write changed; the rest is the row the session read.
    let user = crate::store::User { policy_version_seen: Some(version.clone()), ..user };
    Ok(HttpResponse::Ok().json(UserView::from(&user)))
}

/// Ask a provider to delete my card from their client book (policy §6: the
/// provider controls it and decides). The provider sees the request on the
/// card and gets a bot message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The provider's slug.
    pub provider: String,
}

/// Ask a provider to delete my data from their client book.
#[utoipa::path(post, path = "/api/me/erasure-requests", tag = "account", security(("bearer" = [])),
    request_body = ErasureRequest,
    responses((status = 202), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn request_erasure(
    state: State,
    AuthUser(user): AuthUser,
    ValidJson(request): ValidJson<ErasureRequest>,
) -> ApiResult {
    let provider = super::public::provider_by_slug(&state, &request.provider).await?;
    let name = validate::shown_name(&user.profile.first_name, None);
    let letters = crate::letters::erasure_requested(&*state.store, &provider, &name).await?;
    state
        .store
        .request_erasure(provider.id, user.id, &letters, Timestamp::now())
        .await?
        .ok_or_else(|| ApiError::not_found("client card of yours at this provider"))?;
    tracing::info!(target: "audit", user = %user.id, provider = %provider.id, "erasure requested");
    Ok(HttpResponse::Accepted().finish())
}

/// Delete my account (privacy policy §7): personal data is removed or
/// anonymized; anonymous booking counts remain. The session ends.
#[utoipa::path(delete, path = "/api/me", tag = "account", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn delete_me(state: State, req: actix_web::HttpRequest, AuthUser(user): AuthUser) -> ApiResult {
    crate::account::delete(&*state.store, user.id, "api").await.map_err(|error| match error {
        DeletionError::Store(error) => ApiError::from(error),
        other => ApiError::Internal(other.into()),
    })?;
    // The account's access log went with it; this request adds no line.
    super::access_log::unmark(&req);
    Ok(HttpResponse::NoContent().finish())
}
