//! The working day's clock, run by every node: requests nobody answered in
//! time are declined (rule `confirm_within_min`), and providers who asked
//! for it get a morning digest of their day (rule `morning_digest`).
//!
//! Every node runs it, so each step must happen once however many nodes
//! find it due. An expiry is a change through the provider's calendar like
//! any other, written only over the revision it was decided on: the node
//! that comes second finds the request already declined and does nothing.
//! A digest is claimed by a row (provider, local date) written in the same
//! transaction as its message.

use std::{collections::HashSet, sync::Arc, time::Duration};

use actors::calendar::{CalendarError, Calendars, ChangeBooking};
use actors::domain::{Action, Actor, BookingStatus, ProviderId, TransitionError};
use jiff::{
    SignedDuration, Timestamp,
    civil::{Date, Time},
};

use crate::store::{Letter, Provider, Store, StoreResult};
use crate::telegram::texts::{self, Lang};

/// Expired requests handled per sweep; the rest wait for the next one.
const SWEEP_BATCH: i64 = 200;
/// Digests are looked for this often (they go out once a day each).
const DIGEST_EVERY: Duration = Duration::from_secs(60);
/// The digest goes out from this local time on (the first look after it).
const DIGEST_AT: Time = Time::constant(7, 0, 0, 0);

/// Starts the clock: a sweep every `every`, digests once a minute.
pub fn start(store: Arc<dyn Store>, calendars: Calendars, every: Duration) {
    let sweeping = (store.clone(), calendars);
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = expire_requests(&*sweeping.0, &sweeping.1, Timestamp::now()).await {
                tracing::warn!(%error, "deadlines: cannot look for expired requests");
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(DIGEST_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut done = DigestsDone::default();
        loop {
            tick.tick().await;
            if let Err(error) = send_digests(&*store, Timestamp::now(), &mut done).await {
                tracing::warn!(%error, "deadlines: cannot send morning digests");
            }
        }
    });
}

/// Declines every request past its deadline as of `now`, through its
/// calendar; returns how many this node declined.
pub async fn expire_requests(store: &dyn Store, calendars: &Calendars, now: Timestamp) -> StoreResult<usize> {
    let mut declined = 0;
    for (provider_id, booking_id) in store.requests_past_deadline(now, SWEEP_BATCH).await? {
        let change = ChangeBooking {
            booking_id,
            actor: Actor::System,
            action: Action::Expire,
            new_start: None,
            by_user: None,
            now,
        };
        match calendars.send(provider_id, change).await {
            Ok(booking) if booking.status == BookingStatus::Cancelled => declined += 1,
            Ok(_) => {}
            // Answered, proposed about or declined meanwhile, here or on
            // another node: nothing left to do.
            Err(CalendarError::Transition(
                TransitionError::WrongStatus(..) | TransitionError::NotDue | TransitionError::NotYours,
            ))
            | Err(CalendarError::NotFound(_)) => {}
            Err(error) => tracing::warn!(%error, booking = %booking_id, "deadlines: expiry failed; retried next sweep"),
        }
    }
    if declined > 0 {
        tracing::info!(declined, "deadlines: requests not answered in time were declined");
    }
    Ok(declined)
}

/// The (provider, local date) digests this node knows are written, by it or
/// another: not worded again every minute until midnight. Only the last
/// days matter, so the set is pruned to dates from two days ago on.
#[derive(Default)]
pub struct DigestsDone(HashSet<(ProviderId, Date)>);

/// Writes the morning digest of every provider who wants one and whose
/// local time is past [`DIGEST_AT`] without one today; returns how many
/// this node wrote.
pub async fn send_digests(store: &dyn Store, now: Timestamp, done: &mut DigestsDone) -> StoreResult<usize> {
    let mut written = 0;
    let two_days_ago = now.checked_sub(SignedDuration::from_hours(48)).unwrap_or(now);
    let oldest = jiff::tz::TimeZone::UTC.to_datetime(two_days_ago).date();
    done.0.retain(|(_, date)| *date >= oldest);
    for provider in store.providers_with_digest().await? {
        let tz = &provider.profile.timezone;
        let local = tz.datetime_of(now);
        if local.time() < DIGEST_AT || done.0.contains(&(provider.id, local.date())) {
            continue;
        }
        let Some(letter) = digest(store, &provider, now).await? else { continue };
        if store.send_digest(provider.id, local.date(), &letter, now).await? {
            written += 1;
        }
        done.0.insert((provider.id, local.date()));
    }
    Ok(written)
}

/// The digest of `provider`'s local day around `now`: every active visit,
/// in time order, with who said "I'm coming". `None` when the provider's
/// account is gone.
async fn digest(store: &dyn Store, provider: &Provider, now: Timestamp) -> StoreResult<Option<Letter>> {
    let Some(owner) = store.user(provider.user_id).await? else { return Ok(None) };
    let tz = &provider.profile.timezone;
    let date = tz.date_of(now);
    let day_start = tz.resolve(date.to_datetime(Time::midnight())).unwrap_or(now);
    let next_day = date.tomorrow().ok().and_then(|next| tz.resolve(next.to_datetime(Time::midnight())));
    let day_end = next_day.unwrap_or(day_start + SignedDuration::from_hours(24));
    let mut visits = store.provider_bookings(provider.id, day_start, day_end).await?;
    visits.retain(|visit| visit.booking.status.is_active());
    let lang = Lang::of(owner.profile.language_code.as_deref());
    Ok(Some(Letter { recipient: owner.id, text: texts::morning_digest(lang, tz, date, &visits) }))
}
