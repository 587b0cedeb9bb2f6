// Clients waiting for a time to free up.
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Waitlist for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn join_waitlist(&self, entry: &WaitlistEntry) -> StoreResult<(WaitlistEntry, bool)> {
        let (id, created_at): (Uuid, Moment) = sqlx::query_as(
            "INSERT INTO waitlist_entries (id, user_id, provider_id, service_id, local_date, from_min, to_min, \
             free_known, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (user_id, service_id, local_date) DO UPDATE SET from_min = excluded.from_min, \
             to_min = excluded.to_min, free_known = excluded.free_known RETURNING id, created_at",
        )
        .bind(entry.id)
        .bind(entry.user_id.0)
        .bind(entry.provider_id.0)
        .bind(entry.service_id.0)
        .bind(Day(entry.date))
        .bind(entry.from.map(|t| i64::from(t.minutes())))
        .bind(entry.to.map(|t| i64::from(t.minutes())))
        .bind(known_text(&entry.free_known))
        .bind(Moment(entry.created_at))
        .fetch_one(&self.pool)
        .await?;
        Ok((WaitlistEntry { id, created_at: created_at.0, ..entry.clone() }, id == entry.id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn my_waitlist(&self, user_id: UserId, from: jiff::civil::Date) -> StoreResult<Vec<WaitlistDetails>> {
        let rows: Vec<WaitlistRow> = sqlx::query_as(concat!(
            waitlist_select!(),
            " WHERE w.user_id = $1 AND w.local_date >= $2 ORDER BY w.local_date, w.created_at"
        ))
        .bind(user_id.0)
        .bind(Day(from))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn waitlist_count(&self, user_id: UserId, from: jiff::civil::Date) -> StoreResult<u64> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM waitlist_entries WHERE user_id = $1 AND local_date >= $2")
                .bind(user_id.0)
                .bind(Day(from))
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn leave_waitlist(&self, user_id: UserId, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM waitlist_entries WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider_waitlist(
        &self,
        provider_id: ProviderId,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> StoreResult<Vec<WaitlistDetails>> {
        let rows: Vec<WaitlistRow> = sqlx::query_as(concat!(
            waitlist_select!(),
            " WHERE w.provider_id = $1 AND w.local_date >= $2 AND w.local_date <= $3 \
             ORDER BY w.local_date, w.created_at"
        ))
        .bind(provider_id.0)
        .bind(Day(from))
        .bind(Day(to))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn waitlist_on(
        &self,
        provider_id: ProviderId,
        dates: &[jiff::civil::Date],
        all_from_first: bool,
    ) -> StoreResult<Vec<WaitlistDetails>> {
        let mut entries = Vec::new();
        let query = if all_from_first {
            concat!(waitlist_select!(), " WHERE w.provider_id = $1 AND w.local_date >= $2 ORDER BY w.created_at")
        } else {
            concat!(waitlist_select!(), " WHERE w.provider_id = $1 AND w.local_date = $2 ORDER BY w.created_at")
        };
        let dates = if all_from_first { &dates[..dates.len().min(1)] } else { dates };
        for date in dates {
            let rows: Vec<WaitlistRow> =
                sqlx::query_as(query).bind(provider_id.0).bind(Day(*date)).fetch_all(&self.pool).await?;
            entries.extend(convert_all::<_, WaitlistDetails>(rows)?);
        }
        Ok(entries)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_offer(
        &self,
        entry_id: Uuid,
        known: &[Timestamp],
        free_now: &[Timestamp],
        offer: Option<&OfferLetter>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.pool).await?;
        let done = sqlx::query("UPDATE waitlist_entries SET free_known = $3 WHERE id = $1 AND free_known = $2")
            .bind(entry_id)
            .bind(known_text(known))
            .bind(known_text(free_now))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(offer) = offer {
            sqlx::query(
                "INSERT INTO outbox (id, kind, event, body, recipient_id, due_at, created_at) \
                 VALUES ($1, 'text', $2, $3, $4, $5, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(offer.event())
            .bind(&offer.text)
            .bind(offer.recipient.0)
            .bind(Moment(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Free starts as kept in `free_known`: sorted unix seconds, comma separated.
fn known_text(starts: &[Timestamp]) -> String {
    let mut seconds: Vec<i64> = starts.iter().map(|s| s.as_second()).collect();
    seconds.sort_unstable();
    seconds.dedup();
    seconds.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}
