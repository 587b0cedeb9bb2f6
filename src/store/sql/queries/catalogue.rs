// Providers, services and schedules: the settings a calendar decides with.
// Every committed write is announced (`SqlStore::announce`).
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Catalogue for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn upsert_provider(
        &self,
        user_id: UserId,
        profile: &ProviderProfile,
        now: Timestamp,
    ) -> StoreResult<Provider> {
        let rules = &profile.rules;
        let result: Result<ProviderRow, sqlx::Error> = sqlx::query_as(concat!(
            "INSERT INTO providers (id, user_id, slug, display_name, business_name, contacts, timezone, \
             slot_step_min, min_notice_min, horizon_days, cancel_cutoff_min, requires_confirmation, \
             reminder_offsets_min, confirm_within_min, morning_digest, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16, $14, $14) \
             ON CONFLICT (user_id) DO UPDATE SET slug = excluded.slug, display_name = excluded.display_name, \
             business_name = excluded.business_name, contacts = excluded.contacts, timezone = excluded.timezone, \
             slot_step_min = excluded.slot_step_min, min_notice_min = excluded.min_notice_min, \
             horizon_days = excluded.horizon_days, cancel_cutoff_min = excluded.cancel_cutoff_min, \
             requires_confirmation = excluded.requires_confirmation, \
             reminder_offsets_min = excluded.reminder_offsets_min, \
             confirm_within_min = excluded.confirm_within_min, morning_digest = excluded.morning_digest, \
             updated_at = excluded.updated_at, \
             settings_version = providers.settings_version + 1 RETURNING ",
            provider_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(user_id.0)
        .bind(profile.slug.as_str())
        .bind(&profile.display_name)
        .bind(&profile.business_name)
        .bind(&profile.contacts)
        .bind(profile.timezone.name())
        .bind(i64::from(rules.slot_step_min))
        .bind(i64::from(rules.min_notice_min))
        .bind(i64::from(rules.horizon_days))
        .bind(i64::from(rules.cancel_cutoff_min))
        .bind(rules.requires_confirmation)
        .bind(serde_json::json!(rules.reminder_offsets_min).to_string())
        .bind(Moment(now))
        .bind(rules.confirm_within_min.map(i64::from))
        .bind(rules.morning_digest)
        .fetch_one(&self.pool)
        .await;
        let provider: Provider = match result {
            Ok(row) => row.try_into()?,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Err(StoreError::SlugTaken),
            Err(other) => return Err(other.into()),
        };
        self.announce(provider.id).await;
        Ok(provider)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn providers_with_digest(&self) -> StoreResult<Vec<Provider>> {
        let rows: Vec<ProviderRow> =
            sqlx::query_as(concat!("SELECT ", provider_columns!(), " FROM providers WHERE morning_digest"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Provider::try_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider_of_user(&self, user_id: UserId) -> StoreResult<Option<Provider>> {
        self.provider_where(concat!("SELECT ", provider_columns!(), " FROM providers WHERE user_id = $1"), user_id.0)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider_by_slug(&self, slug: &str) -> StoreResult<Option<Provider>> {
        // No slug holds a NUL, and PostgreSQL refuses one in text (an error,
        // not "no row"): a stranger's `/api/providers/%00` is simply not found.
        if slug.contains('\0') {
            return Ok(None);
        }
        self.provider_where(concat!("SELECT ", provider_columns!(), " FROM providers WHERE slug = $1"), slug).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider(&self, provider_id: ProviderId) -> StoreResult<Option<Provider>> {
        self.provider_where(concat!("SELECT ", provider_columns!(), " FROM providers WHERE id = $1"), provider_id.0)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_calendar_feed(
        &self,
        provider_id: ProviderId,
        key_hash: Option<&[u8]>,
        now: Timestamp,
    ) -> StoreResult<()> {
        match key_hash {
            Some(key_hash) => {
                sqlx::query(
                    "INSERT INTO calendar_feeds (provider_id, key_hash, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (provider_id) DO UPDATE SET key_hash = excluded.key_hash, \
                     created_at = excluded.created_at",
                )
                .bind(provider_id.0)
                .bind(key_hash)
                .bind(Moment(now))
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM calendar_feeds WHERE provider_id = $1")
                    .bind(provider_id.0)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider_by_calendar_feed(&self, key_hash: &[u8]) -> StoreResult<Option<Provider>> {
        self.provider_where(
            concat!(
                "SELECT ",
                provider_columns!(),
                " FROM providers WHERE id = (SELECT provider_id FROM calendar_feeds WHERE key_hash = $1)"
            ),
            key_hash,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn services(&self, provider_id: ProviderId, include_retired: bool) -> StoreResult<Vec<Service>> {
        let rows: Vec<ServiceRow> = sqlx::query_as(concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE provider_id = $1 AND (active OR $2) ORDER BY created_at, id"
        ))
        .bind(provider_id.0)
        .bind(include_retired)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn service(&self, provider_id: ProviderId, service_id: ServiceId) -> StoreResult<Option<Service>> {
        let row: Option<ServiceRow> =
            sqlx::query_as(concat!("SELECT ", service_columns!(), " FROM services WHERE provider_id = $1 AND id = $2"))
                .bind(provider_id.0)
                .bind(service_id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Service::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_service(
        &self,
        provider_id: ProviderId,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Service> {
        let row: ServiceRow = sqlx::query_as(concat!(
            "INSERT INTO services (id, provider_id, name, duration_min, price_minor, currency, buffer_before_min, \
             buffer_after_min, active, created_at, updated_at, capacity) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, $10) \
             RETURNING ",
            service_columns!()
        ))
        .bind(Uuid::now_v7())
        .bind(provider_id.0)
        .bind(&fields.name)
        .bind(i64::from(fields.timing.duration_min))
        .bind(fields.price_minor)
        .bind(&fields.currency)
        .bind(i64::from(fields.timing.buffer_before_min))
        .bind(i64::from(fields.timing.buffer_after_min))
        .bind(Moment(now))
        .bind(i64::from(fields.capacity))
        .fetch_one(&self.pool)
        .await?;
        self.announce(provider_id).await;
        row.try_into()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_service(
        &self,
        provider_id: ProviderId,
        service_id: ServiceId,
        fields: &ServiceFields,
        now: Timestamp,
    ) -> StoreResult<Option<Service>> {
        let row: Option<ServiceRow> = sqlx::query_as(concat!(
            "UPDATE services SET name = $3, duration_min = $4, price_minor = $5, currency = $6, \
             buffer_before_min = $7, buffer_after_min = $8, updated_at = $9, capacity = $10 \
             WHERE provider_id = $1 AND id = $2 RETURNING ",
            service_columns!()
        ))
        .bind(provider_id.0)
        .bind(service_id.0)
        .bind(&fields.name)
        .bind(i64::from(fields.timing.duration_min))
        .bind(fields.price_minor)
        .bind(&fields.currency)
        .bind(i64::from(fields.timing.buffer_before_min))
        .bind(i64::from(fields.timing.buffer_after_min))
        .bind(Moment(now))
        .bind(i64::from(fields.capacity))
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            self.announce(provider_id).await;
        }
        row.map(Service::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn retire_service(
        &self,
        provider_id: ProviderId,
        service_id: ServiceId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE services SET active = FALSE, updated_at = $3 WHERE provider_id = $1 AND id = $2")
                .bind(provider_id.0)
                .bind(service_id.0)
                .bind(Moment(now))
                .execute(&self.pool)
                .await?;
        let retired = done.rows_affected() == 1;
        if retired {
            self.announce(provider_id).await;
        }
        Ok(retired)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn schedule(&self, provider_id: ProviderId) -> StoreResult<Schedule> {
        let weekly: Vec<WeeklyRow> = sqlx::query_as(
            "SELECT weekday, start_min, end_min FROM weekly_hours WHERE provider_id = $1 ORDER BY weekday, start_min",
        )
        .bind(provider_id.0)
        .fetch_all(&self.pool)
        .await?;
        let overrides: Vec<OverrideRow> = sqlx::query_as(
            "SELECT d.date, i.start_min, i.end_min FROM date_overrides d \
             LEFT JOIN override_intervals i ON i.provider_id = d.provider_id AND i.date = d.date \
             WHERE d.provider_id = $1 ORDER BY d.date, i.start_min",
        )
        .bind(provider_id.0)
        .fetch_all(&self.pool)
        .await?;
        schedule_from_rows(weekly, overrides)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn replace_schedule(&self, provider_id: ProviderId, schedule: &Schedule) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await?;
        sqlx::query("DELETE FROM weekly_hours WHERE provider_id = $1").bind(provider_id.0).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM date_overrides WHERE provider_id = $1").bind(provider_id.0).execute(&mut *tx).await?;
        for item in schedule.weekly() {
            sqlx::query("INSERT INTO weekly_hours (provider_id, weekday, start_min, end_min) VALUES ($1, $2, $3, $4)")
                .bind(provider_id.0)
                .bind(i64::from(item.weekday))
                .bind(i64::from(item.interval.start.minutes()))
                .bind(i64::from(item.interval.end.minutes()))
                .execute(&mut *tx)
                .await?;
        }
        for day in schedule.overrides() {
            let date = Day(day.date);
            sqlx::query("INSERT INTO date_overrides (provider_id, date) VALUES ($1, $2)")
                .bind(provider_id.0)
                .bind(date)
                .execute(&mut *tx)
                .await?;
            for interval in &day.intervals {
                sqlx::query(
                    "INSERT INTO override_intervals (provider_id, date, start_min, end_min) VALUES ($1, $2, $3, $4)",
                )
                .bind(provider_id.0)
                .bind(date)
                .bind(i64::from(interval.start.minutes()))
                .bind(i64::from(interval.end.minutes()))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        self.announce(provider_id).await;
        Ok(())
    }
}

impl SqlStore<Db> {
    /// The one provider `sql` selects by its single parameter `key`.
    async fn provider_where<'q, K>(&self, sql: &'static str, key: K) -> StoreResult<Option<Provider>>
    where
        K: 'q + Send + sqlx::Encode<'q, Db> + sqlx::Type<Db>,
    {
        let row: Option<ProviderRow> = sqlx::query_as(sql).bind(key).fetch_optional(&self.pool).await?;
        row.map(Provider::try_from).transpose()
    }
}
