//! A calendar never books against settings older than the repository's: a
//! write carrying a stale settings version is refused by the repository, and
//! the calendar reloads and decides again; before refusing on the strength
//! of its settings, it checks they are current. Nobody tells the calendar to
//! reload here — as on a node whose bus is cut.

mod common;

use std::sync::atomic::Ordering;

use actors::calendar::{CalendarError, Calendars, GetSlots};
use common::{FakeRepository, NOW, book, setup};
use jiff::civil::date;

impl FakeRepository {
    /// Opens or closes 2027-06-01 elsewhere, bumping the version.
    fn change(&self, closed: bool) {
        self.day_closed.store(closed, Ordering::SeqCst);
        self.version.fetch_add(1, Ordering::SeqCst);
    }
}

/// Loads the calendar (its first message) and returns how many slots it offers.
async fn offered(repo: &FakeRepository, calendars: &Calendars) -> usize {
    let day = date(2027, 6, 1);
    let message = GetSlots { service_id: repo.service_id, from: day, to: day, now: NOW.parse().unwrap(), moving: None };
    calendars.send(repo.provider_id, message).await.unwrap().slots.len()
}

#[actix::test]
async fn a_day_closed_elsewhere_is_not_booked_from_stale_memory() {
    let (repo, _, calendars) = setup(false, false);
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
    let (repo, _, calendars) = setup(true, false);
    assert_eq!(offered(&repo, &calendars).await, 0);
    repo.change(false);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(result.is_ok(), "a refusal is checked against the current version first: {result:?}");
    assert_eq!(repo.writes_refused.load(Ordering::SeqCst), 0);
}

#[actix::test]
async fn a_refusal_on_current_settings_stands_without_a_reload_loop() {
    let (repo, _, calendars) = setup(true, false);
    assert_eq!(offered(&repo, &calendars).await, 0);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::NotBookable(_))), "{result:?}");
}

#[actix::test]
async fn settings_that_never_stop_changing_end_in_a_retryable_refusal() {
    let (repo, _, calendars) = setup(false, false);
    assert_eq!(offered(&repo, &calendars).await, 4);
    repo.churn.store(true, Ordering::SeqCst);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::Unavailable(_))), "503, safe to retry: {result:?}");
    assert!(repo.bookings.lock().unwrap().is_empty());
    let attempts = repo.writes_refused.load(Ordering::SeqCst);
    assert!((2..=4).contains(&attempts), "a bounded number of attempts: {attempts}");
}
