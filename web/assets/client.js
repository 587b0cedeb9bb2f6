// The client's side: a provider's page → a service → a day → a free slot
// (updated live) → MainButton books it; then "my bookings", where a booking
// is cancelled or moved within the provider's cut-off.

import { t } from './i18n.js';
import {
  h, nodes, api, go, back, haptic, mainButton, hideMainButton, confirmed, toast, showProblem, problemText,
  localDate, addDays, wallTime, wallDate, dayLabel, whenLabel, zonedLabel, price, duration, statusBadge, ApiProblem,
  deviceZone, deviceWall, placeName, whenText, whenNodes, windowLabel, seatsLabel,
} from './core.js';
import { LiveSocket } from './live.js';
import { privacyScreen } from './account.js';

/** Days shown in the day picker (and watched live): the horizon, at most the 31 days one watch may cover. */
const DAYS_SHOWN = 31;

const providers = new Map();

/** A provider's public page, asked for once per slug (a waitlist offer asks for its zone too). */
async function publicProvider(slug) {
  if (!providers.has(slug)) providers.set(slug, api('GET', `/api/providers/${encodeURIComponent(slug)}`));
  try {
    return await providers.get(slug);
  } catch (error) {
    providers.delete(slug);
    throw error;
  }
}

/** A provider's public page: who they are and what can be booked. */
export function providerScreen(slug, options = {}) {
  providers.delete(slug); // opening the page shows it as it is now
  // Used once: coming back from the slots shows the page, not the slots again.
  let openService = options.service;
  // The start a waitlist offer named (unix seconds), chosen on those slots.
  let openStart = options.start;
  go('provider', (main) => {
    main.append(h('p.loading', { role: 'status' }, t('loading')));
    publicProvider(slug).then((provider) => {
      main.replaceChildren(...nodes(
        h('header.header', h('h1', provider.business_name || provider.display_name),
          provider.business_name ? h('p.sub', provider.display_name) : null),
        provider.contacts ? h('p.muted', provider.contacts) : null,
        h('h2', { id: 'services-heading' }, t('services')),
        provider.services.length
          ? h('div.section', { role: 'group', 'aria-labelledby': 'services-heading' },
            provider.services.map((service) => h('button.row.chevron', {
              type: 'button', dataset: { service: service.id },
              onclick: () => { haptic(); slotsScreen(provider, service); },
            },
            h('span.grow', h('span.title', service.name), h('span.sub', serviceFacts(service))),
            h('span.end', price(service.price_minor, service.currency)))))
          : h('p.empty-state', t('no_services')),
        h('div.section',
          h('button.row.chevron', { type: 'button', id: 'my-bookings', onclick: () => myBookingsScreen() },
            h('span.grow', t('my_bookings'))),
          h('button.row.chevron', { type: 'button', id: 'privacy', onclick: () => privacyScreen() },
            h('span.grow', t('privacy_and_data')))),
      ));
      // "Book again": straight on to that service's slots, the page one step back.
      const again = openService && provider.services.find((service) => service.id === openService);
      const start = openStart;
      openService = null;
      openStart = null;
      if (again) slotsScreen(provider, again, null, { start });
    }).catch((error) => {
      main.replaceChildren(h('h1', t('app_name')),
        h('p.empty-state', error.status === 404 ? t('provider_not_found') : error.message));
    });
  }, options);
}

/** "1 h", or for a class "1 h · class · up to 8": what the client gets, before choosing. */
function serviceFacts(service) {
  const seats = service.capacity > 1 ? t('class_up_to', { n: service.capacity }) : null;
  return [duration(service.duration_min), seats].filter(Boolean).join(' · ');
}

/**
 * A slot that can be booked: any slot of a one-client service, a class start
 * with a seat left. A full class start stays listed (`seats_left: 0`), shown
 * as "Full", so the day does not look closed.
 */
const bookable = (slot) => slot.seats_left !== 0;

/**
 * Free slots of one service, live. With `moving` (a booking), the main
 * button moves that booking instead of booking a new one. `start` (unix
 * seconds, from a waitlist offer's button) is chosen once the slots are in,
 * with the MainButton ready; if it is gone, its day is shown and the app says so.
 */
