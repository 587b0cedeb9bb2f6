// A provider's client book.
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl ClientBook for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn clients(&self, provider_id: ProviderId, search: Option<&str>) -> StoreResult<Vec<Client>> {
        let rows: Vec<ClientRow> = sqlx::query_as(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE provider_id = $1 AND ($2 IS NULL OR lower(name) LIKE lower($2) ESCAPE '\\' \
             OR lower(coalesce(contacts, '')) LIKE lower($2) ESCAPE '\\') ORDER BY name, id LIMIT 1000"
        ))
        .bind(provider_id.0)
        .bind(search.map(containing))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn clients_added_by_hand(&self, provider_id: ProviderId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM clients WHERE provider_id = $1 AND user_id IS NULL")
            .bind(provider_id.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn client(&self, provider_id: ProviderId, client_id: ClientId) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> =
            sqlx::query_as(concat!("SELECT ", client_columns!(), " FROM clients WHERE provider_id = $1 AND id = $2"))
                .bind(provider_id.0)
                .bind(client_id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Client::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn client_history(&self, provider_id: ProviderId, client_id: ClientId) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.client_id = $2 ORDER BY b.starts_at DESC LIMIT 500"
        ))
        .bind(provider_id.0)
        .bind(client_id.0)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_client(&self, client: &NewClient) -> StoreResult<Client> {
        let row: ClientRow = sqlx::query_as(concat!(
            "INSERT INTO clients (id, provider_id, user_id, name, contacts, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
            client_columns!()
        ))
        .bind(client.id.0)
        .bind(client.provider_id.0)
        .bind(client.user_id.map(|id| id.0))
        .bind(&client.fields.name)
        .bind(&client.fields.contacts)
        .bind(&client.fields.notes)
        .bind(Moment(client.created_at))
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_client(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        fields: &ClientFields,
        now: Timestamp,
    ) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> = sqlx::query_as(concat!(
            "UPDATE clients SET name = $3, contacts = $4, notes = $5, updated_at = $6 \
             WHERE provider_id = $1 AND id = $2 RETURNING ",
            client_columns!()
        ))
        .bind(provider_id.0)
        .bind(client_id.0)
        .bind(&fields.name)
        .bind(&fields.contacts)
        .bind(&fields.notes)
        .bind(Moment(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(Client::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_client_blocked(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        blocked: bool,
        now: Timestamp,
    ) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> = sqlx::query_as(concat!(
            "UPDATE clients SET blocked = $3, updated_at = $4 WHERE provider_id = $1 AND id = $2 RETURNING ",
            client_columns!()
        ))
        .bind(provider_id.0)
        .bind(client_id.0)
        .bind(blocked)
        .bind(Moment(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(Client::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn client_of_user(&self, provider_id: ProviderId, user_id: UserId) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> = sqlx::query_as(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE provider_id = $1 AND user_id = $2"
        ))
        .bind(provider_id.0)
        .bind(user_id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Client::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_client(
        &self,
        provider_id: ProviderId,
        client_id: ClientId,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<ClientDeletion> {
        let mut tx = begin_write(&self.pool).await?;
        let freed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM bookings WHERE provider_id = $1 AND client_id = $2 \
             AND status IN ('pending', 'confirmed') AND ends_at > $3",
        )
        .bind(provider_id.0)
        .bind(client_id.0)
        .bind(Moment(now))
        .fetch_one(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM clients WHERE provider_id = $1 AND id = $2")
            .bind(provider_id.0)
            .bind(client_id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(ClientDeletion::NotFound);
        }
        insert_letters(&mut tx, letters, now).await?;
        tx.commit().await?;
        if freed > 0 {
            self.announce(provider_id).await;
        }
        Ok(ClientDeletion::Deleted)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn request_erasure(
        &self,
        provider_id: ProviderId,
        user_id: UserId,
        letters: &[Letter],
        now: Timestamp,
    ) -> StoreResult<Option<Client>> {
        let mut tx = begin_write(&self.pool).await?;
        let row: Option<ClientRow> = sqlx::query_as(concat!(
            "UPDATE clients SET erasure_requested_at = COALESCE(erasure_requested_at, $3) \
             WHERE provider_id = $1 AND user_id = $2 RETURNING ",
            client_columns!()
        ))
        .bind(provider_id.0)
        .bind(user_id.0)
        .bind(Moment(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        insert_letters(&mut tx, letters, now).await?;
        tx.commit().await?;
        Client::try_from(row).map(Some)
    }
}

/// A LIKE pattern matching any text that contains `needle` (`%`, `_` and `\`
/// in it match themselves); the query folds case on both sides with `lower()`.
fn containing(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
