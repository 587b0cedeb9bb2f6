//! Messages worded when something is decided, for facts that may be gone by
//! the time the bot sends them (`OutboxContent::Text`): the visits a deletion
//! cancels, a client's request to a provider. Each is written by the store in
//! the same transaction as the change it tells of.

use std::collections::BTreeMap;

use actors::domain::{ProviderTimeZone, UserId};
use jiff::Timestamp;

use crate::store::{BookingDetails, Client, Letter, Provider, Store, StoreResult};
use crate::telegram::texts::{self, Lang};

/// To each Telegram client of `provider` with visits ahead: those visits are
/// cancelled because the provider deleted the account (policy §7).
pub async fn provider_closing(store: &dyn Store, provider: &Provider, now: Timestamp) -> StoreResult<Vec<Letter>> {
    let since = now - jiff::SignedDuration::from_hours(24);
    let ahead = store.provider_bookings(provider.id, since, Timestamp::MAX).await?;
    let mut by_client: BTreeMap<UserId, Vec<&BookingDetails>> = BTreeMap::new();
    for details in ahead.iter().filter(|d| d.booking.status.is_active() && d.booking.end > now) {
        if let Some(client) = details.booking.client_user_id {
            by_client.entry(client).or_default().push(details);
        }
    }
    let mut letters = Vec::new();
    for (recipient, visits) in by_client {
        let (lang, reader) = reader_of(store, recipient).await?;
        let visits: Vec<String> = visits.iter().map(|d| texts::visit(d, lang, reader.as_ref())).collect();
        let text = texts::provider_closed(lang, &provider.profile.display_name, &visits);
        letters.push(Letter { recipient, text });
    }
    Ok(letters)
}

/// To `client`, if a Telegram user with visits ahead: they are cancelled
/// because the provider deleted the client's data (policy §6).
pub async fn client_removed(
    store: &dyn Store,
    provider: &Provider,
    client: &Client,
    now: Timestamp,
) -> StoreResult<Vec<Letter>> {
    let Some(recipient) = client.user_id else { return Ok(Vec::new()) };
    let history = store.client_history(provider.id, client.id).await?;
    let mut ahead: Vec<&BookingDetails> =
        history.iter().filter(|d| d.booking.status.is_active() && d.booking.end > now).collect();
    if ahead.is_empty() {
        return Ok(Vec::new());
    }
    ahead.sort_by_key(|d| d.booking.start);
    let (lang, reader) = reader_of(store, recipient).await?;
    let visits: Vec<String> = ahead.iter().map(|d| texts::visit(d, lang, reader.as_ref())).collect();
    let text = texts::removed_from_client_book(lang, &provider.profile.display_name, &visits);
    Ok(vec![Letter { recipient, text }])
}

/// To the provider: `client_name` asks them to delete their card.
pub async fn erasure_requested(store: &dyn Store, provider: &Provider, client_name: &str) -> StoreResult<Vec<Letter>> {
    let (lang, _) = reader_of(store, provider.user_id).await?;
    Ok(vec![Letter { recipient: provider.user_id, text: texts::erasure_requested(lang, client_name) }])
}

/// The language the bot speaks to `user`, and their device's zone (times
/// are shown on their clock too when it differs).
async fn reader_of(store: &dyn Store, user: UserId) -> StoreResult<(Lang, Option<ProviderTimeZone>)> {
    let recipient = store.bot_recipient(user).await?;
    let lang = Lang::of(recipient.as_ref().and_then(|r| r.language_code.as_deref()));
    Ok((lang, recipient.and_then(|r| r.zone())))
}