export function slotsScreen(provider, service, moving = null, { start = null } = {}) {
  go('slots', (main) => {
    // Marks for the "time to first slots" figure (read by the browser tests).
    performance.clearMarks('jbm:slots-shown');
    performance.mark('jbm:slots-requested');
    const today = localDate(provider.timezone);
    const horizon = Math.max(1, Math.min(DAYS_SHOWN, provider.horizon_days + 1));
    const to = addDays(today, horizon - 1);
    let slots = [];
    let seen = null;
    let selectedDay = moving ? wallDate(moving.start) : null;
    let selectedSlot = null;
    let wanted = start;
    // While a booking request runs, live frames (our own booking among them)
    // must not announce "taken" or rebuild the MainButton under the finger.
    let submitting = false;
    let buttonLabel = null;
    // One key per chosen slot: a retried tap never books twice.
    let idempotencyKey = null;
    // Live state. `stale`: the socket dropped, so what is drawn may be out of
    // date; slots cannot be chosen until a fresh snapshot is drawn (the first
    // `slots` frame after the watch is re-sent). `gone`: the server refused
    // the watch with 404 — the service (or provider) is no longer offered.
    let up = false;
    let stale = false;
    let gone = false;
    let refusal = null;
    // Bumped on every drop: an HTTP answer counts as fresh only if asked for
    // after the last one.
    let epoch = 0;

    const status = h('span.hint', { id: 'live-status', role: 'status', 'aria-live': 'polite' });
    const days = h('div.days', { role: 'group', 'aria-label': t('choose_time') });
    const grid = h('div.section', { id: 'slots' });
    // Booking (not moving or proposing): "tell me when something frees up" for the day shown.
    const waitlist = moving ? null : waitlistBox(provider, service);
    const note = h('textarea', { name: 'note', maxLength: 500, rows: 2 });
    // Shown under the slots: whose clock the times are on (see render).
    const zoneNote = h('p.hint', { id: 'zone-note' });
    // Proposing (the provider, for a request): the time offered instead of
    // the one asked for, which the client then accepts or declines.
    const proposing = Boolean(moving?.proposing);
    const subtitle = proposing
      ? t('proposing_for', { who: moving.client.name, service: service.name, when: whenLabel(moving.start) })
      : moving
        ? t('moving', { service: service.name, when: whenText(moving.start, provider.timezone) })
        : `${provider.business_name || provider.display_name} · ${serviceFacts(service)}`;
    const title = proposing ? t('propose_title') : moving ? t('reschedule') : service.name;
    main.append(...nodes(
      h('header.header', h('h1', title), h('p.sub', subtitle)),
      h('h2', h('span', t('choose_time')), ' ', status),
      days, grid,
      waitlist?.box,
      zoneNote,
      moving ? null : h('form.section', { onsubmit: (e) => e.preventDefault() }, h('label.field', h('span', t('note_label')), note)),
    ));

    const byDay = () => {
      const map = new Map();
      // The time asked for is no proposal: confirming answers it.
      const offered = proposing ? slots.filter((s) => Date.parse(s.start) !== Date.parse(moving.start)) : slots;
      for (const slot of offered) {
        const day = wallDate(slot.start);
        if (!map.has(day)) map.set(day, []);
        map.get(day).push(slot);
      }
      return map;
    };

    const selectable = () => !stale && !gone;

    const showStatus = () => {
      const [state, text] = gone ? ['gone', t('service_gone')]
        : stale ? ['reconnecting', t('offline')]
          : refusal ? ['refused', refusal]
            : up ? ['live', t('live')] : [null, null];
      // Unchanged, it is not redrawn (a screen reader would announce it again).
      if (status.dataset.live === (state ?? '') && status.textContent === (text ?? '')) return;
      status.dataset.live = state ?? '';
      status.replaceChildren(...nodes(state && h(`span.live-dot${state === 'live' ? '' : '.off'}`, { 'aria-hidden': 'true' }), text));
    };

    const choose = (start) => {
      if (!selectable()) return;
      haptic();
      select(start);
      render();
    };
    const select = (start) => {
      selectedSlot = start;
      idempotencyKey = globalThis.crypto?.randomUUID?.() ?? null;
    };

    /**
     * The offered start, once the first picture is in: chosen if still
     * bookable, else its day is shown with a word why nothing is chosen.
     */
    const takeWanted = (map) => {
      const seconds = wanted;
      wanted = null;
      const slot = slots.find((s) => Math.floor(Date.parse(s.start) / 1000) === seconds);
      if (slot && bookable(slot)) {
        selectedDay = wallDate(slot.start);
        select(slot.start);
        return;
      }
      selectedDay = slot ? wallDate(slot.start) : localDate(provider.timezone, new Date(seconds * 1000));
      if (!map.has(selectedDay) && (selectedDay < today || selectedDay > to)) selectedDay = null;
      toast(t('offer_gone'));
      haptic('warning');
    };

    const render = () => {
      if (!grid.isConnected) return;
      const focused = document.activeElement;
      const focusKey = focused?.dataset?.slot ? `[data-slot="${focused.dataset.slot}"]`
        : focused?.dataset?.date ? `[data-date="${focused.dataset.date}"]` : null;
      const map = byDay();
      if (wanted !== null && !stale) takeWanted(map);
      // First the earliest day with a bookable time; after that the day the
      // user chose stays chosen even when its last time is taken (the
      // waitlist is offered there).
      if (!selectedDay) {
        selectedDay = [...map].filter(([, list]) => list.some(bookable)).map(([day]) => day).sort()[0] || today;
      }
      days.replaceChildren(...Array.from({ length: horizon }, (_, i) => {
        const date = addDays(today, i);
        const count = map.get(date)?.filter(bookable).length || 0;
        return h(`button.day${count ? '' : '.empty'}`, {
          type: 'button', dataset: { date }, 'aria-pressed': String(date === selectedDay),
          'aria-label': `${dayLabel(date, { weekday: 'long', day: 'numeric', month: 'long' })}: ${t('free_count', { n: count })}`,
          onclick: () => { haptic(); selectedDay = date; selectedSlot = null; render(); },
        },
        h('span.dow', dayLabel(date, { weekday: 'short' })),
        h('span.num', dayLabel(date, { day: 'numeric' })),
        h('span.count', count ? String(count) : '–'));
      }));
      if (seen === null) days.querySelector('[aria-pressed="true"]')?.scrollIntoView({ block: 'nearest', inline: 'center' });
      const daySlots = map.get(selectedDay) || [];
      // Whether the chosen time is still free, only a fresh picture can say.
      const chosen = selectedSlot && daySlots.find((s) => s.start === selectedSlot);
      if (selectedSlot && !submitting && !stale && !(chosen && bookable(chosen))) {
        selectedSlot = null;
        // A retired service comes as an empty snapshot and then a refusal:
        // wait a moment, so the user hears "no longer offered", not "taken".
        setTimeout(() => {
          if (gone || !grid.isConnected) return;
          toast(chosen ? t('problem_class_full') : t('slot_taken'));
          haptic('warning');
        }, 150);
      }
      const paused = !selectable();
      grid.setAttribute('aria-busy', String(stale && !gone));
      grid.classList.toggle('paused', paused);
      grid.replaceChildren(...nodes(
        stale && !gone ? h('p.hint.paused-note', { id: 'slots-paused' }, t('slots_paused')) : null,
        gone ? h('p.empty-state', t('service_gone_body'))
          : daySlots.length
            ? h(`div.slots${service.capacity > 1 || daySlots.some((s) => 'seats_left' in s) ? '.class' : ''}`,
              daySlots.map((slot) => slotButton(slot, provider.timezone, service.capacity, {
                'aria-pressed': String(slot.start === selectedSlot),
                className: `slot${seen && !seen.has(slot.start) && bookable(slot) ? ' fresh' : ''}${bookable(slot) ? '' : ' full'}`,
                disabled: paused || !bookable(slot), 'aria-disabled': String(paused || !bookable(slot)),
                'aria-describedby': paused && stale ? 'slots-paused' : null,
                onclick: () => choose(slot.start),
              })))
            : h('p.empty-state', slots.length ? t('no_slots_day') : t('no_slots_at_all')),
      ));
      waitlist?.show(selectedDay, !gone && daySlots.some(bookable), gone);
      // Two clocks only where the device's shows other times than the provider's.
      const zone = provider.timezone;
      const note = daySlots.some((slot) => deviceWall(slot.start))
        ? t('times_in_zones', { place: placeName(zone), zone })
        : deviceZone() !== zone ? t('times_in_zone', { zone }) : '';
      if (zoneNote.textContent !== note) zoneNote.textContent = note;
      zoneNote.hidden = !note;
      if (focusKey) main.querySelector(focusKey)?.focus({ preventScroll: true });
      if (seen === null) performance.mark('jbm:slots-shown');
      // Bookable times seen: one appearing (a freed time, a seat in a full class) is highlighted.
      seen = new Set(slots.filter(bookable).map((s) => s.start));
      if (submitting) return;
      // The provider proposing reads their own clock; a client gets theirs beside it.
      const when = () => (proposing ? whenLabel(selectedSlot) : whenText(selectedSlot, provider.timezone, { short: true }));
      const label = !selectedSlot || paused ? null
        : t(proposing ? 'propose_at' : moving ? 'move_to' : 'book_at', { when: when() });
      if (label === buttonLabel) return;
      buttonLabel = label;
      if (label) mainButton(label, confirm, { owner: grid });
      else hideMainButton();
    };

    const confirm = async () => {
      if (!selectable()) return;
      submitting = true;
      const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
      try {
        if (proposing) {
          await api('POST', `/api/provider/bookings/${moving.id}/propose`, { start: selectedSlot });
          if (!grid.isConnected) return;
          haptic('success');
          toast(t('proposed_toast'));
          back();
        } else if (moving) {
          const owner = moving.byProvider ? '/api/provider/bookings' : '/api/bookings';
          await api('POST', `${owner}/${moving.id}/reschedule`, { start: selectedSlot });
          if (!grid.isConnected) return;
          haptic('success');
          toast(t('rescheduled_toast'));
          back();
        } else {
          const body = { provider: provider.slug, service: service.id, start: selectedSlot };
          if (note.value.trim()) body.note = note.value.trim();
          const booking = await api('POST', '/api/bookings', body, headers);
          if (!grid.isConnected) return;
          haptic('success');
          bookedScreen(booking);
        }
      } catch (error) {
        submitting = false;
        buttonLabel = null;
        if (error instanceof ApiProblem && error.status === 409) {
          // A full class start stays listed as full; any other time is gone.
          const full = error.type?.endsWith('/class-full');
          slots = full ? slots.map((s) => (s.start === selectedSlot ? { ...s, seats_left: 0 } : s))
            : slots.filter((s) => s.start !== selectedSlot);
          selectedSlot = null;
          toast(problemText(error));
          haptic('error');
          render();
        } else {
          showProblem(error, main.querySelector('form'));
        }
      }
    };

    // Moving a booking, its own time counts as free, which only a request
    // naming it (`moving=`) answers; live frames then just say "look again".
    const path = `/api/providers/${encodeURIComponent(provider.slug)}/slots?service=${service.id}&from=${today}&to=${to}`
      + (moving ? `&moving=${moving.id}` : '');
    let latest = 0;
    // `snapshot`: this answer is the fresh picture after a reconnect.
    const fetchSlots = (snapshot = false) => {
      const request = ++latest;
      const asked = epoch;
      return api('GET', path).then((answer) => {
        if (request !== latest || gone) return;
        if (moving || seen === null) slots = answer.slots;
        if (snapshot && asked === epoch) stale = false;
        if (moving || seen === null) {
          render();
          showStatus();
        }
      }).catch((error) => {
        if (!grid.isConnected || gone) return;
        if (error instanceof ApiProblem && error.status === 404) noLongerOffered();
        else showProblem(error);
      });
    };
    const noLongerOffered = () => {
      gone = true;
      slots = [];
      live.close();
      render();
      showStatus();
    };
    const apply = (frame) => {
      if (gone) return;
      if (frame.type === 'slots' && frame.service === service.id && frame.from === today && frame.to === to) {
        refusal = null;
        if (moving) {
          fetchSlots(true);
        } else {
          slots = frame.slots;
          stale = false;
          render();
          showStatus();
        }
      } else if (frame.type === 'error') {
        if (frame.status === 404) {
          // The watch is refused because the service (or its provider) is
          // gone: no slots will come again, so say so and stop watching.
          noLongerOffered();
        } else {
          refusal = frame.detail;
          showStatus();
        }
      }
    };
    const live = new LiveSocket({
      onFrame: apply,
      onState: (connected) => {
        up = connected;
        if (!connected && !gone) {
          // Until a fresh snapshot arrives, nothing shown may be offered.
          stale = true;
          epoch += 1;
          if (seen !== null) render();
        }
        showStatus();
      },
    });
    live.watch(provider.slug, service.id, today, to);
    // My entries for this service: a day I already wait for says so. The
    // slots are redrawn with them only once they are in themselves.
    waitlist?.load().then(() => { if (seen !== null) render(); });
    // The first picture comes over HTTP (no wait for the socket); the socket
    // keeps it current from then on.
    fetchSlots();
    grid.append(h('p.loading', { role: 'status', style: 'padding:24px 0' }, t('loading')));
    return () => live.close();
  });
}

