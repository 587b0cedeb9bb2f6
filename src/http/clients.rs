//! `/api/provider/clients`: the provider's client book (privacy policy §6: the
//! provider controls their clients' data — reads, corrects and deletes it).

use actix_web::{HttpRequest, HttpResponse, web};
use actors::domain::{ClientId, ProviderId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{parse_id, query_params};
use super::problem::{ApiError, ApiResult, Problem, ProblemType};
use super::state::{AppState, State};
use super::{auth::AuthUser, json::ValidJson, provider::my_provider, validate};
use crate::store::{ClientDeletion, ClientFields, NewClient};
use crate::views::{ClientCardView, ClientView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub name: String,
    pub contacts: Option<String>,
    pub notes: Option<String>,
}

/// Fields left out stay; `null` clears contacts or notes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub contacts: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// Block (`true`) or unblock the client: a blocked client's bookings
    /// with you are refused (403 `client-blocked`).
    pub blocked: Option<bool>,
}

/// Refuses one more client typed in past `CLIENT_BOOK_MAX`. Checked before
/// the insert, not in it: concurrent adds may pass the cap by a few, which
/// is fine for a bound on storage (it is not a rule). Counted by the
/// database: the client list stops at 1,000, below the default cap.
pub(super) async fn ensure_room(state: &AppState, provider_id: ProviderId) -> ApiResult<()> {
    let cap = state.config.caps.client_book;
    if state.store.clients_added_by_hand(provider_id).await? >= cap as u64 {
        let detail = format!("at most {cap} clients can be added by hand; delete some you no longer need");
        return Err(ApiError::new(ProblemType::ClientBookFull, detail));
    }
    Ok(())
}

/// A client's fields, checked (the `json_bodies` fuzz target drives it).
pub fn validated(name: &str, contacts: Option<&str>, notes: Option<&str>) -> ApiResult<ClientFields> {
    Ok(ClientFields {
        name: validate::text("name", name, 100, false)?,
        contacts: validate::optional_text("contacts", contacts, 500, true)?,
        notes: validate::optional_text("notes", notes, 5000, true)?,
    })
}

/// My client book; `search` matches name or contacts, case-insensitively.
#[utoipa::path(get, path = "/api/provider/clients", tag = "clients", security(("bearer" = [])),
    params(("search" = Option<String>, Query)),
    responses((status = 200, body = [ClientView]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list(state: State, AuthUser(user): AuthUser, req: HttpRequest) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let params = query_params(&req)?;
    // Checked like a name: a NUL would reach PostgreSQL (which refuses it
    // in text, a 500), and nothing stored can match a control character.
    let search = validate::optional_text("search", params.get("search").map(String::as_str), 100, false)?;
    let clients = state.store.clients(provider.id, search.as_deref()).await?;
    Ok(HttpResponse::Ok().json(clients.iter().map(ClientView::from).collect::<Vec<_>>()))
}

/// Add a client by hand.
#[utoipa::path(post, path = "/api/provider/clients", tag = "clients", security(("bearer" = [])), request_body = ClientInput,
    responses((status = 201, body = ClientView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`CLIENT_BOOK_MAX` clients added by hand already", body = Problem),
        (status = 422, body = Problem)))]
pub async fn add(state: State, AuthUser(user): AuthUser, ValidJson(input): ValidJson<ClientInput>) -> ApiResult {
    let provider = my_provider(&state, user.id).await?;
    let fields = validated(&input.name, input.contacts.as_deref(), input.notes.as_deref())?;
    ensure_room(&state, provider.id).await?;
    let client = state
        .store
        .insert_client(&NewClient {
            id: ClientId::generate(),
            provider_id: provider.id,
            user_id: None,
            fields,
            created_at: Timestamp::now(),
        })
        .await?;
    Ok(HttpResponse::Created().json(ClientView::from(&client)))
}

