//! `/api/me`: the signed-in account (privacy policy §8: access and correction).

use actix_web::{HttpResponse, web};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, AppState, ValidJson, auth::AuthUser, validate, views::UserView};
use crate::store::UserChanges;

/// My account.
#[utoipa::path(get, path = "/api/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = super::Problem)))]
pub async fn get_me(AuthUser(user): AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&user))
}

/// Corrections to the account. Telegram refreshes these fields at the next
/// Telegram sign-in, so a correction lasts until the user changes them there.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub language_code: Option<Option<String>>,
}

/// Correct my account.
#[utoipa::path(patch, path = "/api/me", tag = "account", security(("bearer" = [])), request_body = MePatch,
    responses((status = 200, body = UserView), (status = 401, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_me(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidJson(patch): ValidJson<MePatch>,
) -> Result<HttpResponse, ApiError> {
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
    };
    let updated = state
        .store
        .update_user(user.id, &changes, Timestamp::now())
        .await?
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    Ok(HttpResponse::Ok().json(UserView::from(&updated)))
}