/**
 * One free slot: the provider's wall time, and under it, smaller, the
 * device's when its clock shows another time then (the note under the grid
 * says which is which; the accessible name says it in full).
 */
function slotButton(slot, zone, capacity, props) {
  const mine = deviceWall(slot.start);
  const yours = mine && (mine.date === wallDate(slot.start) ? mine.time : `${dayLabel(mine.date, { weekday: 'short' })} ${mine.time}`);
  // A class start says how many seats are left (or "Full"), under the time.
  const seats = 'seats_left' in slot ? seatsLabel(slot, capacity) : null;
  const label = mine ? whenText(slot.start, zone) : seats ? wallTime(slot.start) : null;
  return h('button.slot', {
    type: 'button', dataset: seats ? { slot: slot.start, seatsLeft: slot.seats_left } : { slot: slot.start }, ...props,
    'aria-label': label && seats ? `${label}, ${seats}` : label,
  }, nodes(mine || seats ? h('span.slot-time', wallTime(slot.start)) : wallTime(slot.start),
    mine ? h('span.slot-yours', yours) : null,
    seats ? h('span.slot-seats', seats) : null));
}

/**
 * "Tell me when something frees up" under the slots, for the day shown.
 * On a day with nothing bookable it is offered outright; otherwise a small
 * link ("none of these times suit me") opens it. An optional window narrows
 * which freed times count. Once on the waitlist for the day, it says so and
 * offers to leave. Kept as one element that is only rebuilt when what it
 * should say changes: live frames redraw the slots often, and must not wipe
 * times being typed.
 */
