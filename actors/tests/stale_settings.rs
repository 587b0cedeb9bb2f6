//! A calendar never books against settings older than the repository's: a
//! write carrying a stale settings version is refused by the repository, and
//! the calendar reloads and decides again; before refusing on the strength
//! of its settings, it checks they are current. Nobody tells the calendar to
//! reload here — as on a node whose bus is cut.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering},
};

use actors::{
    calendar::{
        Book, BookingClient, BookingUpdate, CalendarData, CalendarError, CalendarEvent, CalendarRepository, Calendars,
        EventSink, GetSlots, NewBooking, RegistrySettings, RepositoryError, ServiceInfo,
    },
    domain::{
        Booking, BookingId, BookingRules, ClientId, DateOverride, LocalInterval, ProviderId, ProviderTimeZone,
        Schedule, ServiceId, ServiceTiming, TimeOfDay, UserId, WeeklyInterval,
    },
};
use async_trait::async_trait;
use jiff::{Timestamp, civil::date};
use uuid::Uuid;

/// A provider whose one day, 2027-06-01, is open 09–13 or closed; every
/// change bumps the version, as the database's triggers do.
struct Settings {
    provider_id: ProviderId,
    service_id: ServiceId,
    version: AtomicI64,
    day_closed: AtomicBool,
    /// Bump the version at every write, as a provider rewriting the
    /// settings in a tight loop would.
    churn: AtomicBool,
    writes_refused: AtomicUsize,
    bookings: Mutex<Vec<Booking>>,
}

impl Settings {
    fn change(&self, closed: bool) {
        self.day_closed.store(closed, Ordering::SeqCst);
        self.version.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl CalendarRepository for Settings {
    async fn load_calendar(
        &self,
        provider_id: ProviderId,
        _: Timestamp,
    ) -> Result<Option<CalendarData>, RepositoryError> {
        let hours =
            |a: &str, b: &str| LocalInterval { start: TimeOfDay::parse(a).unwrap(), end: TimeOfDay::parse(b).unwrap() };
        let weekly: Vec<WeeklyInterval> =
            (1..=7).map(|weekday| WeeklyInterval { weekday, interval: hours("09:00", "13:00") }).collect();
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
            services: [(self.service_id, ServiceInfo { timing, active: true })].into(),
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

    async fn create_booking(&self, new: &NewBooking) -> Result<Booking, RepositoryError> {
        if self.churn.load(Ordering::SeqCst) {
            self.version.fetch_add(1, Ordering::SeqCst);
        }
        if new.settings_version != self.version.load(Ordering::SeqCst) {
            self.writes_refused.fetch_add(1, Ordering::SeqCst);
            return Err(RepositoryError::StaleSettings);
        }
        let booking = new.to_booking(ClientId::generate(), None);
        self.bookings.lock().unwrap().push(booking.clone());
        Ok(booking)
    }

    async fn update_booking(&self, _: &BookingUpdate) -> Result<Booking, RepositoryError> {
        Err(RepositoryError::Unavailable("not used here".into()))
    }
}

struct Nowhere;

impl EventSink for Nowhere {
    fn publish(&self, _: CalendarEvent) {}
}

fn setup(day_closed: bool) -> (Arc<Settings>, Calendars) {
    let repo = Arc::new(Settings {
        provider_id: ProviderId::generate(),
        service_id: ServiceId::generate(),
        version: AtomicI64::new(1),
        day_closed: AtomicBool::new(day_closed),
        churn: AtomicBool::new(false),
        writes_refused: AtomicUsize::new(0),
        bookings: Mutex::new(Vec::new()),
    });
    let calendars = Calendars::start(repo.clone(), Arc::new(Nowhere), RegistrySettings::default());
    (repo, calendars)
}

const NOW: &str = "2027-01-01T00:00:00Z";

fn book(repo: &Settings, time: &str) -> Book {
    Book {
        service_id: repo.service_id,
        start: format!("2027-06-01T{time}:00+02:00").parse().unwrap(),
        client: BookingClient::Existing(ClientId(Uuid::nil())),
        note: None,
        requested_by: UserId::generate(),
        idempotency_key: None,
        now: NOW.parse().unwrap(),
    }
}

/// Loads the calendar (its first message) and returns how many slots it offers.
async fn offered(repo: &Settings, calendars: &Calendars) -> usize {
    let day = date(2027, 6, 1);
    let message = GetSlots { service_id: repo.service_id, from: day, to: day, now: NOW.parse().unwrap(), moving: None };
    calendars.send(repo.provider_id, message).await.unwrap().slots.len()
}

#[actix::test]
async fn a_day_closed_elsewhere_is_not_booked_from_stale_memory() {
    let (repo, calendars) = setup(false);
    assert_eq!(offered(&repo, &calendars).await, 4);
    repo.change(true);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::NotBookable(_))), "decided again on the closed day: {result:?}");
    assert_eq!(repo.writes_refused.load(Ordering::SeqCst), 1, "the stale write was refused once");
    assert!(repo.bookings.lock().unwrap().is_empty());
    assert_eq!(offered(&repo, &calendars).await, 0, "and the calendar now knows");
}

#[actix::test]
async fn a_day_opened_elsewhere_is_bookable_at_once() {
    let (repo, calendars) = setup(true);
    assert_eq!(offered(&repo, &calendars).await, 0);
    repo.change(false);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(result.is_ok(), "a refusal is checked against the current version first: {result:?}");
    assert_eq!(repo.writes_refused.load(Ordering::SeqCst), 0);
}

#[actix::test]
async fn a_refusal_on_current_settings_stands_without_a_reload_loop() {
    let (repo, calendars) = setup(true);
    assert_eq!(offered(&repo, &calendars).await, 0);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::NotBookable(_))), "{result:?}");
}

#[actix::test]
async fn settings_that_never_stop_changing_end_in_a_retryable_refusal() {
    let (repo, calendars) = setup(false);
    assert_eq!(offered(&repo, &calendars).await, 4);
    repo.churn.store(true, Ordering::SeqCst);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::Unavailable(_))), "503, safe to retry: {result:?}");
    assert!(repo.bookings.lock().unwrap().is_empty());
    let attempts = repo.writes_refused.load(Ordering::SeqCst);
    assert!((2..=4).contains(&attempts), "a bounded number of attempts: {attempts}");
}