/// One client with notes and visit history.
#[utoipa::path(get, path = "/api/provider/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ClientCardView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(state: State, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    let id = parse_id("id", &id, "an id")?;
    let provider = my_provider(&state, user.id).await?;
    let client = state.store.client(provider.id, id).await?.ok_or_else(|| ApiError::not_found("client"))?;
    Ok(HttpResponse::Ok().json(crate::export::client_card(&*state.store, &client).await?))
}

/// Correct a client's data.
#[utoipa::path(patch, path = "/api/provider/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ClientPatch,
    responses((status = 200, body = ClientView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn patch(
    state: State,
    AuthUser(user): AuthUser,
    id: web::Path<String>,
    ValidJson(patch): ValidJson<ClientPatch>,
) -> ApiResult {
    let id = parse_id("id", &id, "an id")?;
    let provider = my_provider(&state, user.id).await?;
    let current = state.store.client(provider.id, id).await?.ok_or_else(|| ApiError::not_found("client"))?.fields;
    let name = patch.name.unwrap_or(current.name);
    let contacts = patch.contacts.unwrap_or(current.contacts);
    let notes = patch.notes.unwrap_or(current.notes);
    let fields = validated(&name, contacts.as_deref(), notes.as_deref())?;
    let now = Timestamp::now();
    let mut client =
        state.store.update_client(provider.id, id, &fields, now).await?.ok_or_else(|| ApiError::not_found("client"))?;
    if let Some(blocked) = patch.blocked.filter(|blocked| *blocked != client.blocked) {
        let changed = state.store.set_client_blocked(provider.id, id, blocked, now).await?;
        client = changed.ok_or_else(|| ApiError::not_found("client"))?;
    }
    Ok(HttpResponse::Ok().json(ClientView::from(&client)))
}

/// Delete a client and their booking history (policy §6). Upcoming visits
/// go too: the client, if a Telegram user the bot can reach, is told which
/// (the message is written in the deletion's transaction), and the freed time
/// shows in live slots at once.
#[utoipa::path(delete, path = "/api/provider/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(state: State, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    let id = parse_id("id", &id, "an id")?;
    let provider = my_provider(&state, user.id).await?;
    let client = state.store.client(provider.id, id).await?.ok_or_else(|| ApiError::not_found("client"))?;
    let now = Timestamp::now();
    let letters = crate::letters::client_removed(&*state.store, &provider, &client, now).await?;
    match state.store.delete_client(provider.id, id, &letters, now).await? {
        ClientDeletion::Deleted => Ok(HttpResponse::NoContent().finish()),
        ClientDeletion::NotFound => Err(ApiError::not_found("client")),
    }
}

/// One client's data as the provider holds it (policy §6: the provider is the
/// controller and can hand it over).
#[derive(Serialize, ToSchema)]
pub struct ClientExportView {
    pub exported_at: String,
    /// Who holds this data: the provider's public name and business.
    pub controller: String,
    #[serde(flatten)]
    pub card: ClientCardView,
}

/// Export one client's data, JSON.
#[utoipa::path(get, path = "/api/provider/clients/{id}/export", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ClientExportView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn export(state: State, AuthUser(user): AuthUser, id: web::Path<String>) -> ApiResult {
    let id = parse_id("id", &id, "an id")?;
    let provider = my_provider(&state, user.id).await?;
    let client = state.store.client(provider.id, id).await?.ok_or_else(|| ApiError::not_found("client"))?;
    let p = &provider.profile;
    let controller = match &p.business_name {
        Some(business) => format!("{} ({business})", p.display_name),
        None => p.display_name.clone(),
    };
    let filename = format!("attachment; filename=\"client-{}.json\"", client.id.0);
    Ok(HttpResponse::Ok().insert_header(("Content-Disposition", filename)).json(ClientExportView {
        exported_at: Timestamp::now().to_string(),
        controller,
        card: crate::export::client_card(&*state.store, &client).await?,
    }))
}
