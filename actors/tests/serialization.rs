//! The calendar actor alone — with a repository double that enforces nothing —
//! must still never hand out one slot twice: its mailbox, held across the
//! repository's `.await`, is the only serializer here. It also publishes only
//! what was committed.

mod common;

use std::sync::atomic::Ordering;

use actors::calendar::{CalendarError, CalendarEvent};
use common::{book, setup};

#[actix::test]
async fn one_slot_is_given_once_even_without_a_database_constraint() {
    let (repo, events, calendars) = setup(false, false);
    let racers = (0..100).map(|_| calendars.send(repo.provider_id, book(&repo, "10:00")));
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
async fn a_class_gives_each_seat_once_even_without_a_database_constraint() {
    let (repo, _, calendars) = setup(false, false);
    repo.capacity.store(5, Ordering::SeqCst);
    let racers = (0..100).map(|_| calendars.send(repo.provider_id, book(&repo, "10:00")));
    let results = futures_util::future::join_all(racers).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let full = results.iter().filter(|r| matches!(r, Err(CalendarError::ClassFull))).count();
    assert_eq!((won, full), (5, 95));
    let mut seats: Vec<u16> = repo.bookings.lock().unwrap().iter().filter_map(|b| b.seat).collect();
    seats.sort_unstable();
    assert_eq!(seats, [1, 2, 3, 4, 5], "each seat once, none beyond the capacity");
    // Made one-to-one again (and reloaded): the seats still hold the provider at 10:00.
    repo.capacity.store(1, Ordering::SeqCst);
    repo.version.fetch_add(1, Ordering::SeqCst);
    calendars.refresh(repo.provider_id);
    assert!(matches!(calendars.send(repo.provider_id, book(&repo, "10:00")).await, Err(CalendarError::SlotTaken)));
}

#[actix::test]
async fn different_slots_are_all_given_one_at_a_time() {
    let (repo, _, calendars) = setup(false, false);
    let starts = ["09:00", "10:00", "11:00", "12:00"];
    let racers = (0..40).map(|i| calendars.send(repo.provider_id, book(&repo, starts[i % 4])));
    let results = futures_util::future::join_all(racers).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 4);
    assert_eq!(repo.most_at_once.load(Ordering::SeqCst), 1);
}

#[actix::test]
async fn nothing_is_published_for_a_write_that_failed() {
    let (repo, events, calendars) = setup(false, true);
    let result = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(result, Err(CalendarError::Unavailable(_))), "{result:?}");
    assert!(events.0.lock().unwrap().is_empty());
    // And the failed attempt holds no slot.
    let retry = calendars.send(repo.provider_id, book(&repo, "10:00")).await;
    assert!(matches!(retry, Err(CalendarError::Unavailable(_))));
}
