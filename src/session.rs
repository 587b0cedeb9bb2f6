//! Session tokens: the client holds the token, the store only its digest;
//! and the node's memo of signed-in users, so that a request does not ask
//! the database who sent it.
//!
//! Every write to an account or its sessions (deletion, corrections,
//! restricting processing, a new sign-in, the policy acknowledged) is
//! announced by the store ([`crate::store::ChangeListener::account_changed`])
//! and forgotten on every node; why that is enough: [`crate::memo`]. A
//! session is kept at most `SESSION_CACHE_SECS` (30 s by default), and never
//! served past its own expiry.

use std::{sync::Arc, time::Duration};

use actors::domain::UserId;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::bus::LocalBus;
use crate::memo::{Memo, ReadStarted};
use crate::store::{SessionUser, Store, StoreResult, User};

/// Only this digest of a token is stored, so a copy of the database cannot
/// be used to impersonate anyone.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Sessions kept before the memo starts over (≈ 300 bytes each). A node
/// serving more signed-in users than this at once only asks the database
/// more often.
const CAPACITY: usize = 50_000;

/// Signed-in users by token digest.
pub struct SessionCache(Memo<Vec<u8>, SessionUser>);

impl SessionCache {
    /// `ttl` zero: no caching, every request asks the database.
    pub fn new(ttl: Duration, bus: Option<Arc<LocalBus>>) -> Self {
        Self(Memo::new(ttl, CAPACITY, bus))
    }

    /// The user behind a bearer token, if its session is valid now. Shared by
    /// the HTTP extractor and the WebSocket `auth` message.
    pub async fn user_for_token(&self, store: &dyn Store, token: &str) -> StoreResult<Option<User>> {
        let hash = token_hash(token);
        let now = Timestamp::now();
        if let Some(kept) = self.0.get(hash.as_slice(), |session| session.expires_at > now) {
            metrics::counter!("session_cache_total", "result" => "hit").increment(1);
            return Ok(Some(kept.user));
        }
        let started = self.0.read_started();
        let found = store.session_user(&hash, now).await?;
        metrics::counter!("session_cache_total", "result" => "miss").increment(1);
        let Some(found) = found else { return Ok(None) };
        let user = found.user.clone();
        self.0.keep(started, hash, found);
        Ok(Some(user))
    }

    /// Keeps a session just signed in, so its first request need not ask
    /// the database. `started`: taken after the account's own writes were
    /// announced and before the session was written; a sign-out or deletion
    /// announced since then wins.
    pub fn keep_signed_in(&self, started: ReadStarted, token: &str, session: SessionUser) {
        self.0.keep(started, token_hash(token), session);
    }

    /// Call before writing a session to keep with [`Self::keep_signed_in`].
    pub fn read_started(&self) -> ReadStarted {
        self.0.read_started()
    }

    /// Forgets `user_id`'s sessions (`None`: everyone's).
    pub fn forget(&self, user_id: Option<UserId>) {
        match user_id {
            Some(user_id) => self.0.forget_where(move |session| session.user.id == user_id),
            None => self.0.forget_all(),
        }
    }
}
