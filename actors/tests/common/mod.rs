//! The repository double and setup the calendar actor's tests share.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicUsize, Ordering},
    },
    time::Duration,
};

use actors::{
    calendar::{
        Book, Booker, BookingClient, BookingUpdate, CalendarData, CalendarEvent, CalendarRepository, Calendars,
        CreatedBooking, EventSink, NewBooking, RegistrySettings, RepositoryError, ServiceInfo,
    },
    domain::{
        Booking, BookingId, BookingRules, ClientId, DateOverride, LocalInterval, ProviderId, ProviderTimeZone,
        Schedule, ServiceId, ServiceTiming, TimeOfDay, UserId, WeeklyInterval,
    },
};
use async_trait::async_trait;
use jiff::{Timestamp, civil::date};
use uuid::Uuid;

pub const NOW: &str = "2027-01-01T00:00:00Z";

/// A provider whose one day, 2027-06-01, is open 09–13 or closed; every
/// change bumps the version, as the database's triggers do. Stores whatever
/// it is given (no overlap check), slowly, and counts how many writes ever
/// ran at the same time.
pub struct FakeRepository {
    pub provider_id: ProviderId,
    pub service_id: ServiceId,
    pub bookings: Mutex<Vec<Booking>>,
    pub version: AtomicI64,
    pub day_closed: AtomicBool,
    /// Bump the version at every write, as a provider rewriting the
    /// settings in a tight loop would.
    pub churn: AtomicBool,
    pub writes_refused: AtomicUsize,
    /// The service's capacity (above 1: a class).
    pub capacity: AtomicU16,
    pub fail_writes: bool,
    writing: AtomicUsize,
    pub most_at_once: AtomicUsize,
}

#[async_trait]
impl CalendarRepository for FakeRepository {
    async fn load_calendar(
        &self,
        provider_id: ProviderId,
        _: Timestamp,
    ) -> Result<Option<CalendarData>, RepositoryError> {
        let open = LocalInterval { start: TimeOfDay::parse("09:00").unwrap(), end: TimeOfDay::parse("13:00").unwrap() };
        let weekly: Vec<_> = (1..=7).map(|weekday| WeeklyInterval { weekday, interval: open }).collect();
        let overrides = if self.day_closed.load(Ordering::SeqCst) {
            vec![DateOverride { date: date(2027, 6, 1), intervals: vec![] }]
        } else {
            vec![]
        };
        let timing = ServiceTiming { duration_min: 60, buffer_before_min: 0, buffer_after_min: 0 };
        Ok(Some(CalendarData {
            provider_id,
            settings_version: self.version.load(Ordering::SeqCst),
            owner_user_id: UserId(Uuid::nil()),
            time_zone: ProviderTimeZone::parse("Europe/Berlin").unwrap(),
            rules: BookingRules { slot_step_min: 60, min_notice_min: 0, horizon_days: 366, ..Default::default() },
            schedule: Schedule::new(&weekly, &overrides).unwrap(),
            services: [(
                self.service_id,
                ServiceInfo { timing, active: true, capacity: self.capacity.load(Ordering::SeqCst) },
            )]
            .into(),
            bookings: self.bookings.lock().unwrap().clone(),
        }))
    }

    async fn settings_version(&self, _: ProviderId) -> Result<Option<i64>, RepositoryError> {
        Ok(Some(self.version.load(Ordering::SeqCst)))
    }

    async fn booking(&self, _: ProviderId, id: BookingId) -> Result<Option<Booking>, RepositoryError> {
        Ok(self.bookings.lock().unwrap().iter().find(|b| b.id == id).cloned())
    }

    async fn booking_by_idempotency_key(&self, _: UserId, _: &str) -> Result<Option<Booking>, RepositoryError> {
        Ok(None)
    }

    async fn create_booking(&self, new: &NewBooking) -> Result<CreatedBooking, RepositoryError> {
        let now_writing = self.writing.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now_writing, Ordering::SeqCst);
        actix::clock::sleep(Duration::from_millis(5)).await;
        self.writing.fetch_sub(1, Ordering::SeqCst);
        if self.fail_writes {
            return Err(RepositoryError::Unavailable("disk on fire".into()));
        }
        if self.churn.load(Ordering::SeqCst) {
            self.version.fetch_add(1, Ordering::SeqCst);
        }
        if new.settings_version != self.version.load(Ordering::SeqCst) {
            self.writes_refused.fetch_add(1, Ordering::SeqCst);
            return Err(RepositoryError::StaleSettings);
        }
        let booking = new.to_booking(ClientId::generate(), None);
        self.bookings.lock().unwrap().push(booking.clone());
        Ok(CreatedBooking { booking, labels: None })
    }

    async fn update_booking(&self, _: &BookingUpdate) -> Result<Booking, RepositoryError> {
        Err(RepositoryError::Unavailable("not used here".into()))
    }
}

#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<CalendarEvent>>);

impl EventSink for Recorder {
    fn publish(&self, event: CalendarEvent) {
        self.0.lock().unwrap().push(event);
    }
}

pub fn setup(day_closed: bool, fail_writes: bool) -> (Arc<FakeRepository>, Arc<Recorder>, Calendars) {
    let repo = Arc::new(FakeRepository {
        provider_id: ProviderId::generate(),
        service_id: ServiceId::generate(),
        bookings: Mutex::new(Vec::new()),
        version: AtomicI64::new(1),
        day_closed: AtomicBool::new(day_closed),
        churn: AtomicBool::new(false),
        writes_refused: AtomicUsize::new(0),
        capacity: AtomicU16::new(1),
        fail_writes,
        writing: AtomicUsize::new(0),
        most_at_once: AtomicUsize::new(0),
    });
    let events = Arc::new(Recorder::default());
    let calendars = Calendars::start(repo.clone(), events.clone(), RegistrySettings::default());
    (repo, events, calendars)
}

/// A booking of the service at `time` (Berlin) on 2027-06-01.
pub fn book(repo: &FakeRepository, time: &str) -> Book {
    Book {
        service_id: repo.service_id,
        start: format!("2027-06-01T{time}:00+02:00").parse().unwrap(),
        client: BookingClient::Existing { id: ClientId(Uuid::nil()), user_id: None },
        note: None,
        requested_by: UserId::generate(),
        booker: Booker::Client,
        idempotency_key: None,
        now: NOW.parse().unwrap(),
    }
}
