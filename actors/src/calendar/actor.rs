//! `CalendarActor`: one per provider; the single writer of that provider's
//! bookings on this node.
//!
//! # Why bookings never interleave
//! Every state-changing handler returns an [`AtomicResponse`]. actix runs
//! such a response with `ctx.wait`, which suspends the mailbox until the whole
//! future — check against memory, database write, memory update — has
//! finished. So two `Book` messages for the same slot are handled strictly one
//! after the other, including across the database `.await`: the second one
//! sees the first booking in memory and gets `SlotTaken`. No mutex and no
//! `SELECT … FOR UPDATE` is involved. Across nodes, the database's no-overlap
//! constraint is the safety net; when it fires, the actor reloads its view and
//! answers `SlotTaken`.
//!
//! # Faults
//! A panic inside a handler is caught (`catch_unwind`), the request gets
//! `Unavailable` (503, safe to retry) and the actor stops; its `Supervisor`
//! restarts it and `started` reloads the state from the database, because
//! state touched by a panicking handler cannot be trusted.

use std::{
    collections::BTreeSet,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Duration,
};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, ResponseActFuture, Supervised,
    fut,
};
use futures_util::FutureExt;
use jiff::{SignedDuration, Timestamp, civil::Date};
use tracing::Instrument;
use uuid::Uuid;

#[cfg(feature = "test-faults")]
use super::messages::{Fault, InjectFault};
use super::{
    BookingEventKind, CalendarData, CalendarError, CalendarEvent, CalendarRepository, EventSink, RepositoryError,
    messages::{ApplyBooking, Availability, Book, Booked, Booker, ChangeBooking, GetSlots, Reload, Shutdown, Traced},
    notices,
    ports::{BookingUpdate, CreatedBooking, NewBooking, ServiceInfo},
};
use crate::domain::{
    Action, Actor as Requester, Booking, BookingId, BookingRules, BookingStatus, Busy, ClientId, Occurrence,
    ProviderId, ServiceId, ServiceTiming, SlotCalendar, TransitionError, class_slots, confirm_deadline, free_slots,
    is_free, is_offered, lowest_free_seat, occurrences, rescheduled_status, transition,
};

type Reply<T> = ResponseActFuture<CalendarActor, Result<T, CalendarError>>;

/// What runs next on the actor, once its state is loaded or checked.
trait Then<T>: FnOnce(&mut CalendarActor, &mut Context<CalendarActor>) -> Reply<T> + 'static {}
impl<T, F: FnOnce(&mut CalendarActor, &mut Context<CalendarActor>) -> Reply<T> + 'static> Then<T> for F {}

fn fail<T: 'static>(error: CalendarError) -> Reply<T> {
    Box::pin(fut::err(error))
}

enum State {
    /// Not loaded yet, or the last load failed (the next message retries).
    NotLoaded,
    /// The provider does not exist.
    Missing,
    Loaded(Box<CalendarData>),
}

pub struct CalendarActor {
    provider_id: ProviderId,
    repo: Arc<dyn CalendarRepository>,
    events: Arc<dyn EventSink>,
    mailbox_capacity: usize,
    state: State,
    /// The span of the message being handled (one at a time: the handlers
    /// are atomic), so that repository calls are followed from the request.
    span: tracing::Span,
    /// Test builds only (feature `test-faults`): a fault for the next booking.
    #[cfg(feature = "test-faults")]
    fault: Option<Fault>,
}

impl CalendarActor {
    pub(crate) fn new(
        provider_id: ProviderId,
        repo: Arc<dyn CalendarRepository>,
        events: Arc<dyn EventSink>,
        mailbox_capacity: usize,
    ) -> Self {
        Self {
            provider_id,
            repo,
            events,
            mailbox_capacity,
            state: State::NotLoaded,
            span: tracing::Span::none(),
            #[cfg(feature = "test-faults")]
            fault: None,
        }
    }

    fn data(&self) -> Result<&CalendarData, CalendarError> {
        match &self.state {
            State::Loaded(data) => Ok(data),
            State::Missing => Err(CalendarError::NotFound("provider")),
            State::NotLoaded => Err(CalendarError::Unavailable("the calendar could not load its data; retry".into())),
        }
    }

