//! The privacy policy as this deployment publishes it (policy §10: "the
//! updated version takes effect from the moment it is published").
//!
//! A version is derived from the text and its publication date:
//! `2026-12-02.1a2b3c4d` — the UTC date a node of this deployment first
//! served the text, and the start of the text's SHA-256. Any change to the
//! text, even a comma, is a new version; the same text keeps its version
//! across restarts and nodes (the publication is recorded in the database).
//!
//! When a new text supersedes an earlier one, every account active within the
//! retention period that has not acknowledged it is told once by the bot
//! (through the outbox, paced), and the Mini App shows a one-time notice until
//! the user acknowledges it (`POST /api/me/policy-ack`). The first versioned
//! publication tells nobody: every existing account agreed to that text by
//! using the service.

use std::sync::Arc;

use jiff::{Timestamp, tz::TimeZone};
use sha2::{Digest, Sha256};

use crate::{config::Config, store::Store};

/// How many policy messages the outbox lets out per second, leaving the rest
/// of Telegram's ~30 messages/s to pushes and reminders.
const ANNOUNCE_PER_SECOND: u32 = 10;

/// The published policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub text: Arc<str>,
    pub version: String,
    pub published_at: Timestamp,
}

/// The policy text: `POLICY_FILE` (or `PRIVACY_POLICY_FILE`), or the copy built in.
pub fn text(config: &Config) -> anyhow::Result<Arc<str>> {
    Ok(match &config.privacy_policy_file {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("POLICY_FILE {}: {e}", path.display()))?.into()
        }
        None => include_str!("../web/privacy-policy.txt").into(),
    })
}

/// Records the publication of `text` and, if it supersedes an earlier text,
/// has the bot tell the accounts active since `active_since`.
pub async fn publish(store: &dyn Store, text: Arc<str>, active_since: Timestamp) -> anyhow::Result<Policy> {
    let now = Timestamp::now();
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let publication = store.publish_policy(&sha256, now).await?;
    let date = TimeZone::UTC.to_datetime(publication.published_at).date();
    let version = format!("{date}.{}", &sha256[..8]);
    if publication.supersedes_another {
        // Idempotent: every start (of every node) catches up whoever is left.
        let told = store.announce_policy(&version, active_since, ANNOUNCE_PER_SECOND, now).await?;
        if told > 0 {
            tracing::info!(%version, told, "privacy policy updated: users are being told");
        }
    } else {
        store.acknowledge_policy_for_all(&version).await?;
    }
    Ok(Policy { text, version, published_at: publication.published_at })
}
