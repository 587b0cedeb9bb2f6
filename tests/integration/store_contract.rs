//! The storage contract: the same assertions against SQLite and PostgreSQL.

use std::sync::Arc;

use actors::domain::{BookingId, ClientId, ProviderId, ServiceId, UserId};
use actors::{
    calendar::{
        BookingClient, BookingEventKind, BookingUpdate, NewBooking,
        notices::{Notice, NoticeKind},
    },
    domain::{
        Booking, BookingRules, BookingStatus, Busy, DateOverride, LocalInterval, ProviderTimeZone, Schedule,
        ServiceTiming, Slug, TimeOfDay, WeeklyInterval,
    },
};
use jiff::{Timestamp, ToSpan};
use justbookme::store::{
    self, AccessEntry, AccessRecord, ClientDeletion, ClientFields, Letter, MessageOutcome, NewClient, NewSession,
    OutboxContent, ProviderProfile, ServiceFields, Store, StoreError, TelegramProfile, UserChanges,
};

use crate::helpers::{Backend, TestDatabase, on_both_backends};

on_both_backends!(
    users_are_created_once_and_refreshed,
    sessions_expire,
    provider_slugs_are_unique,
    services_belong_to_their_provider,
    schedules_round_trip,
    overlapping_active_bookings_are_refused,
    reactivating_into_a_taken_slot_is_refused,
    a_change_decided_on_an_old_revision_changes_nothing,
    requests_past_their_deadline_are_found_for_expiry,
    active_bookings_are_listed_for_the_calendar,
    a_clients_first_booking_adds_them_to_the_client_book,
    clients_are_managed_and_deleted_with_their_history,
    every_settings_write_bumps_the_version,
    accounts_are_corrected_and_found_by_telegram_id,
    the_agenda_lists_a_range_in_time_order,
    outbox_messages_are_claimed_once_retried_and_finished,
    an_unreachable_user_gets_nothing_more,
    a_booking_decided_on_stale_settings_is_refused_and_writes_nothing,
    client_search_ignores_case_and_takes_wildcards_literally,
    clients_added_by_hand_are_counted_past_what_the_list_shows,
    support_messages_written_are_counted_by_time_and_direction,
    a_corrected_name_survives_the_next_telegram_sign_in,
    support_conversations_are_kept_found_by_copy_finished_purged_and_deleted,
    access_log_lines_are_written_in_batches_and_read_newest_first,
    the_purge_removes_only_what_is_past_retention,
);