    /// Loads (or reloads) everything from the repository.
    fn load(&self) -> impl actix::ActorFuture<Self, Output = ()> + 'static + use<> {
        let (repo, provider_id) = (self.repo.clone(), self.provider_id);
        let since = Timestamp::now() - SignedDuration::from_hours(24);
        let loading = bounded(async move { repo.load_calendar(provider_id, since).await });
        fut::wrap_future::<_, Self>(loading.instrument(self.span.clone())).map(|result, act, _| {
            act.state = match result {
                Ok(Some(data)) => State::Loaded(Box::new(data)),
                Ok(None) => State::Missing,
                Err(error) => {
                    tracing::warn!(provider = %act.provider_id, %error, "calendar load failed");
                    State::NotLoaded
                }
            }
        })
    }

    /// Runs `then` with the state loaded, loading it first if needed.
    fn with_state<T: 'static>(&mut self, ctx: &mut Context<Self>, then: impl Then<T>) -> Reply<T> {
        if let State::NotLoaded = self.state { self.load_then(then) } else { self.proceed(ctx, then) }
    }

    /// Loads (or reloads) the calendar, then runs `then` on the fresh state.
    fn load_then<T: 'static>(&self, then: impl Then<T>) -> Reply<T> {
        Box::pin(self.load().then(move |(), act, ctx| act.proceed(ctx, then)))
    }

    /// Runs `then` if the provider's data is there; else answers why not.
    fn proceed<T: 'static>(&mut self, ctx: &mut Context<Self>, then: impl Then<T>) -> Reply<T> {
        match self.data() {
            Ok(_) => then(self, ctx),
            Err(error) => fail(error),
        }
    }

    /// Runs synchronous calendar logic, turning a panic into a 503 and a restart.
    fn guarded<T>(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut Self) -> Result<T, CalendarError>,
    ) -> Result<T, CalendarError> {
        catch_unwind(AssertUnwindSafe(|| f(self))).unwrap_or_else(|_| Err(self.crashed(ctx)))
    }

    fn crashed(&mut self, ctx: &mut Context<Self>) -> CalendarError {
        tracing::error!(provider = %self.provider_id, "calendar crashed; restarting it with state reloaded");
        ctx.stop();
        CalendarError::Unavailable("the calendar restarted; please retry".into())
    }

    /// Awaits a repository call inside the actor's atomic section; a panic in
    /// it is handled like one in the actor.
    fn call<T: 'static, F: Future<Output = Result<T, RepositoryError>> + 'static>(
        &self,
        future: F,
    ) -> impl actix::ActorFuture<Self, Output = Result<T, RepositoryError>> + use<T, F> {
        let future = AssertUnwindSafe(bounded(future).instrument(self.span.clone())).catch_unwind();
        fut::wrap_future::<_, Self>(future).map(|result, act, ctx| match result {
            Ok(Err(RepositoryError::TimedOut)) => {
                // A write may or may not have committed: trust the
                // database, not memory, from the next message on.
                act.state = State::NotLoaded;
                Err(RepositoryError::TimedOut)
            }
            Ok(result) => result,
            Err(_) => {
                act.crashed(ctx);
                Err(RepositoryError::Unavailable("repository panicked".into()))
            }
        })
    }

    fn busy_except(&self, except: Option<BookingId>) -> Vec<Busy> {
        let Ok(data) = self.data() else { return Vec::new() };
        data.bookings.iter().filter(|b| b.status.is_active() && Some(b.id) != except).map(|b| b.occupied).collect()
    }

    /// Test builds: the fault injected for this booking (a panic, or a delay
    /// holding the mailbox). Production builds have none, and no way in.
    fn injected_delay(&mut self) -> Option<Duration> {
        #[cfg(feature = "test-faults")]
        match self.fault.take() {
            Some(Fault::PanicOnNextBook) => panic!("injected fault: panic while booking"),
            Some(Fault::DelayNextBook(delay)) => return Some(delay),
            _ => {}
        }
        None
    }

    /// Checks `start` against the calendar — 409 if it is a real slot that is
    /// taken (or a full class), 422 if it is no slot at all — and returns
    /// where the booking goes.
    fn check_offered(
        &self,
        service_id: ServiceId,
        start: Timestamp,
        except: Option<BookingId>,
        now: Timestamp,
        retired_too: bool,
    ) -> Result<Place, CalendarError> {
        let (calendar, info) = self.service(service_id, retired_too)?;
        self.place(calendar, info, service_id, start, except, now, NOT_OFFERED)
    }

    /// `start` as a slot of `calendar` for the service: one-to-one, free of
    /// every other booking; a class, with a seat left (the lowest free one).
    #[allow(clippy::too_many_arguments)]
    fn place(
        &self,
        calendar: SlotCalendar<'_>,
        info: ServiceInfo,
        service_id: ServiceId,
        start: Timestamp,
        except: Option<BookingId>,
        now: Timestamp,
        not_offered: &str,
    ) -> Result<Place, CalendarError> {
        if info.capacity <= 1 {
            let (end, occupied) = offered(calendar, info.timing, &self.busy_except(except), start, now, not_offered)?;
            return Ok(Place { end, occupied, seat: None });
        }
        let (others, occurrences) = self.class_view(service_id, except);
        let date = calendar.time_zone.date_of(start);
        let slots = class_slots(calendar, info.timing, info.capacity, &others, &occurrences, date, date, now);
        match slots.iter().find(|slot| slot.start == start) {
            Some(slot) if slot.bookable() => {
                let taken = occurrences.iter().find(|o| o.start == start).map_or(&[][..], |o| &o.seats[..]);
                let seat = lowest_free_seat(taken, info.capacity).ok_or(CalendarError::ClassFull)?;
                let (end, occupied) = occupation(info.timing, start);
                Ok(Place { end, occupied, seat: Some(seat) })
            }
            Some(_) => Err(CalendarError::ClassFull),
            None if is_offered(calendar, info.timing, &[], start, now) => Err(CalendarError::SlotTaken),
            None => Err(CalendarError::NotBookable(not_offered.into())),
        }
    }

    /// A class's view of the calendar: every other active booking's time, and
    /// the class's own starts with their seats (`except` left out).
    fn class_view(&self, service_id: ServiceId, except: Option<BookingId>) -> (Vec<Busy>, Vec<Occurrence>) {
        let Ok(data) = self.data() else { return (Vec::new(), Vec::new()) };
        let others = data
            .bookings
            .iter()
            .filter(|b| b.status.is_active() && Some(b.id) != except)
            .filter(|b| !(b.service_id == service_id && b.seat.is_some()))
            .map(|b| b.occupied)
            .collect();
        (others, occurrences(&data.bookings, service_id, except))
    }

    /// [`check_offered`](Self::check_offered) for the provider's own booking
    /// (see [`Booker::Provider`]): no minimum notice, and `outside_hours`
    /// lifts every rule but "no overlap" (and a class's seats) and the horizon.
    fn check_for_provider(
        &self,
        service_id: ServiceId,
        start: Timestamp,
        except: Option<BookingId>,
        now: Timestamp,
        outside_hours: bool,
    ) -> Result<Place, CalendarError> {
        let (calendar, info) = self.service(service_id, false)?;
        if !outside_hours {
            let rules = BookingRules { min_notice_min: 0, ..calendar.rules.clone() };
            let calendar = SlotCalendar { rules: &rules, ..calendar };
            return self.place(calendar, info, service_id, start, except, now, NOT_OFFERED_TO_PROVIDER);
        }
        let today = calendar.time_zone.date_of(now);
        let last_day =
            today.checked_add(jiff::Span::new().days(i64::from(calendar.rules.horizon_days))).unwrap_or(today);
        if start < now - SignedDuration::from_hours(24) || calendar.time_zone.date_of(start) > last_day {
            return Err(CalendarError::NotBookable(OUTSIDE_THE_RANGE.into()));
        }
        let (end, occupied) = occupation(info.timing, start);
        if info.capacity <= 1 {
            if !is_free(&self.busy_except(except), occupied) {
                return Err(CalendarError::SlotTaken);
            }
            return Ok(Place { end, occupied, seat: None });
        }
        let (mut busy, occurrences) = self.class_view(service_id, except);
        let joined = occurrences.iter().find(|o| o.start == start);
        busy.extend(occurrences.iter().filter(|o| o.start != start).map(|o| o.occupied));
        if !is_free(&busy, occupied) {
            return Err(CalendarError::SlotTaken);
        }
        let taken = joined.map_or(&[][..], |o| &o.seats[..]);
        let seat = lowest_free_seat(taken, info.capacity).ok_or(CalendarError::ClassFull)?;
        Ok(Place { end, occupied, seat: Some(seat) })
    }

    /// The slot rules and `service_id`'s timing and capacity; a retired
    /// service only if `retired_too`.
    fn service(
        &self,
        service_id: ServiceId,
        retired_too: bool,
    ) -> Result<(SlotCalendar<'_>, ServiceInfo), CalendarError> {
        let data = self.data()?;
        let service = data
            .services
            .get(&service_id)
            .filter(|s| s.active || retired_too)
            .ok_or(CalendarError::NotFound("service"))?;
        Ok((SlotCalendar { time_zone: &data.time_zone, schedule: &data.schedule, rules: &data.rules }, *service))
    }

    fn plan_booking(&mut self, msg: &Book) -> Result<(NewBooking, Option<Duration>), CalendarError> {
        let delay = self.injected_delay();
        let Place { end, occupied, seat } = match msg.booker {
            Booker::Client => self.check_offered(msg.service_id, msg.start, None, msg.now, false)?,
            Booker::Provider { outside_hours } => {
                self.check_for_provider(msg.service_id, msg.start, None, msg.now, outside_hours)?
            }
        };
        let data = self.data()?;
        let status = match msg.booker {
            Booker::Client if data.rules.requires_confirmation => BookingStatus::Pending,
            Booker::Client | Booker::Provider { .. } => BookingStatus::Confirmed,
        };
        let mut booking = NewBooking {
            id: BookingId::generate(),
            provider_id: self.provider_id,
            service_id: msg.service_id,
            client: msg.client.clone(),
            start: msg.start,
            end,
            local_date: data.time_zone.date_of(msg.start),
            occupied,
            status,
            seat,
            confirm_by: match status {
                BookingStatus::Pending => confirm_deadline(&data.rules, msg.start, msg.now),
                _ => None,
            },
            note: msg.note.clone(),
            created_by: Some(msg.requested_by),
            idempotency_key: msg.idempotency_key.clone(),
            now: msg.now,
            settings_version: data.settings_version,
            notices: Vec::new(),
        };
        let provisional = booking.to_booking(ClientId(Uuid::nil()), msg.client.user());
        let by = match msg.booker {
            Booker::Client => Requester::Client(msg.requested_by),
            Booker::Provider { .. } => Requester::Provider,
        };
        booking.notices = notices::pushes(BookingEventKind::Created, by, &provisional, data.owner_user_id, msg.now);
        booking.notices.extend(notices::reminders(&provisional, &data.rules, msg.now));
        Ok((booking, delay))
    }

    fn plan_change(
        &self,
        current: &Booking,
        msg: &ChangeBooking,
    ) -> Result<(BookingUpdate, BookingEventKind), CalendarError> {
        let data = self.data()?;
        let status = transition(current, msg.actor, msg.action, &data.rules, msg.now)?;
        // Every change but "I'm coming" answers the request: no deadline and
        // no proposal are left; the arms below set them where they still apply.
        let mut after = match msg.action {
            Action::Attend => Booking { status, attendance_confirmed_at: Some(msg.now), ..current.clone() },
            _ => Booking { status, confirm_by: None, proposed_start: None, ..current.clone() },
        };
        let kind = match msg.action {
            Action::Cancel => BookingEventKind::Cancelled,
            Action::Decline => BookingEventKind::Declined,
            Action::Confirm => BookingEventKind::Confirmed,
            Action::Complete => BookingEventKind::Completed,
            Action::NoShow => BookingEventKind::NoShow,
            Action::Expire => BookingEventKind::Expired,
            Action::DeclineProposal => BookingEventKind::ProposalDeclined,
            Action::Attend => BookingEventKind::Attending,
            Action::Reschedule => {
                let start = msg
                    .new_start
                    .ok_or_else(|| CalendarError::NotBookable("a reschedule needs the new start".into()))?;
                let Place { end, occupied, seat } =
                    self.check_offered(current.service_id, start, Some(current.id), msg.now, true)?;
                let status = rescheduled_status(current.status, msg.actor, &data.rules);
                let confirm_by = match status {
                    BookingStatus::Pending => confirm_deadline(&data.rules, start, msg.now),
                    _ => None,
                };
                // A new time is a new question: "I'm coming" was said of the old one.
                after =
                    Booking { status, start, end, occupied, seat, confirm_by, attendance_confirmed_at: None, ..after };
                BookingEventKind::Rescheduled
            }
            Action::Propose => {
                let start = msg
                    .new_start
                    .ok_or_else(|| CalendarError::NotBookable("a proposal needs the start it offers".into()))?;
                if start == current.start {
                    return Err(CalendarError::NotBookable(
                        "that is the time asked for; confirm the request instead".into(),
                    ));
                }
                // Checked now so the client is not offered a time that is
                // none; not held: whoever books it first gets it.
                self.check_for_provider(current.service_id, start, Some(current.id), msg.now, false)?;
                // The client answers by the rule's deadline, and never later
                // than the proposed time itself; unanswered, it expires like
                // a request, freeing the time asked for.
                let confirm_by = Some(confirm_deadline(&data.rules, start, msg.now).unwrap_or(start));
                after = Booking { proposed_start: Some(start), confirm_by, attendance_confirmed_at: None, ..after };
                BookingEventKind::Proposed
            }
            Action::AcceptProposal => {
                let start = current.proposed_start.ok_or(TransitionError::NoProposal)?;
                // The time the client saw, when they name it: a proposal
                // replaced since is not accepted blind.
                if msg.new_start.is_some_and(|seen| seen != start) {
                    return Err(TransitionError::NoProposal.into());
                }
                // The provider offered this time: their rules decide it, and
                // another client may have taken it meanwhile (409).
                let Place { end, occupied, seat } =
                    self.check_for_provider(current.service_id, start, Some(current.id), msg.now, false)?;
                after = Booking { start, end, occupied, seat, attendance_confirmed_at: None, ..after };
                BookingEventKind::ProposalAccepted
            }
        };
        let mut notices = notices::pushes(kind, msg.actor, &after, data.owner_user_id, msg.now);
        let moved = after.start != current.start;
        if moved {
            notices.extend(notices::reminders(&after, &data.rules, msg.now));
        }
        let update = BookingUpdate {
            after,
            updated_by: msg.by_user,
            now: msg.now,
            settings_version: data.settings_version,
            // Reminders stay while the visit stays: confirmed or attended,
            // it is still on at the same time.
            // A proposal drops them too: the time asked for is not agreed;
            // accepting re-adds them for the new time.
            drop_pending_reminders: moved || !status.is_active() || kind == BookingEventKind::Proposed,
            notices,
        };
        Ok((update, kind))
    }

    /// Keeps the in-memory bookings in step with a committed change.
    fn remember(&mut self, booking: &Booking) {
        if let State::Loaded(data) = &mut self.state {
            data.bookings.retain(|b| b.id != booking.id);
            if booking.status.is_active() {
                data.bookings.push(booking.clone());
            }
        }
    }

    /// Publishes after commit: the booking event, and which local dates may
    /// show different free slots now.
    fn publish(&self, kind: BookingEventKind, booking: &Booking, before: Option<&Booking>) {
        let Ok(data) = self.data() else { return };
        self.events.publish(CalendarEvent::Booking { kind, booking: Box::new(booking.clone()) });
        let changed_availability = before.map_or(booking.status.is_active(), |before| {
            before.status.is_active() != booking.status.is_active() || before.occupied != booking.occupied
        });
        if changed_availability {
            let mut dates = BTreeSet::<Date>::new();
            for b in std::iter::once(booking).chain(before) {
                dates.insert(data.time_zone.date_of(b.occupied.start));
                dates.insert(data.time_zone.date_of(b.occupied.end));
            }
            self.events.publish(CalendarEvent::AvailabilityChanged {
                provider_id: self.provider_id,
                dates: dates.into_iter().collect(),
            });
        }
    }

    fn book(&mut self, msg: Book, ctx: &mut Context<Self>) -> Reply<Booked> {
        if msg.idempotency_key.is_none() {
            return self.decide_new(msg, 0, ctx);
        }
        self.replay(msg, |act, ctx, msg| act.decide_new(msg, 0, ctx))
    }

    /// Answers with the booking made earlier under `msg`'s Idempotency-Key;
    /// if there is none, runs `otherwise`.
    fn replay(
        &self,
        msg: Book,
        otherwise: impl FnOnce(&mut Self, &mut Context<Self>, Book) -> Reply<Booked> + 'static,
    ) -> Reply<Booked> {
        let (repo, user, key) = (self.repo.clone(), msg.requested_by, msg.idempotency_key.clone().unwrap_or_default());
        let found = self.call(async move { repo.booking_by_idempotency_key(user, &key).await });
        Box::pin(found.then(move |found, act, ctx| match found {
            Err(error) => fail(unavailable(error)),
            Ok(Some(earlier)) => Box::pin(fut::ready(replayed(act.provider_id, &msg, earlier))),
            Ok(None) => otherwise(act, ctx, msg),
        }))
    }

    /// Decides a new booking from memory and writes it. `attempt` counts the
    /// times the settings were found stale (and reloaded) for this request.
    fn decide_new(&mut self, msg: Book, attempt: u32, ctx: &mut Context<Self>) -> Reply<Booked> {
        match self.guarded(ctx, |act| act.plan_booking(&msg)) {
            Ok((booking, delay)) => self.persist_new(booking, delay, msg, attempt),
            Err(refusal) => self.refused(refusal, attempt, move |act, ctx| act.decide_new(msg, attempt + 1, ctx)),
        }
    }

    /// A refusal stale settings could explain (hours, services and rules
    /// decide it) stands only once the settings are found current. A 409
    /// stands at once: it follows from bookings, and a settings check on each
    /// of a storm's losers would cost them all a read.
    fn refused<T: 'static>(&self, refusal: CalendarError, attempt: u32, retry: impl Then<T>) -> Reply<T> {
        use CalendarError::{NotBookable, NotFound, Transition};
        let may_follow_from_settings = matches!(refusal, NotBookable(_) | NotFound("service") | Transition(_));
        if attempt < STALE_RETRIES && may_follow_from_settings {
            return self.unless_stale(Some(refusal), retry);
        }
        fail(refusal)
    }

    /// Checks the settings in memory are still current (another node may
    /// have changed them with the bus cut): if not, reloads and runs `then`;
    /// if so, answers `refusal`, or without one runs `then` at once. A version
    /// it cannot read counts as current: the answer then stands on what we have.
    fn unless_stale<T: 'static>(&self, refusal: Option<CalendarError>, then: impl Then<T>) -> Reply<T> {
        let known = self.data().map(|data| data.settings_version).ok();
        let (repo, provider_id) = (self.repo.clone(), self.provider_id);
        let current = self.call(async move { repo.settings_version(provider_id).await });
        Box::pin(current.then(move |current, act, ctx| match (current, refusal) {
            (Ok(Some(version)), _) if Some(version) != known => act.reload_and(then),
            (_, Some(refusal)) => fail(refusal),
            (_, None) => then(act, ctx),
        }))
    }

    /// Reloads the calendar, then runs `retry` on the fresh state.
    fn reload_and<T: 'static>(&self, retry: impl Then<T>) -> Reply<T> {
        tracing::info!(provider = %self.provider_id, "settings changed elsewhere; reloading and deciding again");
        self.load_then(retry)
    }

    /// A write the repository refused: decided again on stale settings (a
    /// bounded number of times), 409 on an overlap the database caught
    /// (reloading the view that missed it), else 503.
    fn write_failed<T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        error: RepositoryError,
        attempt: u32,
        retry: impl Then<T>,
    ) -> Reply<T> {
        match error {
            RepositoryError::StaleSettings if attempt < STALE_RETRIES => self.reload_and(retry),
            // Another node changed the booking since it was read: read it
            // again and decide on what is there now (the retry re-reads).
            RepositoryError::Conflict if attempt < STALE_RETRIES => retry(self, ctx),
            RepositoryError::Overlap => Box::pin(self.load().map(|(), _, _| Err(CalendarError::SlotTaken))),
            // Another node took the seat this one picked: with its seats
            // loaded, pick again (each loss is a seat the other node filled,
            // so a storm for a class converges).
            RepositoryError::SeatTaken if attempt < SEAT_RETRIES => self.reload_and(retry),
            RepositoryError::SeatTaken => Box::pin(self.load().map(|(), _, _| Err(CalendarError::ClassFull))),
            RepositoryError::ClientBlocked => fail(CalendarError::ClientBlocked),
            error => fail(unavailable(error)),
        }
    }

    fn persist_new(&mut self, booking: NewBooking, delay: Option<Duration>, msg: Book, attempt: u32) -> Reply<Booked> {
        let repo = self.repo.clone();
        let write = self.call(async move {
            if let Some(delay) = delay {
                actix::clock::sleep(delay).await;
            }
            repo.create_booking(&booking).await
        });
        Box::pin(write.then(move |result, act, ctx| match result {
            Ok(CreatedBooking { booking, labels }) => {
                act.remember(&booking);
                act.publish(BookingEventKind::Created, &booking, None);
                Box::pin(fut::ok(Booked { booking, created: true, labels }))
            }
            // Another node committed the same request first: answer with it.
            Err(RepositoryError::DuplicateIdempotencyKey) => {
                act.replay(msg, |_, _, _| fail(CalendarError::IdempotencyKeyReused))
            }
            Err(error) => act.write_failed(ctx, error, attempt, move |act, ctx| act.decide_new(msg, attempt + 1, ctx)),
        }))
    }

    fn change(&mut self, msg: ChangeBooking, attempt: u32) -> Reply<Booking> {
        let repo = self.repo.clone();
        let (provider_id, booking_id) = (self.provider_id, msg.booking_id);
        let read = self.call(async move { repo.booking(provider_id, booking_id).await });
        Box::pin(read.then(move |found, act, ctx| match found {
            Err(error) => fail(unavailable(error)),
            Ok(None) => fail(CalendarError::NotFound("booking")),
            Ok(Some(current)) => act.decide_change(current, msg, attempt, ctx),
        }))
    }

    /// Decides a change of `current` from memory and writes it.
    fn decide_change(
        &mut self,
        current: Booking,
        msg: ChangeBooking,
        attempt: u32,
        ctx: &mut Context<Self>,
    ) -> Reply<Booking> {
        let (update, kind) = match self.guarded(ctx, |act| act.plan_change(&current, &msg)) {
            Ok(planned) => planned,
            Err(refusal) => return self.refused(refusal, attempt, move |act, _| act.change(msg, attempt + 1)),
        };
        let repo = self.repo.clone();
        let write = self.call(async move { repo.update_booking(&update).await });
        Box::pin(write.then(move |result, act, ctx| match result {
            Ok(booking) => {
                act.remember(&booking);
                act.publish(kind, &booking, Some(&current));
                Box::pin(fut::ok(booking))
            }
            Err(error) => act.write_failed(ctx, error, attempt, move |act, _| act.change(msg, attempt + 1)),
        }))
    }

    fn slots(&self, msg: &GetSlots) -> Result<Availability, CalendarError> {
        let (calendar, info) = self.service(msg.service_id, false)?;
        let slots = if info.capacity > 1 {
            let (others, occurrences) = self.class_view(msg.service_id, msg.moving);
            class_slots(calendar, info.timing, info.capacity, &others, &occurrences, msg.from, msg.to, msg.now)
        } else {
            free_slots(calendar, info.timing, &self.busy_except(msg.moving), msg.from, msg.to, msg.now)
        };
        Ok(Availability { time_zone: calendar.time_zone.clone(), slots })
    }
}

