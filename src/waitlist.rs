//! Waitlist offers: when a time a client waits for frees up, they are told at
//! once — a bot message with a button into the booking screen, and an
//! `offer` frame to their open Mini App sessions.
//!
//! # What counts as "freed up"
//! Each entry keeps the free starts in its window as last seen
//! (`free_known`). After every change of this node's own (a booking
//! cancelled, declined, expired or moved away; the provider's hours,
//! services or rules), the entries on the dates it touched are looked at
//! again: a start free now that was not free before is offered (the
//! earliest, one message per look). What is free now becomes what is known,
//! so a start taken and freed again is offered again.
//!
//! # Once, across nodes
//! Only the node where the change happened looks ([`LocalBus::subscribe_origin`]),
//! and what it records is written only over what it read
//! ([`Waitlist::record_offer`]): two nodes looking at one entry at once
//! cannot both send. The bot message is written in the same transaction
//! (the outbox), so an offer recorded is an offer sent.
//!
//! # Who gets it
//! Everyone whose window the start falls in, at once: the first to book
//! gets it, decided by the calendar like any booking; the others see it go
//! in their live slots and stay on the list. A booking of the service on
//! that date ends the client's entry, in the booking's transaction; the entries of past
//! dates are purged with the retention rules.

use std::{collections::BTreeSet, sync::Arc};

use actors::calendar::{Calendars, GetSlots};
use actors::domain::{ProviderId, ProviderTimeZone, ServiceId, Slot, TimeOfDay};
use jiff::{Timestamp, civil::Date};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    bus::{LiveEvent, LocalBus},
    store::{OfferLetter, Store, WaitlistDetails},
    telegram::texts::{self, Lang},
};

/// Starts looking at this node's own events for offers to make. `buttons`:
/// whether offers carry a Web App button (an https `PUBLIC_URL`).
pub fn start(store: Arc<dyn Store>, calendars: Calendars, bus: Arc<LocalBus>, buttons: bool) {
    let mut events = bus.subscribe_origin();
    let looker = Looker { store, calendars, bus, buttons };
    actix_web::rt::spawn(async move {
        loop {
            let (provider_id, dates, all) = match events.recv().await {
                Ok(LiveEvent::Availability { provider_id, dates }) => (provider_id, dates, false),
                // Hours, services or rules: any date from today on may differ.
                Ok(LiveEvent::Settings { provider_id }) => (provider_id, vec![utc_yesterday()], true),
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "waitlist: fell behind this node's events; offers for them are missed");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            looker.look(provider_id, &dates, all).await;
        }
    });
}

/// A day before today in UTC: no provider's today is earlier.
pub fn utc_yesterday() -> Date {
    let today = jiff::tz::TimeZone::UTC.to_datetime(Timestamp::now()).date();
    today.yesterday().unwrap_or(today)
}

/// One service's slots on one date: what a look computes once.
type DayOfService = (ServiceId, Date);

/// Looks again at whoever waits for this node's changes.
struct Looker {
    store: Arc<dyn Store>,
    calendars: Calendars,
    bus: Arc<LocalBus>,
    buttons: bool,
}

/// How many times a look is made again after another node recorded an
/// entry first (it may have seen a different change of the same day).
const LOOKS: usize = 3;

impl Looker {
    async fn look(&self, provider_id: ProviderId, dates: &[Date], all: bool) {
        for _ in 0..LOOKS {
            match self.look_once(provider_id, dates, all).await {
                Ok(false) => return,
                Ok(true) => {}
                Err(error) => {
                    tracing::warn!(%error, provider = %provider_id, "waitlist: could not look for offers");
                    return;
                }
            }
        }
    }

    /// One look at the entries; `true` when another node recorded one of
    /// them first, so this node's view of it must be read again.
    async fn look_once(&self, provider_id: ProviderId, dates: &[Date], all: bool) -> anyhow::Result<bool> {
        let entries = self.store.waitlist_on(provider_id, dates, all).await?;
        let now = Timestamp::now();
        // One slot computation per service and date, shared by its entries.
        let mut computed: Vec<(DayOfService, Option<Vec<Slot>>)> = Vec::new();
        let mut lost = false;
        for details in entries {
            let entry = &details.entry;
            let key = (entry.service_id, entry.date);
            let slots = match computed.iter().find(|(k, _)| *k == key) {
                Some((_, slots)) => slots.clone(),
                None => {
                    let msg =
                        GetSlots { service_id: entry.service_id, from: entry.date, to: entry.date, now, moving: None };
                    // A retired service or a vanished provider offers nothing.
                    let slots = self.calendars.send(provider_id, msg).await.ok().map(|availability| availability.slots);
                    computed.push((key, slots.clone()));
                    slots
                }
            };
            let Some(slots) = slots else { continue };
            // One entry failing (its recipient unreadable, a write refused)
            // does not cost the others their offers.
            match self.consider(&details, &slots, now).await {
                Ok(recorded) => lost |= !recorded,
                Err(error) => tracing::warn!(%error, entry = %entry.id, "waitlist: could not consider an entry"),
            }
        }
        Ok(lost)
    }

