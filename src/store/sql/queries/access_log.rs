// The access log (privacy policy §2, technical data).
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl AccessLog for SqlStore<Db> {
    /// One multi-row `INSERT` for the whole batch: one statement, one commit
    /// (one fsync on SQLite), however many requests it records.
    #[tracing::instrument(level = "debug", skip_all, fields(rows = records.len()))]
    async fn record_access(&self, records: &[AccessRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        // Lines of an account deleted while they waited in the queue are
        // dropped here (a `VALUES` list names its columns column1… in both
        // databases); the deletion itself removed the ones already written.
        let mut insert = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO access_log (at, user_id, ip, device, browser, os, method, route, status) \
             SELECT * FROM (",
        );
        insert.push_values(records, |mut row, record| {
            let entry = &record.entry;
            row.push_bind(Moment(entry.at))
                .push_bind(record.user_id.map(|id| id.0))
                .push_bind(entry.ip.clone())
                .push_bind(entry.device.clone())
                .push_bind(entry.browser.clone())
                .push_bind(entry.os.clone())
                .push_bind(entry.method.clone())
                .push_bind(entry.route.clone())
                .push_bind(i64::from(entry.status));
        });
        insert.push(
            ") AS line WHERE line.column2 IS NULL OR EXISTS \
             (SELECT 1 FROM users WHERE users.id = line.column2 AND users.deleted_at IS NULL)",
        );
        insert.build().execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn access_log(&self, user_id: UserId, limit: i64) -> StoreResult<Vec<AccessEntry>> {
        let entries: Vec<AccessEntry> = sqlx::query_as(
            "SELECT at, ip, device, browser, os, method, route, status FROM access_log \
             WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(user_id.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(entries)
    }
}
