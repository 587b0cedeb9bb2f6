//! The calendar actor alone — with a repository double that enforces nothing —
//! must still never hand out one slot twice: its mailbox, held across the
//! repository's `.await`, is the only serializer here. It also publishes only
//! what was committed.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actors::{
    calendar::{
        Book, BookingClient, BookingUpdate, CalendarData, CalendarError, CalendarEvent, CalendarRepository, Calendars,
        EventSink, NewBooking, RegistrySettings, RepositoryError, ServiceInfo,
    },
    domain::{
        Booking, BookingId, BookingRules, ClientId, LocalInterval, ProviderId, ProviderTimeZone, Schedule, ServiceId,
        ServiceTiming, TimeOfDay, UserId, WeeklyInterval,
    },
};
use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

/// Stores whatever it is given (no overlap check), slowly, and counts how
/// many writes ever ran at the same time.
struct SlowRepository {
    provider_id: ProviderId,
    service_id: ServiceId,
    bookings: Mutex<Vec<Booking>>,
    writing: AtomicUsize,
    most_at_once: AtomicUsize,
    fail_writes: bool,
}

#[async_trait]
impl CalendarRepository for SlowRepository {
    async fn load_calendar(
        &self,
        provider_id: ProviderId,
        _: Timestamp,
    ) -> Result<Option<CalendarData>, RepositoryError> {
        let weekly: Vec<WeeklyInterval> = (1..=7)
            .map(|weekday| WeeklyInterval {
                weekday,
                interval: LocalInterval {
                    start: TimeOfDay::parse("09:00").unwrap(),
                    end: TimeOfDay::parse("13:00").unwrap(),
                },
            })
            .collect();
        let timing = ServiceTiming { duration_min: 60, buffer_before_min: 0, buffer_after_min: 0 };
        Ok(Some(CalendarData {
            provider_id,
            settings_version: 1,
            owner_user_id: UserId(Uuid::nil()),
            time_zone: ProviderTimeZone::parse("Europe/Berlin").unwrap(),
            rules: BookingRules { slot_step_min: 60, min_notice_min: 0, horizon_days: 366, ..Default::default() },
            schedule: Schedule::new(&weekly, &[]).unwrap(),
            services: HashMap::from([(self.service_id, ServiceInfo { timing, active: true })]),
            bookings: self.bookings.lock().unwrap().clone(),
        }))
    }

    async fn settings_version(&self, _: ProviderId) -> Result<Option<i64>, RepositoryError> {
        Ok(Some(1))
    }

    async fn booking(&self, _: ProviderId, id: BookingId) -> Result<Option<Booking>, RepositoryError> {
        Ok(self.bookings.lock().unwrap().iter().find(|b| b.id == id).cloned())
    }

    async fn booking_by_idempotency_key(&self, _: UserId, _: &str) -> Result<Option<Booking>, RepositoryError> {
        Ok(None)
    }

    async fn create_booking(&self, new: &NewBooking) -> Result<Booking, RepositoryError> {
        let now_writing = self.writing.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now_writing, Ordering::SeqCst);
        actix::clock::sleep(Duration::from_millis(5)).await;
        self.writing.fetch_sub(1, Ordering::SeqCst);
        if self.fail_writes {
            return Err(RepositoryError::Unavailable("disk on fire".into()));
        }
        let booking = Booking {
            id: new.id,
            provider_id: self.provider_id,
            service_id: new.service_id,
            client_id: ClientId::generate(),
            client_user_id: None,
            start: new.start,
            end: new.end,
            occupied: new.occupied,
            status: new.status,
            note: None,
            created_by: new.created_by,
            idempotency_key: None,
            created_at: new.now,
            updated_at: new.now,
        };
        self.bookings.lock().unwrap().push(booking.clone());
        Ok(booking)
    }

    async fn update_booking(&self, _: &BookingUpdate) -> Result<Booking, RepositoryError> {
        Err(RepositoryError::Unavailable("not used here".into()))
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<CalendarEvent>>);

impl EventSink for Recorder {
    fn publish(&self, event: CalendarEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn setup(fail_writes: bool) -> (Arc<SlowRepository>, Arc<Recorder>, Calendars) {
    let repo = Arc::new(SlowRepository {
        provider_id: ProviderId::generate(),
        service_id: ServiceId::generate(),
        bookings: Mutex::new(Vec::new()),
        writing: AtomicUsize::new(0),
        most_at_once: AtomicUsize::new(0),
        fail_writes,
    });
    let events = Arc::new(Recorder::default());
    let calendars = Calendars::start(repo.clone(), events.clone(), RegistrySettings::default());
    (repo, events, calendars)
}

fn book(repo: &SlowRepository, start: &str) -> Book {
    Book {
        service_id: repo.service_id,
        start: start.parse().unwrap(),
        client: BookingClient::Existing(ClientId(Uuid::nil())),
        note: None,
        requested_by: UserId::generate(),
        idempotency_key: None,
        now: "2027-01-01T00:00:00Z".parse().unwrap(),
    }
}

#[actix::test]
async fn one_slot_is_given_once_even_without_a_database_constraint() {
    let (repo, events, calendars) = setup(false);
    let racers = (0..100).map(|_| calendars.send(repo.provider_id, book(&repo, "2027-06-01T10:00:00+02:00")));
    let results = futures_util::future::join_all(racers).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results.iter().filter(|r| matches!(r, Err(CalendarError::SlotTaken))).count();
    assert_eq!((won, lost), (1, 99));
    assert_eq!(repo.bookings.lock().unwrap().len(), 1);
    assert_eq!(repo.most_at_once.load(Ordering::SeqCst), 1, "writes never interleave");
    let published = events.0.lock().unwrap();
    assert!(matches!(published[0], CalendarEvent::Booking { .. }));
    assert!(matches!(published[1], CalendarEvent::AvailabilityChanged { .. }));
    assert_eq!(published.len(), 2, "one change, one pair of events");
}

#[actix::test]
async fn different_slots_are_all_given_one_at_a_time() {
    let (repo, _, calendars) = setup(false);
    let starts = ["09:00", "10:00", "11:00", "12:00"].map(|t| format!("2027-06-01T{t}:00+02:00"));
    let racers = (0..40).map(|i| calendars.send(repo.provider_id, book(&repo, &starts[i % 4])));
    let results = futures_util::future::join_all(racers).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 4);
    assert_eq!(repo.most_at_once.load(Ordering::SeqCst), 1);
}

#[actix::test]
async fn nothing_is_published_for_a_write_that_failed() {
    let (repo, events, calendars) = setup(true);
    let result = calendars.send(repo.provider_id, book(&repo, "2027-06-01T10:00:00+02:00")).await;
    assert!(matches!(result, Err(CalendarError::Unavailable(_))), "{result:?}");
    assert!(events.0.lock().unwrap().is_empty());
    // And the failed attempt holds no slot.
    let retry = calendars.send(repo.provider_id, book(&repo, "2027-06-01T10:00:00+02:00")).await;
    assert!(matches!(retry, Err(CalendarError::Unavailable(_))));
}