    /// Records what is free in the entry's window now and offers what was
    /// not free before; `false` when another node recorded first.
    async fn consider(&self, details: &WaitlistDetails, slots: &[Slot], now: Timestamp) -> anyhow::Result<bool> {
        let entry = &details.entry;
        let free_now = free_in_window(slots, &details.timezone, entry.from, entry.to);
        let known: BTreeSet<Timestamp> = entry.free_known.iter().copied().collect();
        if free_now.iter().copied().collect::<BTreeSet<_>>() == known {
            return Ok(true);
        }
        let freed = free_now.iter().copied().find(|start| !known.contains(start));
        let offer = match freed {
            // A client the provider blocked is offered nothing (their entry stays theirs to leave).
            Some(_) if self.store.blocks(entry.provider_id, entry.user_id).await? => None,
            Some(start) => Some(word(&*self.store, details, start, self.buttons).await?),
            None => None,
        };
        let recorded = self.store.record_offer(entry.id, &entry.free_known, &free_now, offer.as_ref(), now).await?;
        if let (true, Some(offer)) = (recorded, offer) {
            metrics::counter!("waitlist_offers").increment(1);
            self.bus.publish(LiveEvent::Offer {
                user_id: entry.user_id,
                entry_id: entry.id,
                provider_id: entry.provider_id,
                service_id: entry.service_id,
                start: offer.start,
            });
        }
        Ok(recorded)
    }
}

/// The bookable starts among `slots` whose local time lies in `[from, to)`
/// (either end open when absent), earliest first.
pub fn free_in_window(
    slots: &[Slot],
    zone: &ProviderTimeZone,
    from: Option<TimeOfDay>,
    to: Option<TimeOfDay>,
) -> Vec<Timestamp> {
    slots
        .iter()
        .filter(|slot| slot.bookable())
        .filter(|slot| {
            let local = zone.datetime_of(slot.start);
            let minutes = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
            from.is_none_or(|from| minutes >= from.minutes()) && to.is_none_or(|to| minutes < to.minutes())
        })
        .map(|slot| slot.start)
        .collect()
}

/// The offer's message, in the recipient's language and with their own
/// wall time beside the provider's.
async fn word(
    store: &dyn Store,
    details: &WaitlistDetails,
    start: Timestamp,
    button: bool,
) -> anyhow::Result<OfferLetter> {
    let recipient = store.bot_recipient(details.entry.user_id).await?;
    let lang = Lang::of(recipient.as_ref().and_then(|r| r.language_code.as_deref()));
    let reader = recipient.as_ref().and_then(|r| r.zone());
    let when = texts::at(start, &details.timezone, reader.as_ref(), lang);
    Ok(OfferLetter {
        recipient: details.entry.user_id,
        text: texts::offer(lang, &details.service_name, &details.provider_name, &when, button),
        provider_slug: details.provider_slug.clone(),
        service_id: details.entry.service_id,
        start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_takes_starts_from_its_start_up_to_but_not_at_its_end() {
        let zone = ProviderTimeZone::parse("Europe/Berlin").unwrap();
        let slot = |time: &str| {
            let start: Timestamp = format!("2027-06-01T{time}:00+02:00").parse().unwrap();
            Slot { start, end: start, seats_left: None }
        };
        let mut full = slot("11:00");
        full.seats_left = Some(0);
        let slots = [slot("09:00"), slot("10:00"), full, slot("12:00")];
        let window = |from: &str, to: &str| {
            let starts = free_in_window(&slots, &zone, TimeOfDay::parse(from).ok(), TimeOfDay::parse(to).ok());
            starts.iter().map(|s| zone.local_text(*s, "%H:%M")).collect::<Vec<_>>()
        };
        assert_eq!(window("10:00", "12:00"), ["10:00"], "a full class start is not free");
        assert_eq!(window("", ""), ["09:00", "10:00", "12:00"]);
        assert_eq!(window("09:30", ""), ["10:00", "12:00"]);
    }
}
