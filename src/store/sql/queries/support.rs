// Support conversations and their messages (policy §8, §11).
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Support for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn open_support(&self, user_id: UserId, now: Timestamp) -> StoreResult<Uuid> {
        // The partial unique index allows one open conversation per user: a
        // second /support keeps it (and its activity time moves).
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO support_conversations (id, user_id, opened_at, last_activity_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id) WHERE finished_at IS NULL \
             DO UPDATE SET last_activity_at = excluded.last_activity_at RETURNING id",
        )
        .bind(Uuid::now_v7())
        .bind(user_id.0)
        .bind(Moment(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn open_support_conversation(&self, user_id: UserId) -> StoreResult<Option<Uuid>> {
        let id: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM support_conversations WHERE user_id = $1 AND finished_at IS NULL")
                .bind(user_id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn latest_support_conversation(&self, user_id: UserId) -> StoreResult<Option<Uuid>> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM support_conversations WHERE user_id = $1 ORDER BY opened_at DESC, id DESC LIMIT 1",
        )
        .bind(user_id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn finish_support(&self, user_id: UserId, now: Timestamp) -> StoreResult<bool> {
        let finished = sqlx::query(
            "UPDATE support_conversations SET finished_at = $2, last_activity_at = $2 \
             WHERE user_id = $1 AND finished_at IS NULL",
        )
        .bind(user_id.0)
        .bind(Moment(now))
        .execute(&self.pool)
        .await?;
        Ok(finished.rows_affected() > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_support_message(&self, message: &NewSupportMessage) -> StoreResult<SupportMessage> {
        let mut tx = begin_write(&self.pool).await?;
        let stored: SupportMessage = sqlx::query_as(
            "INSERT INTO support_messages (id, conversation_id, user_id, direction, text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, conversation_id, user_id, direction, text, created_at",
        )
        .bind(Uuid::now_v7())
        .bind(message.conversation_id)
        .bind(message.user_id.0)
        .bind(message.direction.as_str())
        .bind(&message.text)
        .bind(Moment(message.at))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE support_conversations SET last_activity_at = $2 WHERE id = $1")
            .bind(message.conversation_id)
            .bind(Moment(message.at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_support_copy(&self, id: Uuid, chat_id: i64, copy_message_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE support_messages SET operator_chat_id = $2, operator_message_id = $3 WHERE id = $1")
            .bind(id)
            .bind(chat_id)
            .bind(copy_message_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn support_message_by_copy(&self, chat_id: i64, copy_message_id: i64) -> StoreResult<Option<SupportMessage>> {
        let message: Option<SupportMessage> = sqlx::query_as(
            "SELECT id, conversation_id, user_id, direction, text, created_at FROM support_messages \
             WHERE operator_chat_id = $1 AND operator_message_id = $2",
        )
        .bind(chat_id)
        .bind(copy_message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(message)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn support_messages(&self, user_id: UserId) -> StoreResult<Vec<SupportMessage>> {
        let messages: Vec<SupportMessage> = sqlx::query_as(
            "SELECT id, conversation_id, user_id, direction, text, created_at FROM support_messages \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user_id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(messages)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn support_messages_written_since(&self, user_id: UserId, since: Timestamp) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM support_messages WHERE user_id = $1 AND direction = 'in' AND created_at > $2",
        )
        .bind(user_id.0)
        .bind(Moment(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn open_support_conversations(&self) -> StoreResult<Vec<SupportConversation>> {
        let conversations: Vec<SupportConversation> = sqlx::query_as(
            "SELECT id, user_id, opened_at, last_activity_at FROM support_conversations \
             WHERE finished_at IS NULL ORDER BY last_activity_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(conversations)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_support(&self, before: Timestamp) -> StoreResult<u64> {
        // Messages first: the purge must not depend on SQLite's foreign-key
        // pragma for the cascade.
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query(
            "DELETE FROM support_messages WHERE conversation_id IN \
             (SELECT id FROM support_conversations WHERE last_activity_at < $1)",
        )
        .bind(Moment(before))
        .execute(&mut *tx)
        .await?;
        let purged = sqlx::query("DELETE FROM support_conversations WHERE last_activity_at < $1")
            .bind(Moment(before))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(purged.rows_affected())
    }
}