function waitlistBox(provider, service) {
  const box = h('div', { id: 'waitlist' });
  const mine = new Map(); // date → my entry for this service
  let shown = null;
  let day = null;
  let opened = false;

  const load = async () => {
    try {
      const entries = await api('GET', '/api/waitlist');
      mine.clear();
      for (const entry of entries) if (entry.service === service.id) mine.set(entry.date, entry);
    } catch { /* signed out or offline: the form is still offered */ }
  };

  const draw = (state) => {
    if (state === 'entry') {
      const entry = mine.get(day);
      box.replaceChildren(h('div.section',
        h('p.state.waiting', { id: 'waitlist-status' },
          t('waitlist_on_day', { date: dayLabel(day), window: windowLabel(entry.from, entry.to) })),
        h('p.hint', { style: 'padding:0 16px 6px' }, t('waitlist_how')),
        h('div.actions', leaveWaitlistButton(entry, () => {
          mine.delete(entry.date);
          refresh(true);
        }))));
    } else if (state === 'link') {
      box.replaceChildren(h('button.link-btn', {
        type: 'button', id: 'waitlist-open', onclick: () => { opened = true; refresh(true); },
      }, t('waitlist_none_suit')));
    } else if (state === 'form') {
      box.replaceChildren(form());
    } else {
      box.replaceChildren();
    }
  };

  const form = () => {
    const from = h('input', { type: 'time', name: 'from', step: 300, 'aria-label': `${t('waitlist_window')}: ${t('from')}` });
    const to = h('input', { type: 'time', name: 'to', step: 300, 'aria-label': `${t('waitlist_window')}: ${t('to')}` });
    const date = day;
    const element = h('form.section', { id: 'waitlist-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
      h('p.hint', { style: 'padding:8px 16px 0' }, lastFree ? t('waitlist_how') : t('waitlist_nothing_free')),
      h('div.field', h('span', t('waitlist_window')),
        h('div.interval', from, h('span', { 'aria-hidden': 'true' }, '–'), to)),
      h('div.actions', h('button.btn.primary', {
        type: 'button', id: 'join-waitlist',
        onclick: async (event) => {
          const button = event.currentTarget;
          if (button.disabled) return;
          button.disabled = true;
          try {
            const body = { provider: provider.slug, service: service.id, date };
            if (from.value) body.from = from.value;
            if (to.value) body.to = to.value;
            const entry = await api('POST', '/api/waitlist', body);
            haptic('success');
            toast(t('waitlist_joined', { date: dayLabel(entry.date || date) }));
            mine.set(entry.date || date, entry);
            refresh(true);
          } catch (error) {
            showProblem(error, element);
          } finally {
            button.disabled = false;
          }
        },
      }, t('waitlist_join'))));
    return element;
  };

  let lastFree = false;
  let lastGone = false;
  /** Draws what the day calls for; `force` redraws even when unchanged (after a change of ours). */
  const refresh = (force = false) => {
    const state = lastGone ? 'none' : mine.has(day) ? 'entry' : !lastFree || opened ? 'form' : 'link';
    const key = `${day}|${state}`;
    if (!force && key === shown) return;
    shown = key;
    draw(state);
  };

  /** The day shown and whether it has a bookable time; `gone`: the service is not offered any more. */
  const show = (date, free, gone) => {
    if (date !== day) opened = false;
    day = date;
    lastFree = free;
    lastGone = gone;
    refresh();
  };
  return { box, load, show };
}

/** The booking just made; `replace`s the slots it was chosen on (a waitlist offer, booked from anywhere, does not). */
export function bookedScreen(booking, { replace = true } = {}) {
  // An offer of this very time (a waitlist's) has nothing left to offer.
  window.dispatchEvent(new CustomEvent('jbm:booked', { detail: booking }));
  go('booked', (main) => {
    main.append(
      h('div.center', h('p', { style: 'font-size:3rem;margin:24px 0 0', 'aria-hidden': 'true' }, '✓'),
        h('h1', t('booked_title'))),
      h('div.section', { dataset: { booking: booking.id } },
        h('div.row', h('span.grow', h('span.title', booking.service.name), h('span.sub', booking.provider_name)),
          statusBadge(booking.status)),
        h('div.row', h('span.grow.when', ...whenNodes(booking.start, booking.timezone)),
          h('span.end', `–${wallTime(booking.end)}`))),
      h('p.hint', booking.status === 'pending' ? t('booked_pending') : t('booked_confirmed')),
    );
    mainButton(t('my_bookings'), () => myBookingsScreen({ replace: true }), { owner: main });
  }, { replace });
}

/** My bookings: upcoming first, with cancel and reschedule inside the cut-off. */
export function myBookingsScreen(options = {}) {
  // The reminder's "Reschedule" opens one booking's move, once: coming back
  // shows the list.
  let reschedule = options.reschedule;
  const takeReschedule = () => {
    const id = reschedule;
    reschedule = null;
    return id;
  };
  go('my-bookings', (main) => {
    main.append(h('h1', t('my_bookings')), h('p.loading', { role: 'status' }, t('loading')));
    load(main, takeReschedule);
  }, options);
}

async function load(main, takeReschedule = () => null) {
  let bookings;
  let waiting;
  try {
    // The waitlist is an extra: without it (an older server, a hiccup) the bookings still show.
    [bookings, waiting] = await Promise.all([api('GET', '/api/bookings'), api('GET', '/api/waitlist').catch(() => [])]);
  } catch (error) {
    showProblem(error);
    return;
  }
  const now = Date.now();
  const active = (b) => b.status === 'pending' || b.status === 'confirmed';
  const upcoming = bookings.filter((b) => active(b) && Date.parse(b.end) > now).sort((a, b) => a.start.localeCompare(b.start));
  const past = bookings.filter((b) => !upcoming.includes(b)).sort((a, b) => b.start.localeCompare(a.start));
  const cutoffs = new Map();
  await Promise.all([...new Set(upcoming.map((b) => b.provider))].map(async (slug) => {
    try { cutoffs.set(slug, await publicProvider(slug)); } catch { /* provider gone: no actions */ }
  }));
  main.replaceChildren(h('h1', t('my_bookings')));
  if (!bookings.length && !waiting.length) main.append(h('p.empty-state', t('no_bookings')));
  if (upcoming.length) main.append(h('h2', t('upcoming')), ...upcoming.map((b) => card(b, cutoffs.get(b.provider), main)));
  if (waiting.length) {
    main.append(h('h2', { id: 'waitlist-heading' }, t('waitlist_heading')),
      ...[...waiting].sort((a, b) => a.date.localeCompare(b.date)).map((entry) => waitlistCard(entry, main)));
  }
  if (past.length) main.append(h('h2', t('past_and_cancelled')), ...past.map((b) => card(b, null, main)));
  const providers = new Map(bookings.map((b) => [b.provider, b.provider_name]));
  if (providers.size) {
    // Policy §6: each provider controls their record of me; I can ask them to delete it.
    main.append(h('h2', t('your_data_at_providers')), h('div.section', ...[...providers].map(([slug, name]) =>
      h('button.row', {
        type: 'button', dataset: { erasure: slug },
        onclick: confirmed(t('ask_erasure_confirm', { name }),
          () => api('POST', '/api/me/erasure-requests', { provider: slug }),
          () => toast(t('erasure_asked', { name }))),
      }, h('span.grow', h('span.title', name), h('span.sub', t('ask_erasure')))))));
  }
  // Straight on to the move when still allowed; past the cut-off the card says why.
  const moving = upcoming.find((b) => b.id === takeReschedule());
  const provider = moving && cutoffs.get(moving.provider);
  const service = provider?.services.find((s) => s.id === moving.service.id);
  if (service && (Date.parse(moving.start) - now) / 60000 >= provider.cancel_cutoff_min) {
    slotsScreen(provider, service, moving);
  }
}

/** One day I wait for: what, where, which day and window; "Leave" takes me off it. */
function waitlistCard(entry, main) {
  return h('article.section', { dataset: { waitlist: entry.id } },
    h('div.row', h('span.grow', h('span.title', entry.service_name), h('span.sub', entry.provider_name))),
    h('div.row', h('span.grow', `${dayLabel(entry.date, { weekday: 'long', day: 'numeric', month: 'long' })}, ${
      windowLabel(entry.from, entry.to)}`)),
    h('div.actions', leaveWaitlistButton(entry, () => load(main))));
}

/** "Leave" under a waitlist entry: takes me off it, says so, then `after()`. */
function leaveWaitlistButton(entry, after) {
  return h('button.btn.danger', {
    type: 'button', dataset: { action: 'leave-waitlist' },
    onclick: async () => {
      try {
        await api('DELETE', `/api/waitlist/${entry.id}`);
        haptic('success');
        toast(t('waitlist_left'));
        after();
      } catch (error) {
        showProblem(error);
      }
    },
  }, t('waitlist_leave'));
}

/** POSTs a client's answer on `booking`; then a toast and the list again. */
async function answer(booking, action, done, main) {
  try {
    // Accepting names the proposed time this card shows: one replaced since is refused (409).
    const seen = action === 'accept-proposal' ? `?start=${encodeURIComponent(booking.proposed_start)}` : '';
    await api('POST', `/api/bookings/${booking.id}/${action}${seen}`);
    haptic('success');
    toast(t(done));
    load(main);
  } catch (error) {
    if (error instanceof ApiProblem && error.type?.endsWith('/slot-taken')) throw error;
    showProblem(error);
    load(main);
  }
}

/**
 * A time the provider proposed instead of the one asked for: accept or
 * decline. Accepting a time someone has just taken says so, and offers the
 * live slots to pick another.
 */
function proposal(booking, provider, service, main) {
  // The card already names the day: the same day needs only the times.
  // On another clock than the provider's, both times are given in full, with the device's.
  const sameDay = wallDate(booking.proposed_start) === wallDate(booking.start);
  const elsewhere = deviceWall(booking.proposed_start) || deviceWall(booking.start);
  const times = elsewhere
    ? { when: whenText(booking.proposed_start, booking.timezone), asked: whenText(booking.start, booking.timezone) }
    : sameDay
      ? { when: wallTime(booking.proposed_start), asked: wallTime(booking.start) }
      : { when: whenLabel(booking.proposed_start), asked: whenLabel(booking.start) };
  const box = h('div.proposal', { role: 'group' }, h('p.state.proposed', t('provider_proposes', times)));
  const taken = () => {
    haptic('error');
    box.replaceChildren(h('p.notice', { role: 'alert', dataset: { taken: '' } }, t('proposal_taken')),
      h('div.actions',
        h('button.btn.primary', {
          type: 'button', dataset: { action: 'pick-another' },
          onclick: () => (service ? slotsScreen(provider, service, booking) : providerScreen(booking.provider)),
        }, t('pick_another_time'))));
  };
  box.append(h('div.actions',
    h('button.btn.primary', {
      type: 'button', dataset: { action: 'accept-proposal' },
      onclick: () => answer(booking, 'accept-proposal', 'proposal_accepted_toast', main).catch(taken),
    }, t('accept')),
    h('button.btn.danger', {
      type: 'button', dataset: { action: 'decline-proposal' },
      onclick: confirmed(t('decline_proposal_confirm'), () => answer(booking, 'decline-proposal', 'proposal_declined_toast', main),
        () => {}),
    }, t('action_decline'))));
  return box;
}

function card(booking, provider, main) {
  const minutesLeft = (Date.parse(booking.start) - Date.now()) / 60000;
  const changeable = provider && minutesLeft >= provider.cancel_cutoff_min;
  const service = provider?.services.find((s) => s.id === booking.service.id);
  const upcoming = provider && minutesLeft > 0;
  const proposed = upcoming && booking.status === 'pending' && booking.proposed_start;
  const attending = booking.attendance === 'confirmed';
  return h('article.section', { dataset: { booking: booking.id, status: booking.status, attendance: booking.attendance } },
    h('div.row', h('span.grow', h('span.title', booking.service.name), h('span.sub', booking.provider_name)),
      statusBadge(booking.status)),
    h('div.row', h('span.grow.when', ...whenNodes(booking.start, booking.timezone)),
      h('span.end', `–${wallTime(booking.end)}`)),
    proposed ? proposal(booking, provider, service, main) : null,
    upcoming && booking.status === 'pending' && !booking.proposed_start && booking.confirm_by
      ? h('p.state.deadline', t('provider_answers_by', {
        when: deviceWall(booking.confirm_by)
          ? whenText(booking.confirm_by, booking.timezone) : zonedLabel(booking.confirm_by, booking.timezone),
      }))
      : null,
    upcoming && booking.status === 'confirmed'
      ? (attending
        ? h('p.state.coming', { id: `coming-${booking.id}` }, t('you_are_coming'))
        : h('div.actions', h('button.btn.primary', {
          type: 'button', dataset: { action: 'attend' },
          onclick: () => answer(booking, 'attend', 'attend_toast', main),
        }, t('im_coming'))))
      : null,
    provider && !changeable
      ? h('p.hint', { style: 'padding:0 16px 10px' }, t('past_cutoff', { n: duration(provider.cancel_cutoff_min) }))
      : null,
    changeable
      ? h('div.actions',
        service ? h('button.btn', {
          type: 'button', dataset: { action: 'reschedule' },
          onclick: () => slotsScreen(provider, service, booking),
        }, t('reschedule')) : null,
        h('button.btn.danger', {
          type: 'button', dataset: { action: 'cancel' },
          onclick: confirmed(t('cancel_confirm', { service: booking.service.name, when: whenText(booking.start, booking.timezone) }),
            () => api('POST', `/api/bookings/${booking.id}/cancel`),
            () => { toast(t('cancelled_toast')); load(main); }),
        }, t('cancel_booking')))
      : null);
}