const NOT_OFFERED: &str =
    "this time is not offered: outside working hours, off the slot grid, too soon or beyond the horizon";
const NOT_OFFERED_TO_PROVIDER: &str =
    "this time is outside your working hours, off your slot grid or beyond your horizon; book it with outside_hours";
const OUTSIDE_THE_RANGE: &str = "a booking outside the hours may start from a day ago up to your booking horizon";

/// `start` as a slot of `calendar` free of `busy`: its end and what it
/// occupies; else 409 if it is a real slot that is taken, 422 (`not_offered`)
/// if it is no slot at all.
fn offered(
    calendar: SlotCalendar<'_>,
    timing: ServiceTiming,
    busy: &[Busy],
    start: Timestamp,
    now: Timestamp,
    not_offered: &str,
) -> Result<(Timestamp, Busy), CalendarError> {
    if is_offered(calendar, timing, busy, start, now) {
        Ok(occupation(timing, start))
    } else if is_offered(calendar, timing, &[], start, now) {
        Err(CalendarError::SlotTaken)
    } else {
        Err(CalendarError::NotBookable(not_offered.into()))
    }
}

/// The end of a visit starting at `start`, and what it occupies with its buffers.
fn occupation(timing: ServiceTiming, start: Timestamp) -> (Timestamp, Busy) {
    let end = start + SignedDuration::from_secs(timing.duration_secs());
    let (before, after) = timing.buffers_secs();
    (end, Busy { start: start - SignedDuration::from_secs(before), end: end + SignedDuration::from_secs(after) })
}

