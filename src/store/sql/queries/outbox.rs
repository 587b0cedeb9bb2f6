// Messages the bot owes, and where it reaches a user.
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Outbox for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_due_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = 'interrupted while sending; delivery unknown' \
             WHERE state = 'sending' AND lease_until < $1",
        )
        .bind(Moment(now))
        .execute(&mut *tx)
        .await?;
        // One message per recipient at a time, across nodes: a recipient's
        // first due message, and only while none of theirs is being sent.
        // Telegram lets a chat have about one message a second (20 a
        // minute): claiming a busy chat's whole backlog would fill the
        // dispatcher with messages that wait their turn while everyone
        // else's wait behind them.
        let rows: Vec<OutboxRow> = sqlx::query_as(concat!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = $2 \
             WHERE id IN (SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.due_at <= $1 \
               AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.recipient_id = o.recipient_id AND s.state = 'sending') \
               AND o.id = (SELECT f.id FROM outbox f WHERE f.recipient_id = o.recipient_id AND f.state = 'pending' \
                           AND f.due_at <= $1 ORDER BY f.due_at, f.id LIMIT 1) \
               ORDER BY o.due_at LIMIT $3",
            row_lock!(claim),
            ") RETURNING id, kind, event, booking_id, body, recipient_id, due_at, attempts"
        ))
        .bind(Moment(now))
        .bind(Moment(lease_until))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn finish_message(&self, id: Uuid, outcome: MessageOutcome, now: Timestamp) -> StoreResult<()> {
        let (state, error) = outcome.columns();
        // A letter's words are kept only until it is handed over: they may
        // name people (a deleted provider's name, someone's visits).
        sqlx::query(
            "UPDATE outbox SET state = $2, last_error = $3, lease_until = NULL, \
             sent_at = CASE WHEN $2 = 'sent' THEN $4 ELSE sent_at END, \
             body = CASE WHEN body IS NULL THEN NULL ELSE '' END WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(Moment(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn retry_message(&self, id: Uuid, due_at: Timestamp, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', due_at = $2, last_error = $3, lease_until = NULL \
             WHERE id = $1 AND state = 'sending'",
        )
        .bind(id)
        .bind(Moment(due_at))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn mark_bot_blocked(&self, user_id: UserId, reason: &str, now: Timestamp) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query("UPDATE users SET bot_blocked_at = $2, bot_blocked_reason = $3 WHERE id = $1")
            .bind(user_id.0)
            .bind(Moment(now))
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE outbox SET state = 'skipped', last_error = $2 WHERE recipient_id = $1 AND state = 'pending'",
        )
        .bind(user_id.0)
        .bind(format!("the bot cannot reach this user: {reason}"))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn bot_recipient(&self, user_id: UserId) -> StoreResult<Option<BotRecipient>> {
        let recipient: Option<BotRecipient> = sqlx::query_as(
            "SELECT telegram_id, language_code, (bot_blocked_at IS NOT NULL OR processing_restricted) AS blocked, time_zone \
             FROM users \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(user_id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(recipient)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn send_letters(&self, letters: &[Letter], now: Timestamp) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await?;
        insert_letters(&mut tx, letters, now).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn send_digest(
        &self,
        provider_id: ProviderId,
        date: jiff::civil::Date,
        letter: &Letter,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.pool).await?;
        // The row is the claim: a second node's insert finds it and writes nothing.
        let claimed = sqlx::query(
            "INSERT INTO digests_sent (provider_id, local_date, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(provider_id.0)
        .bind(Day(date))
        .bind(Moment(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            insert_letters(&mut tx, std::slice::from_ref(letter), now).await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn announce_policy(
        &self,
        version: &str,
        active_since: Timestamp,
        per_second: u32,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = begin_write(&self.pool).await?;
        // On PostgreSQL a second node's UPDATE waits for the first one's rows,
        // then finds them told already: one message per account and version.
        let recipients: Vec<(Uuid, bool)> = sqlx::query_as(
            "UPDATE users SET policy_version_notified = $1 \
             WHERE deleted_at IS NULL AND updated_at >= $2 \
             AND (policy_version_notified IS NULL OR policy_version_notified <> $1) \
             AND (policy_version_seen IS NULL OR policy_version_seen <> $1) \
             RETURNING id, (bot_blocked_at IS NULL AND NOT processing_restricted) AS reachable",
        )
        .bind(version)
        .bind(Moment(active_since))
        .fetch_all(&mut *tx)
        .await?;
        let mut written = 0u64;
        for (recipient, _) in recipients.iter().filter(|(_, reachable)| *reachable) {
            let due_at = now + jiff::SignedDuration::from_millis(1000 * written as i64 / i64::from(per_second.max(1)));
            sqlx::query(
                "INSERT INTO outbox (id, kind, event, recipient_id, due_at, created_at) \
                 VALUES ($1, 'policy', $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(version)
            .bind(recipient)
            .bind(Moment(due_at))
            .bind(Moment(now))
            .execute(&mut *tx)
            .await?;
            written += 1;
        }
        tx.commit().await?;
        Ok(written)
    }
}

/// Writes `letters` (kind `text`) inside the caller's transaction.
async fn insert_letters(tx: &mut sqlx::Transaction<'_, Db>, letters: &[Letter], now: Timestamp) -> StoreResult<()> {
    for letter in letters {
        sqlx::query(
            "INSERT INTO outbox (id, kind, event, body, recipient_id, due_at, created_at) \
             VALUES ($1, 'text', '', $2, $3, $4, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(&letter.text)
        .bind(letter.recipient.0)
        .bind(Moment(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
