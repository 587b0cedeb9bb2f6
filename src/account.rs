//! Deleting an account (privacy policy §7, §8), one way for every way of
//! asking: `DELETE /api/me` and the bot's `/delete` confirmation.

use actors::domain::UserId;
use jiff::Timestamp;

use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no randomness for the placeholder Telegram id: {0}")]
    Randomness(getrandom::Error),
}

/// Deletes (anonymizes) the account as the store's `delete_account`
/// describes, and writes it to the audit log. A provider's calendar and
/// watchers follow through the store's settings announcement.
pub async fn delete(store: &dyn Store, user_id: UserId, via: &'static str) -> Result<(), DeletionError> {
    // Telegram ids are positive; a negative random one keeps the column
    // unique and lets the same person sign up afresh.
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(DeletionError::Randomness)?;
    let placeholder = -((i64::from_le_bytes(bytes) & i64::MAX).max(1));
    let now = Timestamp::now();
    // A provider's clients with visits ahead are told they are cancelled, in
    // the deletion's own transaction.
    let letters = match store.provider_of_user(user_id).await? {
        Some(provider) => crate::letters::provider_closing(store, &provider, now).await?,
        None => Vec::new(),
    };
    store.delete_account(user_id, placeholder, &letters, now).await?;
    tracing::info!(target: "audit", user = %user_id, via, "account deleted");
    Ok(())
}
