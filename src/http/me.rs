//! `/api/me`: the signed-in account (privacy policy §8: access and correction).

use actix_web::HttpResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::{auth::AuthUser, json::ValidJson, state::State, validate};
use crate::store::UserChanges;
use crate::views::{BookingView, ClientCardView, ProviderView, ScheduleView, ServiceView, UserView};

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
    };
    let updated = state
        .store
        .update_user(user.id, &changes, Timestamp::now())
        .await?
        .ok_or_else(|| ApiError::new(ProblemType::Unauthorized, "this account no longer exists"))?;
    Ok(HttpResponse::Ok().json(UserView::from(&updated)))
}

/// Everything held about the signed-in user (privacy policy §8: access).
#[derive(Serialize, ToSchema)]
pub struct ExportView {
    pub exported_at: String,
    pub account: UserView,
    pub provider: Option<ProviderView>,
    pub services: Vec<ServiceView>,
    pub schedule: Option<ScheduleView>,
    pub bookings_as_client: Vec<BookingView>,
    /// The provider's client book, each client with their visits.
    pub client_book: Vec<ClientCardView>,
    /// My access log (policy §2), newest first, as long as it is kept.
    pub access_log: Vec<super::access_log::AccessEntryView>,
}

/// Everything held about me, as JSON.
#[utoipa::path(get, path = "/api/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = ExportView), (status = 401, body = Problem)))]
pub async fn export_me(state: State, AuthUser(user): AuthUser) -> ApiResult {
    let store = &state.store;
    let provider = store.provider_of_user(user.id).await?;
    let (mut services, mut schedule, mut client_book) = (Vec::new(), None, Vec::new());
    if let Some(provider) = &provider {
        services = store.services(provider.id, true).await?.iter().map(ServiceView::from).collect();
        schedule = Some(ScheduleView::from(&store.schedule(provider.id).await?));
        for client in store.clients(provider.id, None).await? {
            client_book.push(super::clients::card(&state, &client).await?);
        }
    }
    let bookings_as_client = store.client_bookings(user.id).await?.iter().map(BookingView::from).collect();
    let access_log = super::access_log::everything(&state, user.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", "attachment; filename=\"justbookme-export.json\""))
        .json(ExportView {
            exported_at: Timestamp::now().to_string(),
            account: UserView::from(&user),
            provider: provider.as_ref().map(ProviderView::from),
            services,
            schedule,
            bookings_as_client,
            client_book,
            access_log,
        }))
}

/// Delete my account (privacy policy §7): personal data is removed or
/// anonymized; anonymous booking counts remain. The session ends.
#[utoipa::path(delete, path = "/api/me", tag = "account", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn delete_me(state: State, req: actix_web::HttpRequest, AuthUser(user): AuthUser) -> ApiResult {
    // Telegram ids are positive; a negative random one keeps the column
    // unique and lets the same person sign up afresh.
    let placeholder = -((i64::from_le_bytes(super::auth::random_bytes()?) & i64::MAX).max(1));
    // A provider's calendar and watchers follow through the store's
    // settings announcement.
    state.store.delete_account(user.id, placeholder, Timestamp::now()).await?;
    // The account's access log went with it; this request adds no line.
    super::access_log::unmark(&req);
    tracing::info!(target: "audit", user = %user.id, "account deleted");
    Ok(HttpResponse::NoContent().finish())
}
