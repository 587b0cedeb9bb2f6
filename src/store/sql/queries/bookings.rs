// Bookings, as the calendars write them and the views read them.
// Included by `dialect.rs` once per database (`Db`).

#[async_trait]
impl Bookings for SqlStore<Db> {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn active_bookings(&self, provider_id: ProviderId, since: Timestamp) -> StoreResult<Vec<Booking>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.status IN ('pending', 'confirmed') AND b.occupied_to > $2 \
             ORDER BY b.occupied_from"
        ))
        .bind(provider_id.0)
        .bind(Moment(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(convert_all::<_, BookingDetails>(rows)?.into_iter().map(|details| details.booking).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn booking(&self, provider_id: ProviderId, booking_id: BookingId) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE b.provider_id = $1 AND b.id = $2"))
                .bind(provider_id.0)
                .bind(booking_id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(BookingDetails::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn booking_of_client(&self, user_id: UserId, booking_id: BookingId) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> = sqlx::query_as(concat!(booking_select!(), " WHERE c.user_id = $1 AND b.id = $2"))
            .bind(user_id.0)
            .bind(booking_id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(BookingDetails::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn booking_by_idempotency_key(&self, user_id: UserId, key: &str) -> StoreResult<Option<Booking>> {
        let row: Option<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE b.created_by = $1 AND b.idempotency_key = $2"))
                .bind(user_id.0)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(BookingDetails::try_from).transpose()?.map(|details| details.booking))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn booking_by_id(&self, booking_id: BookingId) -> StoreResult<Option<BookingDetails>> {
        let row: Option<BookingRow> = sqlx::query_as(concat!(booking_select!(), " WHERE b.id = $1"))
            .bind(booking_id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(BookingDetails::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_booking(&self, booking: &NewBooking) -> StoreResult<CreatedBooking> {
        let mut tx = begin_write(&self.pool).await?;
        let (client_id, client_user_id, labels) = match &booking.client {
            BookingClient::Existing { id, user_id } => {
                check_settings_version(&mut tx, booking.provider_id, booking.settings_version).await?;
                (*id, *user_id, None)
            }
            BookingClient::New { name, contacts } => {
                check_settings_version(&mut tx, booking.provider_id, booking.settings_version).await?;
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO clients (id, provider_id, name, contacts, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(id)
                .bind(booking.provider_id.0)
                .bind(name)
                .bind(contacts)
                .bind(Moment(booking.now))
                .execute(&mut *tx)
                .await?;
                (ClientId(id), None, None)
            }
            BookingClient::User { user_id, name } => {
                // The settings check, the client's card and the names the
                // booking is shown with in one read (a client's own booking
                // is the busiest write: its answer then needs no read of its
                // own). A client the provider blocked books nothing more with
                // them; a first visit adds the card; a card another node
                // added meanwhile is read.
                type Found = (i64, Option<Uuid>, Option<bool>, Option<String>, String, String, String, Option<String>);
                let found: Found = sqlx::query_as(concat!(
                    "SELECT p.settings_version, c.id, c.blocked, c.name, p.slug, p.display_name, p.timezone, s.name \
                     FROM providers p LEFT JOIN clients c ON c.provider_id = p.id AND c.user_id = $2 \
                     LEFT JOIN services s ON s.id = $3 AND s.provider_id = p.id WHERE p.id = $1",
                    row_lock!(share_provider)
                ))
                .bind(booking.provider_id.0)
                .bind(user_id.0)
                .bind(booking.service_id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::StaleSettings)?;
                let (version, card_id, blocked, card_name, provider_slug, provider_name, time_zone, service_name) = found;
                if version != booking.settings_version {
                    return Err(StoreError::StaleSettings);
                }
                // A first visit's card (or one added meanwhile) bears the
                // name the client books under.
                let labels = BookingLabels {
                    provider_slug,
                    provider_name,
                    time_zone: ProviderTimeZone::parse(&time_zone).map_err(StoreError::corrupt)?,
                    service_name: service_name.unwrap_or_default(),
                    client_name: card_name.unwrap_or_else(|| name.clone()),
                };
                let card = card_id.map(|id| (id, blocked.unwrap_or(false)));
                let id = match card {
                    Some((_, true)) => return Err(StoreError::ClientBlocked),
                    Some((id, false)) => id,
                    None => {
                        let added: Option<Uuid> = sqlx::query_scalar(
                            "INSERT INTO clients (id, provider_id, user_id, name, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (provider_id, user_id) DO NOTHING RETURNING id",
                        )
                        .bind(Uuid::now_v7())
                        .bind(booking.provider_id.0)
                        .bind(user_id.0)
                        .bind(name)
                        .bind(Moment(booking.now))
                        .fetch_optional(&mut *tx)
                        .await?;
                        match added {
                            Some(id) => id,
                            // Added by another node meanwhile, blocked or not:
                            // a new card is never blocked yet.
                            None => {
                                sqlx::query_scalar("SELECT id FROM clients WHERE provider_id = $1 AND user_id = $2")
                                    .bind(booking.provider_id.0)
                                    .bind(user_id.0)
                                    .fetch_one(&mut *tx)
                                    .await?
                            }
                        }
                    }
                };
                (ClientId(id), Some(*user_id), Some(labels))
            }
        };
        sqlx::query(
            "INSERT INTO bookings (id, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, \
             occupied_to, status, note, created_by, updated_by, idempotency_key, created_at, updated_at, confirm_by, \
             seat, occurrence) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $13, $14, $15, $16)",
        )
        .bind(booking.id.0)
        .bind(booking.provider_id.0)
        .bind(booking.service_id.0)
        .bind(client_id.0)
        .bind(Moment(booking.start))
        .bind(Moment(booking.end))
        .bind(Moment(booking.occupied.start))
        .bind(Moment(booking.occupied.end))
        .bind(booking.status.as_str())
        .bind(&booking.note)
        .bind(booking.created_by.map(|id| id.0))
        .bind(&booking.idempotency_key)
        .bind(Moment(booking.now))
        .bind(booking.confirm_by.map(Moment))
        .bind(booking.seat.map(i64::from))
        .bind(occurrence(booking.id, booking.service_id, booking.start, booking.seat))
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        if let Some(user_id) = client_user_id {
            // Booked that service that day: done waiting for it.
            sqlx::query("DELETE FROM waitlist_entries WHERE user_id = $1 AND service_id = $2 AND local_date = $3")
                .bind(user_id.0)
                .bind(booking.service_id.0)
                .bind(Day(booking.local_date))
                .execute(&mut *tx)
                .await?;
        }
        insert_notices(&mut tx, booking.id, &booking.notices, booking.now).await?;
        tx.commit().await?;
        // As a read would give it back: the times from `now` in whole seconds.
        let mut written = booking.to_booking(client_id, client_user_id);
        written.created_at = Moment::kept(written.created_at);
        written.updated_at = Moment::kept(written.updated_at);
        written.confirm_by = written.confirm_by.map(Moment::kept);
        Ok(CreatedBooking { booking: written, labels })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_booking(&self, update: &BookingUpdate) -> StoreResult<Option<Booking>> {
        let after = &update.after;
        let mut tx = begin_write(&self.pool).await?;
        check_settings_version(&mut tx, after.provider_id, update.settings_version).await?;
        // Only over the revision the change was decided on: a change another
        // node committed meanwhile makes this one match nothing.
        let done = sqlx::query(
            "UPDATE bookings SET status = $3, starts_at = $4, ends_at = $5, occupied_from = $6, occupied_to = $7, \
             updated_by = $8, updated_at = $9, confirm_by = $10, proposed_start = $11, \
             attendance_confirmed_at = $12, seat = $14, occurrence = $15, revision = revision + 1 \
             WHERE provider_id = $1 AND id = $2 AND revision = $13",
        )
        .bind(after.provider_id.0)
        .bind(after.id.0)
        .bind(after.status.as_str())
        .bind(Moment(after.start))
        .bind(Moment(after.end))
        .bind(Moment(after.occupied.start))
        .bind(Moment(after.occupied.end))
        .bind(update.updated_by.map(|id| id.0))
        .bind(Moment(update.now))
        .bind(after.confirm_by.map(Moment))
        .bind(after.proposed_start.map(Moment))
        .bind(after.attendance_confirmed_at.map(Moment))
        .bind(i64::from(after.revision))
        .bind(after.seat.map(i64::from))
        .bind(occurrence(after.id, after.service_id, after.start, after.seat))
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        if update.drop_pending_reminders {
            sqlx::query("DELETE FROM outbox WHERE booking_id = $1 AND kind = 'reminder' AND state = 'pending'")
                .bind(after.id.0)
                .execute(&mut *tx)
                .await?;
        }
        insert_notices(&mut tx, after.id, &update.notices, update.now).await?;
        tx.commit().await?;
        Ok(self.booking(after.provider_id, after.id).await?.map(|details| details.booking))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn requests_past_deadline(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<(ProviderId, BookingId)>> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT provider_id, id FROM bookings \
             WHERE status = 'pending' AND confirm_by IS NOT NULL AND confirm_by <= $1 \
             ORDER BY confirm_by LIMIT $2",
        )
        .bind(Moment(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(provider, booking)| (ProviderId(provider), BookingId(booking))).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn client_bookings(&self, user_id: UserId) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> =
            sqlx::query_as(concat!(booking_select!(), " WHERE c.user_id = $1 ORDER BY b.starts_at DESC LIMIT 500"))
                .bind(user_id.0)
                .fetch_all(&self.pool)
                .await?;
        convert_all(rows)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn provider_bookings(
        &self,
        provider_id: ProviderId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<BookingDetails>> {
        let rows: Vec<BookingRow> = sqlx::query_as(concat!(
            booking_select!(),
            " WHERE b.provider_id = $1 AND b.starts_at >= $2 AND b.starts_at < $3 ORDER BY b.starts_at, b.id"
        ))
        .bind(provider_id.0)
        .bind(Moment(from))
        .bind(Moment(to))
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }
}

/// Fails with [`StoreError::StaleSettings`] unless the provider's settings
/// are still at `decided_with`. No settings write can commit between this read
/// and the booking's commit: SQLite's write lock is held from the transaction's
/// start, PostgreSQL's provider row from this read (`row_lock!(share)`).
async fn check_settings_version(
    tx: &mut sqlx::Transaction<'_, Db>,
    provider_id: ProviderId,
    decided_with: i64,
) -> StoreResult<()> {
    let current: Option<i64> =
        sqlx::query_scalar(concat!("SELECT settings_version FROM providers WHERE id = $1", row_lock!(share)))
            .bind(provider_id.0)
            .fetch_optional(&mut **tx)
            .await?;
    match current {
        Some(version) if version == decided_with => Ok(()),
        _ => Err(StoreError::StaleSettings),
    }
}

/// Writes outbox rows inside the caller's transaction.
async fn insert_notices(
    tx: &mut sqlx::Transaction<'_, Db>,
    booking_id: BookingId,
    notices: &[Notice],
    now: Timestamp,
) -> StoreResult<()> {
    if notices.is_empty() {
        return Ok(());
    }
    // One statement for all of them (a booking has three: the provider's
    // push and the client's two reminders).
    let mut insert =
        sqlx::QueryBuilder::<Db>::new("INSERT INTO outbox (id, kind, event, booking_id, recipient_id, due_at, created_at) ");
    insert.push_values(notices, |mut row, notice| {
        let (kind, event) = outbox_kind(&notice.kind);
        row.push_bind(Uuid::now_v7())
            .push_bind(kind)
            .push_bind(event)
            .push_bind(booking_id.0)
            .push_bind(notice.recipient.0)
            .push_bind(Moment(notice.due_at))
            .push_bind(Moment(now));
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// A booking write's refusal in the store's terms: the database's no-overlap
/// rule (told apart per database by `is_overlap`), or the unique
/// (created_by, idempotency_key) pair.
/// What a booking occupies the provider for (the no-overlap rule lets one
/// occurrence's bookings share their time): the booking itself, or the class
/// start whose seat it holds.
fn occurrence(id: BookingId, service_id: ServiceId, start: Timestamp, seat: Option<u16>) -> String {
    match seat {
        None => id.0.simple().to_string(),
        Some(_) => format!("{}/{}", service_id.0.simple(), start.as_second()),
    }
}

fn write_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if is_overlap(db.as_ref()) => StoreError::BookingOverlap,
        // Another node holds the seat, or it lies beyond the capacity now.
        sqlx::Error::Database(db)
            if db.constraint() == Some("bookings_one_per_seat")
                || db.message().contains("bookings.occurrence, bookings.seat")
                || db.message().contains("seat_beyond_capacity") =>
        {
            StoreError::SeatTaken
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::DuplicateIdempotencyKey,
        _ => StoreError::Database(error),
    }
}