/// An Idempotency-Key replay answers with the earlier booking only if it
/// really is the same request.
fn replayed(provider_id: ProviderId, msg: &Book, earlier: Booking) -> Result<Booked, CalendarError> {
    if earlier.provider_id == provider_id && earlier.service_id == msg.service_id && earlier.start == msg.start {
        Ok(Booked { booking: earlier, created: false, labels: None })
    } else {
        Err(CalendarError::IdempotencyKeyReused)
    }
}

fn unavailable(error: RepositoryError) -> CalendarError {
    match error {
        RepositoryError::StaleSettings => {
            CalendarError::Unavailable("the provider's settings keep changing; please retry".into())
        }
        other => CalendarError::Unavailable(format!("the calendar's database failed: {other}")),
    }
}

/// A repository call not answered within this is given up (503, safe to
/// retry): a database cut mid-query must not hold the calendar — and every
/// request queued behind it — until TCP gives up, minutes later. Well under
/// the HTTP layer's own request deadline, so the calendar answers first.
const REPOSITORY_TIMEOUT: Duration = Duration::from_secs(5);

async fn bounded<T>(future: impl Future<Output = Result<T, RepositoryError>>) -> Result<T, RepositoryError> {
    actix::clock::timeout(REPOSITORY_TIMEOUT, future).await.unwrap_or(Err(RepositoryError::TimedOut))
}

