// Users and sessions, and the whole-store methods; included by `dialect.rs`
// once per database (`Db`).

#[async_trait]
impl Store for SqlStore<Db> {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn announcing_to(&self, listener: Arc<dyn ChangeListener>) -> Arc<dyn Store> {
        Arc::new(SqlStore { pool: self.pool.clone(), listener: Some(listener) })
    }
}

#[async_trait]
impl Accounts for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn upsert_telegram_user(&self, profile: &TelegramProfile, now: Timestamp) -> StoreResult<User> {
        let user: User = sqlx::query_as(concat!(
            "INSERT INTO users (id, telegram_id, first_name, last_name, username, language_code, photo_url, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (telegram_id) DO UPDATE SET \
             first_name = CASE WHEN users.first_name_corrected THEN users.first_name ELSE excluded.first_name END, \
             last_name = CASE WHEN users.last_name_corrected THEN users.last_name ELSE excluded.last_name END, \
             language_code = CASE WHEN users.language_code_corrected THEN users.language_code \
             ELSE excluded.language_code END, \
             username = excluded.username, photo_url = excluded.photo_url, updated_at = excluded.updated_at RETURNING ",
            user_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(profile.telegram_id)
        .bind(&profile.first_name)
        .bind(&profile.last_name)
        .bind(&profile.username)
        .bind(&profile.language_code)
        .bind(&profile.photo_url)
        .bind(Moment(now))
        .fetch_one(&self.pool)
        .await?;
        self.announce_account(Some(user.id)).await;
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let user: Option<User> =
            sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND deleted_at IS NULL"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_user(&self, id: UserId, changes: &UserChanges, now: Timestamp) -> StoreResult<Option<User>> {
        // `CASE WHEN $flag` keeps a column unless the change names it, so one
        // statement serves every combination of fields.
        let user: Option<User> = sqlx::query_as(concat!(
            "UPDATE users SET first_name = COALESCE($2, first_name), \
             last_name = CASE WHEN $3 THEN $4 ELSE last_name END, \
             language_code = CASE WHEN $5 THEN $6 ELSE language_code END, updated_at = $7, \
             processing_restricted = COALESCE($8, processing_restricted), \
             time_zone = CASE WHEN $9 THEN $10 ELSE time_zone END, \
             first_name_corrected = first_name_corrected OR $2 IS NOT NULL, \
             last_name_corrected = last_name_corrected OR $3, language_code_corrected = language_code_corrected OR $5 \
             WHERE id = $1 AND deleted_at IS NULL RETURNING ",
            user_columns!()
        ))
        .bind(id.0)
        .bind(&changes.first_name)
        .bind(changes.last_name.is_some())
        .bind(changes.last_name.clone().flatten())
        .bind(changes.language_code.is_some())
        .bind(changes.language_code.clone().flatten())
        .bind(Moment(now))
        .bind(changes.processing_restricted)
        .bind(changes.time_zone.is_some())
        .bind(changes.time_zone.clone().flatten())
        .fetch_optional(&self.pool)
        .await?;
        if user.is_some() {
            self.announce_account(Some(id)).await;
        }
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_account(
        &self,
        user_id: UserId,
        placeholder_telegram_id: i64,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<Option<ProviderId>> {
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query(
            "UPDATE users SET telegram_id = $2, first_name = 'Deleted user', last_name = NULL, username = NULL, \
             language_code = NULL, photo_url = NULL, bot_blocked_reason = NULL, policy_version_seen = NULL, \
             policy_version_notified = NULL, time_zone = NULL, deleted_at = $3, updated_at = $3 WHERE id = $1",
        )
        .bind(user_id.0)
        .bind(placeholder_telegram_id)
        .bind(Moment(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        // What the user wrote to support, and the answers, go with the account.
        sqlx::query("DELETE FROM support_messages WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM support_conversations WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        // Their technical data (policy §2) goes with the account.
        sqlx::query("DELETE FROM access_log WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        // So do the days they waited for (the row would otherwise stay
        // until its date, showing on the provider's list).
        sqlx::query("DELETE FROM waitlist_entries WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        sqlx::query("UPDATE clients SET user_id = NULL WHERE user_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        // What was, or was to be, said to them goes too (letters name people).
        sqlx::query("DELETE FROM outbox WHERE recipient_id = $1").bind(user_id.0).execute(&mut *tx).await?;
        let provider: Option<Uuid> = sqlx::query_scalar("SELECT id FROM providers WHERE user_id = $1")
            .bind(user_id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let provider = provider.map(ProviderId);
        if let Some(provider_id) = provider {
            sqlx::query(
                "UPDATE providers SET slug = $2, display_name = 'Deleted provider', business_name = NULL, \
                 contacts = NULL, morning_digest = FALSE, updated_at = $3 WHERE id = $1",
            )
            .bind(provider_id.0)
            .bind(Slug::deleted(provider_id).as_str().to_owned())
            .bind(Moment(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE clients SET name = 'Client', contacts = NULL, notes = NULL, updated_at = $2 \
                 WHERE provider_id = $1",
            )
            .bind(provider_id.0)
            .bind(Moment(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                // A change like any other: the revision moves on, so a calendar
                // change decided on the booking before this cannot land over it.
                "UPDATE bookings SET status = 'cancelled', updated_at = $2, revision = revision + 1, \
                 confirm_by = NULL, proposed_start = NULL \
                 WHERE provider_id = $1 AND status IN ('pending', 'confirmed') AND ends_at > $2",
            )
            .bind(provider_id.0)
            .bind(Moment(now))
            .execute(&mut *tx)
            .await?;
            for statement in [
                "UPDATE bookings SET note = NULL WHERE provider_id = $1",
                "DELETE FROM weekly_hours WHERE provider_id = $1",
                "DELETE FROM date_overrides WHERE provider_id = $1",
                "DELETE FROM waitlist_entries WHERE provider_id = $1",
                "UPDATE services SET active = FALSE WHERE provider_id = $1",
                "UPDATE outbox SET state = 'skipped', last_error = 'provider account deleted' \
                 WHERE state = 'pending' AND booking_id IN (SELECT id FROM bookings WHERE provider_id = $1)",
            ] {
                sqlx::query(statement).bind(provider_id.0).execute(&mut *tx).await?;
            }
        }
        insert_letters(&mut tx, letters, now).await?;
        tx.commit().await?;
        // Its sessions are gone: every node forgets them now, not at expiry.
        self.announce_account(Some(user_id)).await;
        if let Some(provider_id) = provider {
            self.announce(provider_id).await;
        }
        Ok(provider)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&session.token_hash)
            .bind(session.user_id.0)
            .bind(Moment(session.created_at))
            .bind(Moment(session.expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn session_user(&self, token_hash: &[u8], now: Timestamp) -> StoreResult<Option<SessionUser>> {
        let user: Option<SessionUser> = sqlx::query_as(
            "SELECT u.id, u.telegram_id, u.first_name, u.last_name, u.username, u.language_code, u.photo_url, \
             u.processing_restricted, u.policy_version_seen, u.time_zone, u.created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deleted_at IS NULL",
        )
        .bind(token_hash)
        .bind(Moment(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_by_telegram_id(&self, telegram_id: i64) -> StoreResult<Option<User>> {
        let user: Option<User> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE telegram_id = $1 AND deleted_at IS NULL"
        ))
        .bind(telegram_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn publish_policy(&self, text_sha256: &str, now: Timestamp) -> StoreResult<PolicyPublication> {
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO policy_versions (text_sha256, published_at) VALUES ($1, $2) \
             ON CONFLICT (text_sha256) DO NOTHING",
        )
        .bind(text_sha256)
        .bind(Moment(now))
        .execute(&mut *tx)
        .await?;
        let published_at: Moment =
            sqlx::query_scalar("SELECT published_at FROM policy_versions WHERE text_sha256 = $1")
                .bind(text_sha256)
                .fetch_one(&mut *tx)
                .await?;
        let others: i64 = sqlx::query_scalar("SELECT count(*) FROM policy_versions WHERE text_sha256 <> $1")
            .bind(text_sha256)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(PolicyPublication { published_at: published_at.0, supersedes_another: others > 0 })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn acknowledge_policy(&self, user_id: UserId, version: &str, only_if_unset: bool) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET policy_version_seen = $2 WHERE id = $1 AND (NOT $3 OR policy_version_seen IS NULL)",
        )
        .bind(user_id.0)
        .bind(version)
        .bind(only_if_unset)
        .execute(&self.pool)
        .await?;
        self.announce_account(Some(user_id)).await;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn acknowledge_policy_for_all(&self, version: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET policy_version_seen = $1, policy_version_notified = $1 \
             WHERE policy_version_seen IS NULL AND deleted_at IS NULL",
        )
        .bind(version)
        .execute(&self.pool)
        .await?;
        self.announce_account(None).await;
        Ok(())
    }
}
