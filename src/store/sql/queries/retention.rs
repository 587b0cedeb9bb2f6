// The retention rules: what is kept only for a while (privacy policy §2, §7).
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Retention for SqlStore<Db> {
    /// Each rule is one indexed `DELETE`, each its own short transaction, so
    /// a purge never holds SQLite's write lock for long and running it twice
    /// (or on every node at once) only finds nothing left the second time.
    /// A new rule is one more `(table, statement)` pair below.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge(&self, before: Timestamp, now: Timestamp) -> StoreResult<PurgeReport> {
        let rules: [(&'static str, &'static str, Timestamp); 4] = [
            ("access_log", "DELETE FROM access_log WHERE at < $1", before),
            // Lines of a deleted account that were still on their way to the
            // database when it was deleted (the account deletion removes the rest).
            (
                "access_log",
                "DELETE FROM access_log WHERE at < $1 AND user_id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL)",
                now,
            ),
            ("sessions", "DELETE FROM sessions WHERE expires_at <= $1", now),
            (
                "outbox",
                "DELETE FROM outbox WHERE state IN ('sent', 'skipped', 'failed') AND COALESCE(sent_at, created_at) < $1",
                before,
            ),
        ];
        let mut report = PurgeReport::default();
        for (table, statement, moment) in rules {
            let deleted = sqlx::query(statement).bind(Moment(moment)).execute(&self.pool).await?.rows_affected();
            match report.0.iter_mut().find(|(name, _)| *name == table) {
                Some((_, count)) => *count += deleted,
                None => report.0.push((table, deleted)),
            }
        }
        // Waitlist entries expire with their day (a day later, whatever the
        // provider's zone: no date is still to come anywhere by then).
        let yesterday = jiff::tz::TimeZone::UTC.to_datetime(now).date().yesterday().unwrap_or(jiff::civil::date(2000, 1, 1));
        let gone = sqlx::query("DELETE FROM waitlist_entries WHERE local_date < $1")
            .bind(Day(yesterday))
            .execute(&self.pool)
            .await?
            .rows_affected();
        report.0.push(("waitlist_entries", gone));
        // Support conversations quiet since `before`, with their messages
        // (see `Support::purge_support` for when one counts as finished).
        report.0.push(("support_conversations", self.purge_support(before).await?));
        Ok(report)
    }
}