/// How many times one request reloads stale settings and decides again
/// before it gives up with a 503 (only a provider rewriting the settings in
/// a tight loop gets there).
const STALE_RETRIES: u32 = 3;

/// How many times one booking picks a class seat again after another node
/// took the one it picked (see [`RepositoryError::SeatTaken`]).
const SEAT_RETRIES: u32 = 64;

/// Where a booking goes: its end, the time it occupies, its class seat.
struct Place {
    end: Timestamp,
    occupied: Busy,
    seat: Option<u16>,
}

impl Actor for CalendarActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.mailbox_capacity);
        // Nothing else runs until the state is loaded.
        ctx.wait(self.load());
    }
}

impl Supervised for CalendarActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!(provider = %self.provider_id, "calendar restarting");
        self.state = State::NotLoaded;
        self.span = tracing::Span::none(); // the reload on restart belongs to no request
        #[cfg(feature = "test-faults")]
        self.fault.take();
    }
}

/// Every message arrives in a [`Traced`] envelope: it is handled inside a
/// `calendar` span whose parent is the sender's (the HTTP request, the bot).
macro_rules! traced {
    ($($message:ty),*) => {$(
        impl Handler<Traced<$message>> for CalendarActor {
            type Result = <Self as Handler<$message>>::Result;
            fn handle(&mut self, traced: Traced<$message>, ctx: &mut Context<Self>) -> Self::Result {
                self.span = tracing::info_span!(parent: &traced.span, "calendar", provider = %self.provider_id);
                let _entered = self.span.clone().entered();
                self.handle(traced.message, ctx)
            }
        }
    )*};
}
traced!(Book, ChangeBooking, GetSlots, Reload, ApplyBooking);

