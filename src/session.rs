//! Session tokens: the client holds the token, the store only its digest.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreResult, User};

/// Only this digest of a token is stored, so a copy of the database cannot
/// be used to impersonate anyone.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The user behind a bearer token, if its session is valid now. Shared by
/// the HTTP extractor and the WebSocket `auth` message.
pub async fn user_for_token(store: &dyn Store, token: &str) -> StoreResult<Option<User>> {
    store.session_user(&token_hash(token), Timestamp::now()).await
}