async fn open(backend: Backend) -> (TestDatabase, Arc<dyn Store>) {
    let db = TestDatabase::new(backend).await;
    let store = store::connect(&db.url).await.expect("connect and migrate");
    // Migrating twice is a no-op (every start migrates).
    store::migrate(&db.url).await.expect("second migration run");
    (db, store)
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn telegram(id: i64, name: &str) -> TelegramProfile {
    TelegramProfile {
        telegram_id: id,
        first_name: name.into(),
        last_name: None,
        username: Some(format!("{name}_tg")),
        language_code: Some("en".into()),
        photo_url: None,
    }
}

fn profile(slug: &str) -> ProviderProfile {
    ProviderProfile {
        slug: Slug::parse(slug).unwrap(),
        display_name: slug.into(),
        business_name: Some("Biz".into()),
        contacts: Some("+49 30 123\nberlin".into()),
        timezone: ProviderTimeZone::parse("Europe/Berlin").unwrap(),
        rules: BookingRules::default(),
    }
}

fn service_fields(name: &str) -> ServiceFields {
    ServiceFields {
        name: name.into(),
        timing: ServiceTiming { duration_min: 45, buffer_before_min: 5, buffer_after_min: 10 },
        price_minor: Some(2500),
        currency: Some("EUR".into()),
        capacity: 1,
    }
}

async fn users_are_created_once_and_refreshed(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let first = store.upsert_telegram_user(&telegram(42, "anna"), now).await.unwrap();
    let mut changed = telegram(42, "Anna-Maria");
    changed.photo_url = Some("https://t.me/i/userpic/1.jpg".into());
    let second = store.upsert_telegram_user(&changed, now + 1.hour()).await.unwrap();
    assert_eq!(first.id, second.id, "same Telegram account, same user");
    assert_eq!(second.profile, changed);
    assert_eq!(second.created_at, now);
    assert_eq!(store.user(first.id).await.unwrap().unwrap().profile.first_name, "Anna-Maria");
    assert!(store.user(UserId::generate()).await.unwrap().is_none());
}

async fn sessions_expire(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let user = store.upsert_telegram_user(&telegram(1, "a"), now).await.unwrap();
    let session = NewSession { token_hash: vec![7; 32], user_id: user.id, created_at: now, expires_at: now + 1.hour() };
    store.create_session(&session).await.unwrap();
    let found = store.session_user(&[7; 32], now).await.unwrap().expect("the session");
    assert_eq!((found.user.id, found.expires_at), (user.id, now + 1.hour()), "its user and its expiry");
    assert!(store.session_user(&[7; 32], now + 1.hour()).await.unwrap().is_none(), "expired");
    assert!(store.session_user(&[8; 32], now).await.unwrap().is_none(), "unknown");
}

async fn provider_slugs_are_unique(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let anna = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let bob = store.upsert_telegram_user(&telegram(2, "bob"), now).await.unwrap();
    let created = store.upsert_provider(anna.id, &profile("anna"), now).await.unwrap();
    let mut renamed = profile("anna-nails");
    renamed.rules.slot_step_min = 15;
    renamed.rules.reminder_offsets_min = vec![30];
    let updated = store.upsert_provider(anna.id, &renamed, now).await.unwrap();
    assert_eq!(created.id, updated.id, "one provider profile per user");
    assert_eq!(updated.profile, renamed);

    let taken = store.upsert_provider(bob.id, &profile("anna-nails"), now).await;
    assert!(matches!(taken, Err(StoreError::SlugTaken)), "{taken:?}");
    assert!(store.provider_of_user(bob.id).await.unwrap().is_none(), "nothing stored");
    assert_eq!(store.provider_by_slug("anna-nails").await.unwrap().unwrap().user_id, anna.id);
    assert!(store.provider_by_slug("anna").await.unwrap().is_none());
}

async fn services_belong_to_their_provider(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let anna = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let bob = store.upsert_telegram_user(&telegram(2, "bob"), now).await.unwrap();
    let anna = store.upsert_provider(anna.id, &profile("anna"), now).await.unwrap();
    let bob = store.upsert_provider(bob.id, &profile("bob"), now).await.unwrap();

    let cut = store.insert_service(anna.id, &service_fields("Cut"), now).await.unwrap();
    let color = store.insert_service(anna.id, &service_fields("Color"), now).await.unwrap();
    assert_eq!(cut.fields, service_fields("Cut"));
    assert!(cut.active);

    let mut changed = service_fields("Short cut");
    changed.price_minor = None;
    changed.currency = None;
    let updated = store.update_service(anna.id, cut.id, &changed, now).await.unwrap().unwrap();
    assert_eq!(updated.fields, changed);

    assert!(store.update_service(bob.id, cut.id, &service_fields("Stolen"), now).await.unwrap().is_none());
    assert!(!store.retire_service(bob.id, cut.id, now).await.unwrap());
    assert!(store.service(bob.id, cut.id).await.unwrap().is_none());

    assert!(store.retire_service(anna.id, color.id, now).await.unwrap());
    let active: Vec<_> = store.services(anna.id, false).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(active, vec![cut.id]);
    assert_eq!(store.services(anna.id, true).await.unwrap().len(), 2);
    assert!(store.services(bob.id, true).await.unwrap().is_empty());
}

async fn schedules_round_trip(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let user = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let provider = store.upsert_provider(user.id, &profile("anna"), now).await.unwrap();
    assert_eq!(store.schedule(provider.id).await.unwrap(), Schedule::default());

    let t = |s: &str| TimeOfDay::parse(s).unwrap();
    let iv = |a: &str, b: &str| LocalInterval { start: t(a), end: t(b) };
    let schedule = Schedule::new(
        &[
            WeeklyInterval { weekday: 1, interval: iv("09:00", "13:00") },
            WeeklyInterval { weekday: 1, interval: iv("14:00", "18:00") },
            WeeklyInterval { weekday: 5, interval: iv("20:00", "24:00") },
        ],
        &[
            DateOverride { date: jiff::civil::date(2027, 12, 24), intervals: vec![] },
            DateOverride {
                date: jiff::civil::date(2027, 12, 31),
                intervals: vec![iv("10:00", "12:00"), iv("13:00", "14:00")],
            },
        ],
    )
    .unwrap();
    store.replace_schedule(provider.id, &schedule).await.unwrap();
    assert_eq!(store.schedule(provider.id).await.unwrap(), schedule);

    let smaller = Schedule::new(&[WeeklyInterval { weekday: 2, interval: iv("08:00", "09:00") }], &[]).unwrap();
    store.replace_schedule(provider.id, &smaller).await.unwrap();
    assert_eq!(store.schedule(provider.id).await.unwrap(), smaller, "replaced, not merged");
}

struct Calendar {
    store: Arc<dyn Store>,
    providers: [ProviderId; 2],
    /// The providers' settings versions once set up.
    versions: [i64; 2],
    service: ServiceId,
    client: ClientId,
    user: UserId,
}

async fn calendar(store: Arc<dyn Store>) -> Calendar {
    let now = ts("2027-01-01T10:00:00Z");
    let anna = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let bob = store.upsert_telegram_user(&telegram(2, "bob"), now).await.unwrap();
    let carol = store.upsert_telegram_user(&telegram(3, "carol"), now).await.unwrap();
    let anna = store.upsert_provider(anna.id, &profile("anna"), now).await.unwrap();
    let bob = store.upsert_provider(bob.id, &profile("bob"), now).await.unwrap();
    let service = store.insert_service(anna.id, &service_fields("Cut"), now).await.unwrap();
    let client = store
        .insert_client(&NewClient {
            id: ClientId::generate(),
            provider_id: anna.id,
            user_id: None,
            fields: ClientFields { name: "Walk-in".into(), contacts: None, notes: None },
            created_at: now,
        })
        .await
        .unwrap();
    let mut versions = [0; 2];
    for (version, id) in versions.iter_mut().zip([anna.id, bob.id]) {
        *version = store.provider(id).await.unwrap().unwrap().settings_version;
    }
    Calendar { store, providers: [anna.id, bob.id], versions, service: service.id, client: client.id, user: carol.id }
}

impl Calendar {
    fn new_booking(&self, provider: usize, from: &str, to: &str, client: BookingClient) -> NewBooking {
        let (from, to) = (ts(from), ts(to));
        NewBooking {
            id: BookingId::generate(),
            provider_id: self.providers[provider],
            service_id: self.service,
            client,
            start: from,
            end: to,
            local_date: jiff::civil::date(2027, 1, 1),
            occupied: Busy { start: from, end: to },
            status: BookingStatus::Confirmed,
            seat: None,
            confirm_by: None,
            note: None,
            created_by: None,
            idempotency_key: None,
            now: ts("2027-01-01T10:00:00Z"),
            settings_version: self.versions[provider],
            notices: Vec::new(),
        }
    }

    /// Books `[from, to)` as the occupied range for the walk-in client.
    async fn book(&self, provider: usize, from: &str, to: &str) -> Result<BookingId, StoreError> {
        let booking = self.new_booking(provider, from, to, BookingClient::Existing { id: self.client, user_id: None });
        self.store.create_booking(&booking).await.map(|b| b.booking.id)
    }

    async fn set_status(&self, id: BookingId, status: BookingStatus) -> Result<Option<Booking>, StoreError> {
        let current = self.store.booking(self.providers[0], id).await?.map(|d| d.booking);
        let Some(current) = current else { return Ok(None) };
        self.change(Booking { status, ..current }).await
    }

    /// Writes `after` over the revision it carries.
    async fn change(&self, after: Booking) -> Result<Option<Booking>, StoreError> {
        let update = BookingUpdate {
            after,
            updated_by: None,
            now: ts("2027-01-02T00:00:00Z"),
            settings_version: self.versions[0],
            drop_pending_reminders: false,
            notices: Vec::new(),
        };
        self.store.update_booking(&update).await
    }
}

async fn overlapping_active_bookings_are_refused(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    for (from, to) in [
        ("2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z"),
        ("2027-03-01T09:30:00Z", "2027-03-01T10:30:00Z"),
        ("2027-03-01T08:30:00Z", "2027-03-01T09:01:00Z"),
        ("2027-03-01T09:15:00Z", "2027-03-01T09:45:00Z"),
        ("2027-03-01T08:00:00Z", "2027-03-01T11:00:00Z"),
    ] {
        let result = cal.book(0, from, to).await;
        assert!(matches!(result, Err(StoreError::BookingOverlap)), "{from}–{to}: {result:?}");
    }
    // Half-open ranges: touching is not overlapping.
    cal.book(0, "2027-03-01T10:00:00Z", "2027-03-01T11:00:00Z").await.unwrap();
    cal.book(0, "2027-03-01T08:00:00Z", "2027-03-01T09:00:00Z").await.unwrap();
    // Another provider's calendar is independent.
    cal.book(1, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
}

async fn reactivating_into_a_taken_slot_is_refused(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let first = cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    assert_eq!(
        cal.set_status(first, BookingStatus::Cancelled).await.unwrap().unwrap().status,
        BookingStatus::Cancelled
    );
    let second = cal.book(0, "2027-03-01T09:30:00Z", "2027-03-01T10:30:00Z").await.unwrap();
    let revived = cal.set_status(first, BookingStatus::Confirmed).await;
    assert!(matches!(revived, Err(StoreError::BookingOverlap)), "{revived:?}");
    // Status changes that keep a booking active do not collide with itself.
    assert!(cal.set_status(second, BookingStatus::Pending).await.unwrap().is_some());
    assert!(cal.set_status(second, BookingStatus::Confirmed).await.unwrap().is_some());
    assert!(cal.set_status(BookingId::generate(), BookingStatus::Cancelled).await.unwrap().is_none());
}

/// Two nodes decide on the same revision: the second write matches nothing
/// and changes nothing, so a change (and its push) happens once.
async fn a_change_decided_on_an_old_revision_changes_nothing(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let id = cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    let read = cal.store.booking(cal.providers[0], id).await.unwrap().unwrap().booking;
    assert_eq!(read.revision, 0);
    let first = cal.change(Booking { status: BookingStatus::Cancelled, ..read.clone() }).await.unwrap().unwrap();
    assert_eq!((first.status, first.revision), (BookingStatus::Cancelled, 1));
    let notice = Notice {
        kind: NoticeKind::Push(BookingEventKind::Confirmed),
        recipient: cal.user,
        due_at: ts("2027-01-02T00:00:00Z"),
    };
    let second = BookingUpdate {
        after: Booking { status: BookingStatus::Confirmed, ..read },
        updated_by: None,
        now: ts("2027-01-02T00:00:00Z"),
        settings_version: cal.versions[0],
        drop_pending_reminders: false,
        notices: vec![notice],
    };
    assert!(cal.store.update_booking(&second).await.unwrap().is_none(), "decided on revision 0, which is gone");
    let now = cal.store.booking(cal.providers[0], id).await.unwrap().unwrap().booking;
    assert_eq!((now.status, now.revision), (BookingStatus::Cancelled, 1), "the later write changed nothing");
    let sent = cal.store.claim_due_messages(ts("2027-01-03T00:00:00Z"), ts("2027-01-03T00:10:00Z"), 10).await.unwrap();
    assert!(sent.is_empty(), "nor wrote its push: {sent:?}");
}

/// The fields a proposal, a deadline and "I'm coming" keep survive the
/// round trip, and only pending requests past a deadline are found for
/// expiry (a proposal without one, or a confirmed request, is not).
async fn requests_past_their_deadline_are_found_for_expiry(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let mut ids = Vec::new();
    for (hour, by) in [(9, "2027-01-01T11:00:00Z"), (11, "2027-01-01T12:00:00Z"), (13, "2027-01-01T13:00:00Z")] {
        let mut booking = cal.new_booking(
            0,
            &format!("2027-03-01T{hour:02}:00:00Z"),
            &format!("2027-03-01T{:02}:00:00Z", hour + 1),
            BookingClient::Existing { id: cal.client, user_id: None },
        );
        booking.status = BookingStatus::Pending;
        booking.confirm_by = Some(ts(by));
        ids.push(cal.store.create_booking(&booking).await.unwrap().booking.id);
    }
    // The third is answered with a proposal; the second is confirmed.
    let third = cal.store.booking(cal.providers[0], ids[2]).await.unwrap().unwrap().booking;
    let proposed = Some(ts("2027-03-01T15:00:00Z"));
    let third = cal.change(Booking { proposed_start: proposed, confirm_by: None, ..third }).await.unwrap().unwrap();
    assert_eq!(third.proposed_start, proposed);
    cal.set_status(ids[1], BookingStatus::Confirmed).await.unwrap();
    let due = cal.store.requests_past_deadline(ts("2027-01-01T14:00:00Z"), 10).await.unwrap();
    assert_eq!(due, vec![(cal.providers[0], ids[0])]);
    assert!(cal.store.requests_past_deadline(ts("2027-01-01T10:59:59Z"), 10).await.unwrap().is_empty());
    let first = cal.store.booking(cal.providers[0], ids[0]).await.unwrap().unwrap().booking;
    assert_eq!(first.confirm_by, Some(ts("2027-01-01T11:00:00Z")));
    let attended = Some(ts("2027-01-01T12:34:56Z"));
    let first = cal.change(Booking { attendance_confirmed_at: attended, ..first }).await.unwrap().unwrap();
    assert_eq!(first.attendance_confirmed_at, attended);
}

async fn active_bookings_are_listed_for_the_calendar(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let kept = cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    let cancelled = cal.book(0, "2027-03-01T11:00:00Z", "2027-03-01T12:00:00Z").await.unwrap();
    cal.set_status(cancelled, BookingStatus::Cancelled).await.unwrap();
    cal.book(0, "2027-02-01T09:00:00Z", "2027-02-01T10:00:00Z").await.unwrap();
    cal.book(1, "2027-03-01T13:00:00Z", "2027-03-01T14:00:00Z").await.unwrap();

    let active = cal.store.active_bookings(cal.providers[0], ts("2027-02-15T00:00:00Z")).await.unwrap();
    assert_eq!(active.iter().map(|b| b.id).collect::<Vec<_>>(), vec![kept], "active, recent, this provider's");
    let details = cal.store.booking(cal.providers[0], kept).await.unwrap().unwrap();
    assert_eq!((details.client_name.as_str(), details.service_name.as_str()), ("Walk-in", "Cut"));
    assert!(cal.store.booking(cal.providers[1], kept).await.unwrap().is_none(), "scoped by provider");
}

async fn a_clients_first_booking_adds_them_to_the_client_book(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let me = BookingClient::User { user_id: cal.user, name: "Carol C".into() };
    let mut first = cal.new_booking(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", me.clone());
    first.idempotency_key = Some("key-1".into());
    first.created_by = Some(cal.user);
    let first = cal.store.create_booking(&first).await.unwrap();
    let labels = first.labels.expect("a client's own booking comes back with the names it is shown with");
    let first = first.booking;
    let second = cal
        .store
        .create_booking(&cal.new_booking(0, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", me))
        .await
        .unwrap()
        .booking;
    assert_eq!(first.client_id, second.client_id, "one client-book entry per Telegram user");
    assert_eq!(first.client_user_id, Some(cal.user));
    let book = cal.store.clients(cal.providers[0], Some("carol")).await.unwrap();
    assert_eq!(book.len(), 1);
    assert_eq!(book[0].fields.name, "Carol C");
    assert_eq!(cal.store.client_bookings(cal.user).await.unwrap().len(), 2);
    let read = cal.store.booking_of_client(cal.user, first.id).await.unwrap().expect("the client's booking");
    let written =
        (labels.provider_slug, labels.provider_name, labels.time_zone, labels.service_name, labels.client_name);
    let read = (read.provider_slug, read.provider_name, read.timezone, read.service_name, read.client_name);
    assert_eq!(written, read, "the names read in the write are those a read finds");

    let replay = cal.store.booking_by_idempotency_key(cal.user, "key-1").await.unwrap();
    assert_eq!(replay.map(|b| b.id), Some(first.id));
    let mut again = cal.new_booking(
        0,
        "2027-03-03T09:00:00Z",
        "2027-03-03T10:00:00Z",
        BookingClient::Existing { id: cal.client, user_id: None },
    );
    again.idempotency_key = Some("key-1".into());
    again.created_by = Some(cal.user);
    assert!(matches!(cal.store.create_booking(&again).await, Err(StoreError::DuplicateIdempotencyKey)));
}

async fn clients_are_managed_and_deleted_with_their_history(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let now = ts("2027-01-02T00:00:00Z");
    let fields = ClientFields { name: "Dora".into(), contacts: Some("+1 555".into()), notes: Some("likes tea".into()) };
    let dora = cal
        .store
        .insert_client(&NewClient {
            id: ClientId::generate(),
            provider_id: cal.providers[0],
            user_id: None,
            fields: fields.clone(),
            created_at: now,
        })
        .await
        .unwrap();
    assert_eq!(cal.store.clients(cal.providers[0], Some("555")).await.unwrap().len(), 1, "search contacts");
    assert_eq!(cal.store.clients(cal.providers[0], None).await.unwrap().len(), 2);
    assert!(cal.store.clients(cal.providers[1], None).await.unwrap().is_empty());
    let changed = ClientFields { notes: None, ..fields };
    let updated = cal.store.update_client(cal.providers[0], dora.id, &changed, now).await.unwrap().unwrap();
    assert_eq!(updated.fields, changed);
    assert!(cal.store.update_client(cal.providers[1], dora.id, &changed, now).await.unwrap().is_none());

    let upcoming = cal
        .store
        .create_booking(&cal.new_booking(
            0,
            "2027-03-01T09:00:00Z",
            "2027-03-01T10:00:00Z",
            BookingClient::Existing { id: dora.id, user_id: None },
        ))
        .await
        .unwrap()
        .booking;
    assert_eq!(cal.store.client_history(cal.providers[0], dora.id).await.unwrap().len(), 1);
    assert_eq!(cal.store.delete_client(cal.providers[1], dora.id, &[], now).await.unwrap(), ClientDeletion::NotFound);
    assert_eq!(cal.store.client_history(cal.providers[0], dora.id).await.unwrap().len(), 1, "another's refusal");
    // Upcoming visits go with the card (the caller tells the client).
    assert_eq!(cal.store.delete_client(cal.providers[0], dora.id, &[], now).await.unwrap(), ClientDeletion::Deleted);
    assert!(cal.store.client(cal.providers[0], dora.id).await.unwrap().is_none());
    assert!(cal.store.booking(cal.providers[0], upcoming.id).await.unwrap().is_none(), "history deleted with them");
}

async fn every_settings_write_bumps_the_version(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let user = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let provider = store.upsert_provider(user.id, &profile("anna"), now).await.unwrap();
    let mut seen = provider.settings_version;
    let version = async || store.provider(provider.id).await.unwrap().unwrap().settings_version;
    let mut bumped = async |what: &str| {
        let now_at = version().await;
        assert!(now_at > seen, "{what} must bump the settings version ({seen} → {now_at})");
        seen = now_at;
    };

    let again = store.upsert_provider(user.id, &profile("anna"), now).await.unwrap();
    assert!(again.settings_version > provider.settings_version, "the upsert returns the bumped version");
    bumped("updating the profile").await;
    let service = store.insert_service(provider.id, &service_fields("Cut"), now).await.unwrap();
    bumped("adding a service").await;
    store.update_service(provider.id, service.id, &service_fields("Trim"), now).await.unwrap();
    bumped("changing a service").await;
    store.retire_service(provider.id, service.id, now).await.unwrap();
    bumped("retiring a service").await;
    let iv =
        |a: &str, b: &str| LocalInterval { start: TimeOfDay::parse(a).unwrap(), end: TimeOfDay::parse(b).unwrap() };
    let weekly = [WeeklyInterval { weekday: 1, interval: iv("09:00", "13:00") }];
    store.replace_schedule(provider.id, &Schedule::new(&weekly, &[]).unwrap()).await.unwrap();
    bumped("setting weekly hours").await;
    let day_off = [DateOverride { date: jiff::civil::date(2027, 12, 24), intervals: vec![] }];
    store.replace_schedule(provider.id, &Schedule::new(&weekly, &day_off).unwrap()).await.unwrap();
    bumped("adding a day off").await;
    store.delete_account(user.id, -1, &[], now).await.unwrap();
    bumped("deleting the account").await;

    // Bookings and client-book changes are not settings.
    let cal = calendar(store.clone()).await;
    cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    assert_eq!(store.provider(cal.providers[0]).await.unwrap().unwrap().settings_version, cal.versions[0]);
}

async fn a_booking_decided_on_stale_settings_is_refused_and_writes_nothing(backend: Backend) {
    let (_db, store) = open(backend).await;
    let mut cal = calendar(store.clone()).await;
    let kept = cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    // The provider changes a service after the calendar read its settings.
    store
        .update_service(cal.providers[0], cal.service, &service_fields("Trim"), ts("2027-01-01T11:00:00Z"))
        .await
        .unwrap();

    let client = BookingClient::User { user_id: cal.user, name: "Carol".into() };
    let refused =
        store.create_booking(&cal.new_booking(0, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", client)).await;
    assert!(matches!(refused, Err(StoreError::StaleSettings)), "{refused:?}");
    let moved = cal.set_status(kept, BookingStatus::Cancelled).await;
    assert!(matches!(moved, Err(StoreError::StaleSettings)), "{moved:?}");
    let listed = store.active_bookings(cal.providers[0], ts("2027-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(listed.iter().map(|b| (b.id, b.status)).collect::<Vec<_>>(), [(kept, BookingStatus::Confirmed)]);
    let clients = store.clients(cal.providers[0], None).await.unwrap();
    assert_eq!(clients.len(), 1, "no client-book entry was left behind either");

    // Decided again with the current version, both go through; the other
    // provider's version never moved.
    cal.versions[0] = store.provider(cal.providers[0]).await.unwrap().unwrap().settings_version;
    cal.book(0, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z").await.unwrap();
    cal.book(1, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z").await.unwrap();
}

async fn accounts_are_corrected_and_found_by_telegram_id(backend: Backend) {
    let (_db, store) = open(backend).await;
    store.ping().await.expect("ping");
    let now = ts("2027-01-01T10:00:00Z");
    let carol = store.upsert_telegram_user(&telegram(3, "carol"), now).await.unwrap();
    let changes = UserChanges {
        first_name: Some("Caroline".into()),
        last_name: Some(Some("Doe".into())),
        language_code: Some(None),
        processing_restricted: Some(true),
        time_zone: Some(Some("America/New_York".into())),
    };
    let changed = store.update_user(carol.id, &changes, now).await.unwrap().expect("the user");
    assert_eq!(changed.profile.first_name, "Caroline");
    assert_eq!(changed.profile.last_name.as_deref(), Some("Doe"));
    assert_eq!(changed.profile.language_code, None, "Some(None) clears");
    assert!(changed.processing_restricted);
    assert_eq!(changed.time_zone.as_deref(), Some("America/New_York"));
    let found = store.user_by_telegram_id(3).await.unwrap().expect("by Telegram id");
    assert_eq!((found.id, found.profile.first_name.as_str()), (carol.id, "Caroline"));
    // The bot reads the zone where it reads the language.
    let recipient = store.bot_recipient(carol.id).await.unwrap().expect("Carol");
    assert_eq!(recipient.time_zone.as_deref(), Some("America/New_York"));
    // A change that does not name the zone keeps it; `Some(None)` clears it.
    let renamed = UserChanges { first_name: Some("Carol".into()), ..UserChanges::default() };
    let kept = store.update_user(carol.id, &renamed, now).await.unwrap().expect("the user");
    assert_eq!(kept.time_zone.as_deref(), Some("America/New_York"));
    let cleared = UserChanges { time_zone: Some(None), ..UserChanges::default() };
    assert_eq!(store.update_user(carol.id, &cleared, now).await.unwrap().expect("the user").time_zone, None);
    // Telegram's next sign-in does not touch it (Telegram knows no zone).
    let zoned = UserChanges { time_zone: Some(Some("Asia/Kolkata".into())), ..UserChanges::default() };
    store.update_user(carol.id, &zoned, now).await.unwrap();
    let signed_in = store.upsert_telegram_user(&telegram(3, "carol"), now).await.unwrap();
    assert_eq!(signed_in.time_zone.as_deref(), Some("Asia/Kolkata"));
    assert!(store.user_by_telegram_id(4).await.unwrap().is_none());
    assert!(store.update_user(UserId::generate(), &changes, now).await.unwrap().is_none(), "nobody to change");
}

async fn the_agenda_lists_a_range_in_time_order(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store.clone()).await;
    let late = cal.book(0, "2027-03-01T15:00:00Z", "2027-03-01T16:00:00Z").await.unwrap();
    let early = cal.book(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z").await.unwrap();
    cal.book(0, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z").await.unwrap();
    cal.book(1, "2027-03-01T11:00:00Z", "2027-03-01T12:00:00Z").await.unwrap();
    let day = store
        .provider_bookings(cal.providers[0], ts("2027-03-01T00:00:00Z"), ts("2027-03-02T00:00:00Z"))
        .await
        .unwrap();
    let ids: Vec<BookingId> = day.iter().map(|d| d.booking.id).collect();
    assert_eq!(ids, [early, late], "this provider's, starting in [from, to), in time order");
    let one = store.booking_by_id(late).await.unwrap().expect("by id alone");
    assert_eq!((one.booking.id, one.provider_slug.as_str(), one.client_name.as_str()), (late, "anna", "Walk-in"));
    assert!(store.booking_by_id(BookingId::generate()).await.unwrap().is_none());
}

/// A booking of Carol's with `notices` for her.
async fn booking_with_notices(cal: &Calendar, start: &str, end: &str, notices: Vec<Notice>) -> BookingId {
    let client = BookingClient::User { user_id: cal.user, name: "Carol".into() };
    let mut booking = cal.new_booking(0, start, end, client);
    booking.notices = notices;
    cal.store.create_booking(&booking).await.unwrap().booking.id
}

async fn outbox_messages_are_claimed_once_retried_and_finished(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store.clone()).await;
    let push = Notice {
        kind: NoticeKind::Push(BookingEventKind::Confirmed),
        recipient: cal.user,
        due_at: ts("2027-01-01T10:00:00Z"),
    };
    let reminder = Notice { kind: NoticeKind::Reminder(60), recipient: cal.user, due_at: ts("2027-03-01T08:00:00Z") };
    let booking =
        booking_with_notices(&cal, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", vec![push, reminder]).await;
    let claim = |now: &str, lease: &str| store.claim_due_messages(ts(now), ts(lease), 10);

    let claimed = claim("2027-01-01T10:00:00Z", "2027-01-01T10:10:00Z").await.unwrap();
    assert_eq!(claimed.len(), 1, "only what is due");
    let message = &claimed[0];
    let confirmed = OutboxContent::Notice { kind: NoticeKind::Push(BookingEventKind::Confirmed), booking_id: booking };
    assert_eq!((&message.content, message.attempts, message.recipient_id), (&confirmed, 1, cal.user));
    assert!(claim("2027-01-01T10:00:00Z", "2027-01-01T10:10:00Z").await.unwrap().is_empty(), "claimed once");

    store.retry_message(message.id, ts("2027-01-01T10:05:00Z"), "429").await.unwrap();
    assert!(claim("2027-01-01T10:01:00Z", "2027-01-01T10:11:00Z").await.unwrap().is_empty(), "not due yet");
    let again = claim("2027-01-01T10:05:00Z", "2027-01-01T10:15:00Z").await.unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, message.id, 2));
    store.finish_message(message.id, MessageOutcome::Sent, ts("2027-01-01T10:06:00Z")).await.unwrap();
    assert!(claim("2027-01-01T11:00:00Z", "2027-01-01T11:10:00Z").await.unwrap().is_empty(), "sent is done");

    // A claim whose sender died (its lease ran out) is never handed out again.
    let reminders = claim("2027-03-01T08:00:00Z", "2027-03-01T08:10:00Z").await.unwrap();
    let reminder = OutboxContent::Notice { kind: NoticeKind::Reminder(60), booking_id: booking };
    assert_eq!((reminders.len(), &reminders[0].content), (1, &reminder));
    assert!(claim("2027-03-01T08:30:00Z", "2027-03-01T08:40:00Z").await.unwrap().is_empty(), "at most once");
    assert!(claim("2027-03-02T00:00:00Z", "2027-03-02T00:10:00Z").await.unwrap().is_empty());

    // Letters and policy notices are about no booking; a letter says what it was given.
    let now = ts("2027-03-03T00:00:00Z");
    store.send_letters(&[Letter { recipient: cal.user, text: "Your visits are cancelled".into() }], now).await.unwrap();
    let letters = claim("2027-03-03T00:00:00Z", "2027-03-03T00:10:00Z").await.unwrap();
    assert_eq!((letters.len(), &letters[0].content), (1, &OutboxContent::Text("Your visits are cancelled".into())));
}

async fn an_unreachable_user_gets_nothing_more(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store.clone()).await;
    let recipient = store.bot_recipient(cal.user).await.unwrap().expect("Carol");
    assert_eq!((recipient.telegram_id, recipient.language_code.as_deref(), recipient.blocked), (3, Some("en"), false));
    let due = ts("2027-01-01T10:00:00Z");
    let notice = |kind| Notice { kind, recipient: cal.user, due_at: due };
    let notices = vec![notice(NoticeKind::Push(BookingEventKind::Confirmed)), notice(NoticeKind::Reminder(60))];
    booking_with_notices(&cal, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", notices).await;

    store.mark_bot_blocked(cal.user, "403: bot was blocked by the user", due).await.unwrap();
    assert!(store.bot_recipient(cal.user).await.unwrap().expect("Carol").blocked);
    let claimed = store.claim_due_messages(due, ts("2027-01-01T10:10:00Z"), 10).await.unwrap();
    assert!(claimed.is_empty(), "what waited for her is skipped: {claimed:?}");
    assert!(store.bot_recipient(UserId::generate()).await.unwrap().is_none());
}

async fn client_search_ignores_case_and_takes_wildcards_literally(backend: Backend) {
    let (_db, store) = open(backend).await;
    let user = store.upsert_telegram_user(&telegram(7, "owner"), ts("2027-01-01T00:00:00Z")).await.unwrap();
    let provider = store.upsert_provider(user.id, &profile("search"), ts("2027-01-01T00:00:00Z")).await.unwrap();
    for (name, contacts) in [("Dora_Smith", "100% reachable"), ("Dorax Smith", "call me"), ("Eve", "a\\b")] {
        let fields = ClientFields { name: name.into(), contacts: Some(contacts.into()), notes: None };
        let client = NewClient {
            id: ClientId::generate(),
            provider_id: provider.id,
            user_id: None,
            fields,
            created_at: ts("2027-01-01T00:00:00Z"),
        };
        store.insert_client(&client).await.unwrap();
    }
    let names = |found: Vec<justbookme::store::Client>| found.into_iter().map(|c| c.fields.name).collect::<Vec<_>>();
    assert_eq!(names(store.clients(provider.id, Some("dora_")).await.unwrap()), ["Dora_Smith"], "_ is no wildcard");
    assert_eq!(names(store.clients(provider.id, Some("0%")).await.unwrap()), ["Dora_Smith"], "% is no wildcard");
    assert_eq!(names(store.clients(provider.id, Some("A\\B")).await.unwrap()), ["Eve"], "a backslash is itself");
    assert_eq!(store.clients(provider.id, Some("SMITH")).await.unwrap().len(), 2, "case is ignored");
}

async fn a_corrected_name_survives_the_next_telegram_sign_in(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T00:00:00Z");
    let user = store.upsert_telegram_user(&telegram(9, "Anya"), now).await.unwrap();
    let changes = UserChanges { first_name: Some("Anna".into()), ..UserChanges::default() };
    store.update_user(user.id, &changes, now).await.unwrap();
    // Telegram still says "Anya" and a new username, language and last name.
    let mut again = telegram(9, "Anya");
    again.username = Some("anna_new".into());
    again.last_name = Some("Smith".into());
    again.language_code = Some("ru".into());
    let signed_in = store.upsert_telegram_user(&again, now).await.unwrap();
    assert_eq!(signed_in.profile.first_name, "Anna", "the correction stays");
    assert_eq!(signed_in.profile.username.as_deref(), Some("anna_new"), "what was not corrected follows Telegram");
    assert_eq!(signed_in.profile.last_name.as_deref(), Some("Smith"));
    assert_eq!(signed_in.profile.language_code.as_deref(), Some("ru"));
    // Clearing a field is a correction too.
    let cleared = UserChanges { last_name: Some(None), ..UserChanges::default() };
    store.update_user(user.id, &cleared, now).await.unwrap();
    let signed_in = store.upsert_telegram_user(&again, now).await.unwrap();
    assert_eq!(signed_in.profile.last_name, None, "a cleared last name stays cleared");
    assert_eq!(signed_in.profile.language_code.as_deref(), Some("ru"));
}

async fn support_conversations_are_kept_found_by_copy_finished_purged_and_deleted(backend: Backend) {
    use justbookme::store::{NewSupportMessage, SupportDirection};
    let (_db, store) = open(backend).await;
    let carol = store.upsert_telegram_user(&telegram(2, "carol"), ts("2027-01-01T10:00:00Z")).await.unwrap().id;
    let dave = store.upsert_telegram_user(&telegram(3, "dave"), ts("2027-01-01T10:00:00Z")).await.unwrap().id;
    assert_eq!(store.open_support_conversation(carol).await.unwrap(), None);

    // One open conversation per user: a second /support keeps it.
    let conversation = store.open_support(carol, ts("2027-01-01T10:00:00Z")).await.unwrap();
    assert_eq!(store.open_support(carol, ts("2027-01-01T10:01:00Z")).await.unwrap(), conversation);
    assert_eq!(store.open_support_conversation(carol).await.unwrap(), Some(conversation));
    let message = |direction, text: &str, at: &str| NewSupportMessage {
        conversation_id: conversation,
        user_id: carol,
        direction,
        text: text.into(),
        at: ts(at),
    };
    let hello =
        store.add_support_message(&message(SupportDirection::In, "hello", "2027-01-01T10:02:00Z")).await.unwrap();
    assert_eq!((hello.direction, hello.text.as_str(), hello.user_id), (SupportDirection::In, "hello", carol));
    store.set_support_copy(hello.id, -100, 42).await.unwrap();
    assert_eq!(store.support_message_by_copy(-100, 42).await.unwrap(), Some(hello.clone()));
    assert_eq!(store.support_message_by_copy(-101, 42).await.unwrap(), None, "copies are per chat");
    store.add_support_message(&message(SupportDirection::Out, "hi", "2027-01-01T10:03:00Z")).await.unwrap();
    let texts: Vec<_> =
        store.support_messages(carol).await.unwrap().into_iter().map(|m| (m.direction, m.text)).collect();
    assert_eq!(texts, [(SupportDirection::In, "hello".into()), (SupportDirection::Out, "hi".into())]);
    let open = store.open_support_conversations().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].user_id, open[0].last_activity_at), (carol, ts("2027-01-01T10:03:00Z")));

    // /done finishes it; the next /support is a new conversation.
    assert!(store.finish_support(carol, ts("2027-01-01T10:04:00Z")).await.unwrap());
    assert!(!store.finish_support(carol, ts("2027-01-01T10:05:00Z")).await.unwrap());
    assert!(store.open_support_conversations().await.unwrap().is_empty());
    assert_eq!(store.latest_support_conversation(carol).await.unwrap(), Some(conversation));
    let second = store.open_support(carol, ts("2027-02-01T10:00:00Z")).await.unwrap();
    assert_ne!(second, conversation);
    assert_eq!(store.latest_support_conversation(carol).await.unwrap(), Some(second));
    // Dave's conversation, abandoned while open.
    let daves = store.open_support(dave, ts("2027-01-01T09:00:00Z")).await.unwrap();
    let note = NewSupportMessage {
        conversation_id: daves,
        user_id: dave,
        direction: SupportDirection::In,
        text: "anyone?".into(),
        at: ts("2027-01-01T09:00:00Z"),
    };
    store.add_support_message(&note).await.unwrap();

    // Retention: conversations quiet since the cut-off go (finished or
    // abandoned), with their messages; a recent one stays.
    assert_eq!(store.purge_support(ts("2027-01-15T00:00:00Z")).await.unwrap(), 2);
    assert_eq!(store.support_message_by_copy(-100, 42).await.unwrap(), None);
    assert!(store.support_messages(dave).await.unwrap().is_empty());
    assert_eq!(store.open_support_conversation(carol).await.unwrap(), Some(second));
    assert_eq!(store.purge_support(ts("2027-01-15T00:00:00Z")).await.unwrap(), 0);

    // Deleting the account deletes what is left.
    let late = NewSupportMessage {
        conversation_id: second,
        user_id: carol,
        direction: SupportDirection::In,
        text: "bye".into(),
        at: ts("2027-02-01T10:01:00Z"),
    };
    store.add_support_message(&late).await.unwrap();
    store.delete_account(carol, -5, &[], ts("2027-02-02T00:00:00Z")).await.unwrap();
    assert!(store.support_messages(carol).await.unwrap().is_empty());
    assert_eq!(store.latest_support_conversation(carol).await.unwrap(), None);
}

fn access_line(user: Option<UserId>, at: &str, route: &str) -> AccessRecord {
    AccessRecord {
        user_id: user,
        entry: AccessEntry {
            at: ts(at),
            ip: "2001:db8::7".into(),
            device: "smartphone".into(),
            browser: "Chrome".into(),
            os: "Android 14".into(),
            method: "GET".into(),
            route: route.into(),
            status: 200,
        },
    }
}

async fn access_log_lines_are_written_in_batches_and_read_newest_first(backend: Backend) {
    let (_db, store) = open(backend).await;
    let now = ts("2027-01-01T10:00:00Z");
    let anna = store.upsert_telegram_user(&telegram(1, "anna"), now).await.unwrap();
    let bob = store.upsert_telegram_user(&telegram(2, "bob"), now).await.unwrap();
    store.record_access(&[]).await.unwrap();
    let batch: Vec<AccessRecord> = (0..600)
        .map(|i| access_line(Some(anna.id), &format!("2027-01-01T{:02}:{:02}:00Z", i / 60, i % 60), "/api/me"))
        .chain([
            access_line(Some(bob.id), "2027-01-01T12:00:00Z", "/api/bookings"),
            access_line(None, "2027-01-01T12:00:00Z", "/api/auth/telegram"),
        ])
        .collect();
    store.record_access(&batch).await.unwrap();
    let newest = store.access_log(anna.id, 3).await.unwrap();
    assert_eq!(newest.len(), 3);
    assert_eq!(newest[0], batch[599].entry, "newest first, every field as written");
    assert_eq!((newest[1].at, newest[2].at), (batch[598].entry.at, batch[597].entry.at));
    assert_eq!(store.access_log(anna.id, i64::MAX).await.unwrap().len(), 600);
    let bobs = store.access_log(bob.id, 10).await.unwrap();
    assert_eq!(bobs.iter().map(|line| line.route.as_str()).collect::<Vec<_>>(), ["/api/bookings"], "each their own");

    // A deleted account's lines go with it, and a line still on its way is dropped.
    store.delete_account(anna.id, -1, &[], now).await.unwrap();
    assert!(store.access_log(anna.id, 10).await.unwrap().is_empty());
    store.record_access(&[access_line(Some(anna.id), "2027-01-01T13:00:00Z", "/api/me")]).await.unwrap();
    assert!(store.access_log(anna.id, 10).await.unwrap().is_empty());
    assert_eq!(store.access_log(bob.id, 10).await.unwrap().len(), 1);
}

async fn the_purge_removes_only_what_is_past_retention(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store.clone()).await;
    let user = cal.user;
    let lines = [
        access_line(Some(user), "2026-11-01T00:00:00Z", "/api/me"),
        access_line(None, "2026-11-01T00:00:00Z", "/api/auth/telegram"),
        access_line(Some(user), "2026-12-20T00:00:00Z", "/api/me"),
    ];
    store.record_access(&lines).await.unwrap();
    let session = |byte: u8, expires_at: &str| NewSession {
        token_hash: vec![byte; 32],
        user_id: user,
        created_at: ts("2026-12-01T00:00:00Z"),
        expires_at: ts(expires_at),
    };
    store.create_session(&session(1, "2026-12-31T00:00:00Z")).await.unwrap();
    store.create_session(&session(2, "2027-01-02T00:00:00Z")).await.unwrap();
    // Outbox rows created 2027-01-01T10:00: a push sent at 10:06, a reminder still pending.
    let push = Notice {
        kind: NoticeKind::Push(BookingEventKind::Confirmed),
        recipient: user,
        due_at: ts("2027-01-01T10:00:00Z"),
    };
    let reminder = Notice { kind: NoticeKind::Reminder(60), recipient: user, due_at: ts("2027-03-01T08:00:00Z") };
    booking_with_notices(&cal, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", vec![push, reminder]).await;
    let claimed = store.claim_due_messages(ts("2027-01-01T10:00:00Z"), ts("2027-01-01T10:10:00Z"), 10).await.unwrap();
    store.finish_message(claimed[0].id, MessageOutcome::Sent, ts("2027-01-01T10:06:00Z")).await.unwrap();

    // Retention ends 2026-12-01 on 2027-01-01: the November lines and the expired session go.
    let report = store.purge(ts("2026-12-01T00:00:00Z"), ts("2027-01-01T00:00:00Z")).await.unwrap();
    assert_eq!((report.count("access_log"), report.count("sessions"), report.count("outbox")), (2, 1, 0), "{report}");
    assert_eq!(store.access_log(user, 10).await.unwrap().len(), 1, "the December line stays");
    assert!(store.session_user(&[2; 32], ts("2027-01-01T00:00:00Z")).await.unwrap().is_some(), "a live session stays");

    // Again: nothing left to do (every node may run it).
    let again = store.purge(ts("2026-12-01T00:00:00Z"), ts("2027-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(again.0.iter().map(|(_, count)| count).sum::<u64>(), 0, "{again}");

    // Later, the sent push is past retention; the pending reminder never is.
    let later = store.purge(ts("2027-02-01T00:00:00Z"), ts("2027-03-01T00:00:00Z")).await.unwrap();
    assert_eq!((later.count("outbox"), later.count("sessions"), later.count("access_log")), (1, 1, 1), "{later}");
    let reminders = store.claim_due_messages(ts("2027-03-01T08:00:00Z"), ts("2027-03-01T08:10:00Z"), 10).await.unwrap();
    assert_eq!(reminders.len(), 1, "the pending reminder is untouched");
}

/// `CLIENT_BOOK_MAX` (5,000 by default) is checked against this count; the
/// client list stops at 1,000, so counting the list could never reach it.
async fn clients_added_by_hand_are_counted_past_what_the_list_shows(backend: Backend) {
    let (_db, store) = open(backend).await;
    let cal = calendar(store).await;
    let provider = cal.providers[0];
    let before = cal.store.clients_added_by_hand(provider).await.unwrap();
    let me = BookingClient::User { user_id: cal.user, name: "Carol C".into() };
    cal.store.create_booking(&cal.new_booking(0, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", me)).await.unwrap();
    assert_eq!(cal.store.clients_added_by_hand(provider).await.unwrap(), before, "a client who booked is not typed in");
    let now = ts("2027-01-02T00:00:00Z");
    for n in 0..1001 {
        let fields = ClientFields { name: format!("Walk-in {n}"), contacts: None, notes: None };
        let client =
            NewClient { id: ClientId::generate(), provider_id: provider, user_id: None, fields, created_at: now };
        cal.store.insert_client(&client).await.unwrap();
    }
    assert_eq!(cal.store.clients_added_by_hand(provider).await.unwrap(), before + 1001);
    assert!(cal.store.clients(provider, None).await.unwrap().len() <= 1000, "the list is bounded");
    assert_eq!(cal.store.clients_added_by_hand(cal.providers[1]).await.unwrap(), 0, "per provider");
}

/// `SUPPORT_MESSAGES_PER_DAY` is checked against this count: the user's own
/// messages (not support's answers) after a moment, and nobody else's.
async fn support_messages_written_are_counted_by_time_and_direction(backend: Backend) {
    use justbookme::store::{NewSupportMessage, SupportDirection};
    let (_db, store) = open(backend).await;
    let carol = store.upsert_telegram_user(&telegram(2, "carol"), ts("2027-01-01T10:00:00Z")).await.unwrap().id;
    let dave = store.upsert_telegram_user(&telegram(3, "dave"), ts("2027-01-01T10:00:00Z")).await.unwrap().id;
    let conversation = store.open_support(carol, ts("2027-01-01T10:00:00Z")).await.unwrap();
    for (direction, at) in [
        (SupportDirection::In, "2027-01-01T10:01:00Z"),
        (SupportDirection::In, "2027-01-02T09:00:00Z"),
        (SupportDirection::Out, "2027-01-02T09:05:00Z"),
        (SupportDirection::In, "2027-01-02T09:10:00Z"),
    ] {
        let message = NewSupportMessage {
            conversation_id: conversation,
            user_id: carol,
            direction,
            text: "x".into(),
            at: ts(at),
        };
        store.add_support_message(&message).await.unwrap();
    }
    let since = ts("2027-01-01T12:00:00Z");
    assert_eq!(store.support_messages_written_since(carol, since).await.unwrap(), 2);
    assert_eq!(store.support_messages_written_since(carol, ts("2027-01-01T00:00:00Z")).await.unwrap(), 3);
    assert_eq!(store.support_messages_written_since(dave, since).await.unwrap(), 0);
}