impl Handler<Book> for CalendarActor {
    type Result = AtomicResponse<Self, Result<Booked, CalendarError>>;
    fn handle(&mut self, msg: Book, ctx: &mut Context<Self>) -> Self::Result {
        AtomicResponse::new(self.with_state(ctx, move |act, ctx| act.book(msg, ctx)))
    }
}

impl Handler<ChangeBooking> for CalendarActor {
    type Result = AtomicResponse<Self, Result<Booking, CalendarError>>;
    fn handle(&mut self, msg: ChangeBooking, ctx: &mut Context<Self>) -> Self::Result {
        AtomicResponse::new(self.with_state(ctx, move |act, _| act.change(msg, 0)))
    }
}

impl Handler<GetSlots> for CalendarActor {
    type Result = AtomicResponse<Self, Result<Availability, CalendarError>>;
    fn handle(&mut self, msg: GetSlots, ctx: &mut Context<Self>) -> Self::Result {
        // A node that may be missing the others' events cannot trust its
        // memory for what it offers: it checks the version first.
        let check = self.events.may_miss_events();
        AtomicResponse::new(self.with_state(ctx, move |act, ctx| {
            let compute = move |act: &mut Self, ctx: &mut Context<Self>| -> Reply<Availability> {
                Box::pin(fut::ready(act.guarded(ctx, |act| act.slots(&msg))))
            };
            if check { act.unless_stale(None, compute) } else { compute(act, ctx) }
        }))
    }
}

impl Handler<Reload> for CalendarActor {
    type Result = AtomicResponse<Self, Result<(), CalendarError>>;
    fn handle(&mut self, _: Reload, _: &mut Context<Self>) -> Self::Result {
        AtomicResponse::new(Box::pin(self.load().map(|(), act, _| act.data().map(drop))))
    }
}

impl Handler<ApplyBooking> for CalendarActor {
    type Result = AtomicResponse<Self, Result<(), CalendarError>>;
    fn handle(&mut self, ApplyBooking(booking_id): ApplyBooking, _: &mut Context<Self>) -> Self::Result {
        // Nothing in memory yet: it loads fresh when first needed.
        if !matches!(self.state, State::Loaded(_)) {
            return AtomicResponse::new(Box::pin(fut::ok(())));
        }
        let (repo, provider_id) = (self.repo.clone(), self.provider_id);
        let read = self.call(async move { repo.booking(provider_id, booking_id).await });
        AtomicResponse::new(Box::pin(read.then(move |found, act, _| -> Reply<()> {
            match found {
                Ok(Some(booking)) => {
                    act.remember(&booking);
                    Box::pin(fut::ok(()))
                }
                Ok(None) => {
                    if let State::Loaded(data) = &mut act.state {
                        data.bookings.retain(|b| b.id != booking_id);
                    }
                    Box::pin(fut::ok(()))
                }
                // Unsure what changed: take everything in again.
                Err(error) => {
                    tracing::warn!(provider = %act.provider_id, %error, "reading a remote change failed; reloading");
                    Box::pin(act.load().map(|(), act, _| act.data().map(drop)))
                }
            }
        })))
    }
}

#[cfg(feature = "test-faults")]
impl Handler<InjectFault> for CalendarActor {
    type Result = ();
    fn handle(&mut self, InjectFault(fault): InjectFault, ctx: &mut Context<Self>) {
        match fault {
            Fault::Stop => ctx.stop(),
            other => self.fault = Some(other),
        }
    }
}

impl Handler<Shutdown> for CalendarActor {
    type Result = ();
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
