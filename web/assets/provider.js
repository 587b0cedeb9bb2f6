// The provider's side: a three-step onboarding (profile, first service,
// hours) and the workspace — agenda (live from the provider feed), services,
// hours, the client book, settings with booking rules and the share link.

import { t } from './i18n.js';
import {
  h, nodes, api, go, back, refresh, haptic, saveButton, confirmed, hideMainButton, confirmAction, toast, showProblem, sessionToken, field,
  localDate, addDays, zonedStart,
  wallTime, wallDate, dayLabel, whenLabel, zonedLabel, price, duration, statusBadge, windowLabel,
} from './core.js';
import { profileForm, serviceForm, scheduleForm } from './editors.js';
import { LiveSocket } from './live.js';
import { slotsScreen, providerScreen } from './client.js';
import { showExport } from './account.js';
import { statsPanel } from './figures.js';

/** Settings the server told at start (`/api/app`): the bot's username. */
let settings = {};
export function useSettings(value) {
  settings = value;
}

function step(n, title) {
  return [h('p.hint', { style: 'margin-top:12px' }, t('onboarding_step', { n })), h('h1', title)];
}

/** Profile → first service → hours → the workspace with the share link. */
export function onboardingScreen(me) {
  go('onboarding', (main) => {
    const { form, value } = profileForm(null, me);
    main.append(...step(1, t('onboarding_title')), form);
    saveButton(t('continue'), form, () => api('PUT', '/api/provider', value()), onboardingServiceScreen);
  });
}

function onboardingServiceScreen() {
  go('onboarding-service', (main) => {
    const { form, value } = serviceForm(null);
    main.append(...step(2, t('first_service_title')), form);
    saveButton(t('continue'), form, () => api('POST', '/api/provider/services', value()), onboardingHoursScreen);
  }, { replace: true });
}

function onboardingHoursScreen() {
  go('onboarding-hours', (main) => {
    const { form, value } = scheduleForm(null, { withOverrides: false });
    main.append(...step(3, t('hours_title')), form);
    saveButton(t('finish'), form, () => api('PUT', '/api/provider/schedule', value()),
      () => workspaceScreen('settings', { replace: true }));
  }, { replace: true });
}

const TABS = ['agenda', 'services', 'schedule', 'clients', 'stats', 'settings'];

/** The workspace, opened on `tab`. Tabs switch in place (no history entry). */
export function workspaceScreen(tab = 'agenda', options = {}) {
  go('workspace', (main) => {
    let current = tab;
    let stop = null;
    const body = h('div', { id: 'tab-panel', role: 'tabpanel' });
    const tabs = h('div.tabs', { role: 'tablist' }, TABS.map((name) => h('button.tab', {
      type: 'button', role: 'tab', id: `tab-${name}`, dataset: { tab: name }, 'aria-controls': 'tab-panel',
      onclick: () => { haptic(); select(name); },
    }, t(`tab_${name}`))));
    main.append(h('h1.sr-only', t('workspace')), tabs, body);
    const select = (name) => {
      current = name;
      tab = name;
      if (typeof stop === 'function') stop();
      stop = null;
      hideMainButton();
      tabs.querySelectorAll('.tab').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)));
      body.setAttribute('aria-labelledby', `tab-${name}`);
      // A fresh panel per visit: a late answer for a tab already left lands
      // in its detached panel, not in the tab now shown.
      const panel = h('div');
      body.replaceChildren(panel);
      main.dataset.tab = name;
      stop = PANELS[name](panel);
    };
    select(current);
    return () => { if (typeof stop === 'function') stop(); };
  }, options);
}

const PANELS = {
  agenda: agendaPanel, services: servicesPanel, schedule: schedulePanel, clients: clientsPanel, stats: statsPanel, settings: settingsPanel,
};

// ---------------------------------------------------------------- agenda

/** Today or week: kept while the app is open, so coming back shows the same range. */
let agendaRange = 'today';

function agendaPanel(body) {
  let provider = null;
  const status = h('span.hint', { id: 'live-status', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { id: 'agenda' });
  const toggle = h('div.tabs', { role: 'group', 'aria-label': t('tab_agenda') }, ['today', 'week'].map((name) => h('button.tab', {
    type: 'button', dataset: { range: name }, 'aria-pressed': String(name === agendaRange),
    onclick: () => {
      agendaRange = name;
      toggle.querySelectorAll('.tab').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.range === name)));
      load();
    },
  }, t(name))));
  body.append(toggle, h('p', status), list,
    h('button.btn.block', { type: 'button', id: 'book-someone', onclick: () => bookForScreen(null) }, t('book_someone')));

  // What is shown: the range's bookings, kept current by the feed's frames;
  // each service's seats (a class groups its attendees); the range's waitlist.
  let shown = [];
  let range = null;
  let capacities = new Map();
  let waiting = [];
  const inRangeDay = (day) => range && day >= range.from && day <= range.to;
  const inRange = (b) => inRangeDay(wallDate(b.start));
  // Of two versions of one booking, the later change wins: its revision
  // (bumped by every change) is higher; `updated_at` has whole seconds only.
  const newer = (a, b) => !(a.revision < b.revision);
  const upsert = (list, booking) => {
    const old = list.find((b) => b.id === booking.id);
    if (old && !newer(booking, old)) return list;
    const rest = list.filter((b) => b.id !== booking.id);
    return inRange(booking) ? [...rest, booking] : rest;
  };
  // Loads overlap (live frames, range switches): only the latest one draws,
  // and frames that came while it was on its way are laid over its answer
  // (it may have been read before them).
  let latest = 0;
  let arrived = [];
  const load = async () => {
    const request = ++latest;
    arrived = [];
    try {
      provider ??= await api('GET', '/api/provider');
      const from = localDate(provider.timezone);
      const to = agendaRange === 'today' ? from : addDays(from, 6);
      // Services and the waitlist are extras: without them the bookings still show.
      const [bookings, services, waitlist] = await Promise.all([
        api('GET', `/api/provider/bookings?from=${from}&to=${to}`),
        api('GET', '/api/provider/services').catch(() => null),
        api('GET', `/api/provider/waitlist?from=${from}&to=${to}`).catch(() => []),
      ]);
      if (request !== latest) return;
      range = { from, to };
      if (services) capacities = new Map(services.map((s) => [s.id, s.capacity ?? 1]));
      waiting = waitlist;
      shown = arrived.reduce(upsert, bookings);
      render();
    } catch (error) {
      if (list.isConnected) showProblem(error);
    }
  };
  /** One booking changed (a feed frame): its card is redrawn where its time now puts it. */
  const changed = (booking) => {
    arrived.push(booking);
    if (!range) return;
    shown = upsert(shown, booking);
    render();
    reloadWaitlist();
  };
  // A booking made or cancelled may take someone off the waitlist, or make
  // an offer: the waitlist shown is asked for again, once per burst of frames.
  let waitlistTimer = null;
  const reloadWaitlist = () => {
    clearTimeout(waitlistTimer);
    waitlistTimer = setTimeout(async () => {
      if (!range || !list.isConnected) return;
      const asked = range;
      try {
        const waitlist = await api('GET', `/api/provider/waitlist?from=${asked.from}&to=${asked.to}`);
        if (range !== asked) return;
        waiting = waitlist;
        render();
      } catch { /* the next load shows it */ }
    }, 400);
  };
  const render = () => {
    if (!list.isConnected) return;
    const bookings = [...shown].sort((a, b) => a.start.localeCompare(b.start));
    // A redraw keeps the focus on the button it was on.
    const focused = document.activeElement;
    const card = focused?.closest?.('#agenda [data-booking]');
    const focusKey = card && focused.dataset.action
      ? `[data-booking="${card.dataset.booking}"] [data-action="${focused.dataset.action}"]` : null;
    const waitingIn = waiting.filter((w) => inRangeDay(w.date));
    if (!bookings.length && !waitingIn.length) {
      list.replaceChildren(h('p.empty-state', t('agenda_empty')));
      return;
    }
    const days = new Map();
    for (const day of [...bookings.map((b) => wallDate(b.start)), ...waitingIn.map((w) => w.date)].sort()) {
      if (!days.has(day)) days.set(day, []);
    }
    for (const b of bookings) days.get(wallDate(b.start)).push(b);
    list.replaceChildren(...[...days].flatMap(([day, items]) => [
      h('h2', { dataset: { day } }, dayLabel(day, { weekday: 'long', day: 'numeric', month: 'long' })),
      waitlistLine(day, waitingIn.filter((w) => w.date === day)),
      ...groupClasses(items, capacities).map((item) => (Array.isArray(item)
        ? classCard(item, capacities.get(item[0].service.id), provider, load)
        : agendaCard(item, provider, load))),
    ].filter(Boolean)));
    if (focusKey) list.querySelector(focusKey)?.focus({ preventScroll: true });
  };
  // The feed is joined again after every reconnect (the server forgets it
  // with the socket); its `authenticated` answer marks from when nothing is
  // missed, so the agenda reloads then to catch up on what came meanwhile.
  let joined = false;
  const showLive = (state, text) => {
    status.dataset.live = state;
    status.replaceChildren(h(`span.live-dot${state === 'live' ? '' : '.off'}`, { 'aria-hidden': 'true' }), text);
  };
  const live = new LiveSocket({
    onFrame: (frame) => {
      if (frame.type === 'authenticated') {
        if (joined) load();
        joined = true;
        showLive('live', t('live'));
      } else if (frame.type === 'booking') {
        if (frame.event === 'created') {
          haptic('success');
          toast(t('new_booking', { who: `${frame.booking.client.name} · ${frame.booking.service.name}` }));
        }
        changed(frame.booking);
      } else if (frame.type === 'error') {
        showLive('refused', frame.detail);
      }
    },
    // Open, it is "live" once the feed is joined (above); lost, it says so.
    onState: (up) => { if (!up) showLive('reconnecting', t('offline')); },
  });
  live.authenticate(sessionToken());
  load();
  return () => {
    clearTimeout(waitlistTimer);
    live.close();
  };
}

/**
 * A day's bookings with each class start's (same service and start, the
 * service having seats) gathered into one array, in time order; other
 * bookings stay single. A booking with a seat counts as a class even when
 * the service's capacity is not known (it was lowered, or not loaded).
 */
function groupClasses(bookings, capacities) {
  const items = [];
  const classes = new Map();
  for (const booking of bookings) {
    const isClass = (capacities.get(booking.service.id) ?? 1) > 1 || (booking.seat !== null && booking.seat !== undefined);
    if (!isClass) {
      items.push(booking);
      continue;
    }
    const key = `${booking.service.id}@${Date.parse(booking.start)}`;
    if (!classes.has(key)) {
      classes.set(key, []);
      items.push(classes.get(key));
    }
    classes.get(key).push(booking);
  }
  return items;
}

/** Seats a booking holds: until it is cancelled or declined. */
const holdsSeat = (booking) => booking.status !== 'cancelled' && booking.status !== 'declined';

/**
 * One class start: a row "Yoga · 3/8" (seats taken of the capacity), and
 * under it each attendee with the actions their booking allows, as any booking.
 */
function classCard(attendees, capacity, provider, reload) {
  const [first] = attendees;
  const taken = attendees.filter(holdsSeat).length;
  const sorted = [...attendees].sort((a, b) => Number(holdsSeat(b)) - Number(holdsSeat(a)) || (a.seat ?? 0) - (b.seat ?? 0));
  return h('article.section.class', { dataset: { class: `${first.service.id}@${first.start}`, service: first.service.id, start: first.start } },
    h('div.row.class-head',
      h('span', { style: 'font-weight:600;min-width:3.2em' }, wallTime(first.start)),
      h('span.grow', h('span.title', `${first.service.name} · ${taken}/${capacity ?? taken}`), h('span.sub', `–${wallTime(first.end)}`))),
    ...sorted.map((b) => agendaCard(b, provider, reload, { attendee: true })));
}

/** "Waitlist: 2 — Olga (10:00–12:00), Sam": who waits for a freed time on `day`. */
function waitlistLine(day, entries) {
  if (!entries.length) return null;
  const names = entries.map((w) => {
    const hours = w.from || w.to ? ` (${windowLabel(w.from, w.to)})` : '';
    return `${w.client_name} · ${w.service_name}${hours}`;
  });
  return h('p.waitlist-day', { dataset: { waitlistDay: day } }, t('agenda_waitlist', { n: entries.length, names: names.join(', ') }));
}

/** What a provider may do with a booking in each status. */
function actionsFor(booking) {
  const started = Date.parse(booking.start) <= Date.now();
  if (booking.status === 'pending') return ['confirm', 'decline', 'propose', 'reschedule'];
  // Completing or marking a no-show needs the visit to have started (the server refuses earlier).
  if (booking.status === 'confirmed') return started ? ['complete', 'no-show', 'cancel'] : ['reschedule', 'cancel'];
  return [];
}

/** `HH:MM` of `rfc3339`, with its day too when it is not the day of `other`. */
function sameDayLabel(rfc3339, other) {
  return wallDate(rfc3339) === wallDate(other) ? wallTime(rfc3339) : whenLabel(rfc3339);
}

/** A booking's card; an `attendee` of a class sits under its class row, named without the time. */
function agendaCard(booking, provider, reload, { attendee = false } = {}) {
  let busy = false;
  const act = async (action) => {
    if (busy) return;
    busy = true;
    try {
      if (action === 'reschedule' || action === 'propose') {
        // Both pick the time on the live slots: one moves the booking, the
        // other offers the client that time instead of the one asked for.
        const page = await api('GET', `/api/providers/${encodeURIComponent(provider.slug)}`);
        const service = page.services.find((s) => s.id === booking.service.id);
        if (!service) throw new Error(t('retired'));
        slotsScreen(page, service, { ...booking, byProvider: true, proposing: action === 'propose' });
        return;
      }
      if (action === 'decline' && !(await confirmAction(t('decline_confirm')))) return;
      if (action === 'cancel' && !(await confirmAction(t('provider_cancel_confirm')))) return;
      await api('POST', `/api/provider/bookings/${booking.id}/${action}`);
      haptic('success');
      toast(t('action_done'));
      reload();
    } catch (error) {
      showProblem(error);
    } finally {
      busy = false;
    }
  };
  const label = { confirm: 'action_confirm', decline: 'action_decline', cancel: 'action_cancel', complete: 'action_complete',
    'no-show': 'action_no_show', reschedule: 'reschedule', propose: 'action_propose' };
  const actions = actionsFor(booking);
  const coming = booking.status === 'confirmed' && booking.attendance === 'confirmed';
  // Where a request stands: a time offered to the client, or the deadline to answer it by.
  const waiting = booking.status !== 'pending' ? null
    : booking.proposed_start
      ? h('p.state.proposed', { dataset: { proposed: booking.proposed_start } },
        t('proposed_waiting', { when: sameDayLabel(booking.proposed_start, booking.start) }))
      : booking.confirm_by
        ? h('p.state.deadline', t('answer_by', { when: zonedLabel(booking.confirm_by, booking.timezone) }))
        : null;
  return h(attendee ? 'div.attendee' : 'article.section', { dataset: { booking: booking.id, status: booking.status, attendance: booking.attendance } },
    h('div.row',
      attendee ? null : h('span', { style: 'font-weight:600;min-width:3.2em' }, wallTime(booking.start)),
      h('span.grow', h('span.title', booking.client.name),
        attendee ? null : h('span.sub', `${booking.service.name} · –${wallTime(booking.end)}`)),
      h('span.badges', coming ? h('span.badge.coming', t('coming')) : null, statusBadge(booking.status))),
    waiting,
    booking.note ? h('p.hint', { style: 'padding:0 16px 8px' }, booking.note) : null,
    actions.length ? h('div.actions', actions.map((action) => h(`button.btn${action === 'confirm' ? '.primary' : ''}${
      action === 'decline' || action === 'cancel' ? '.danger' : ''}`, {
      type: 'button', dataset: { action }, onclick: () => act(action),
    }, t(label[action])))) : null);
}

// ---------------------------------------------------------------- services

function servicesPanel(body) {
  const load = async () => {
    try {
      const services = await api('GET', '/api/provider/services');
      body.replaceChildren(
        h('div.section', services.length ? services.map((s) => h('button.row.chevron', {
          type: 'button', dataset: { service: s.id }, onclick: () => serviceScreen(s),
        }, h('span.grow', h('span.title', s.name),
          h('span.sub', [duration(s.duration_min), s.capacity > 1 ? t('class_up_to', { n: s.capacity }) : null,
            s.active ? null : t('retired')].filter(Boolean).join(' · '))),
        h('span.end', price(s.price_minor, s.currency)))) : h('p.empty-state', t('no_services'))),
        h('button.btn.block', { type: 'button', id: 'add-service', onclick: () => serviceScreen(null) }, `+ ${t('add_service')}`));
    } catch (error) {
      showProblem(error);
    }
  };
  load();
}

function serviceScreen(service) {
  go('service', (main) => {
    const { form, value } = serviceForm(service);
    main.append(h('h1', service ? t('edit_service') : t('add_service')), form);
    if (service?.active) {
      main.append(h('button.btn.danger.block', {
        type: 'button',
        onclick: confirmed(t('retire_confirm', { name: service.name }),
          () => api('DELETE', `/api/provider/services/${service.id}`), back),
      }, t('retire_service')));
    }
    saveButton(t('save'), form, () => (service
      ? api('PATCH', `/api/provider/services/${service.id}`, value())
      : api('POST', '/api/provider/services', value())), back);
  });
}

// ---------------------------------------------------------------- hours

function schedulePanel(body) {
  body.append(h('p.loading', t('loading')));
  api('GET', '/api/provider/schedule').then((schedule) => {
    const { form, value } = scheduleForm(schedule);
    body.replaceChildren(form);
    saveButton(t('save_schedule'), form, () => api('PUT', '/api/provider/schedule', value()));
  }).catch((error) => showProblem(error));
  return () => {};
}

// ---------------------------------------------------------------- clients

function clientsPanel(body) {
  const search = h('input', { type: 'search', name: 'search', placeholder: t('search_clients'), 'aria-label': t('search_clients'), maxLength: 100 });
  const list = h('div.section', { id: 'clients', 'aria-live': 'polite' });
  let timer;
  let latest = 0;
  const load = async () => {
    const request = ++latest;
    try {
      const query = search.value.trim();
      const clients = await api('GET', `/api/provider/clients${query ? `?search=${encodeURIComponent(query)}` : ''}`);
      if (request !== latest) return; // a newer search is on its way
      list.replaceChildren(...(clients.length ? clients.map((c) => h('button.row.chevron', {
        type: 'button', dataset: { client: c.id }, onclick: () => clientScreen(c.id),
      }, h('span.grow', h('span.title', c.name), c.contacts ? h('span.sub', c.contacts) : null))) : [h('p.empty-state', t('no_clients'))]));
    } catch (error) {
      showProblem(error);
    }
  };
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  body.append(h('div.search', search), list,
    h('button.btn.block', { type: 'button', onclick: () => clientScreen(null) }, `+ ${t('add_client')}`));
  load();
  return () => clearTimeout(timer);
}

function clientScreen(id) {
  go('client', (main) => {
    const build = (card) => {
      const name = h('input', { name: 'name', value: card?.name || '', required: true, maxLength: 100 });
      const contacts = h('textarea', { name: 'contacts', rows: 2, maxLength: 500 }, card?.contacts || '');
      const notes = h('textarea', { name: 'notes', rows: 4, maxLength: 2000 }, card?.notes || '');
      const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
        h('div.section', field(t('client_name'), name), field(t('contacts'), contacts), field(t('notes'), notes)));
      main.replaceChildren(...nodes(h('h1', card ? card.name : t('add_client')),
        card?.linked_to_telegram ? h('p.hint', t('telegram_user')) : null,
        card ? h('p.hint', { id: 'client-tally' }, t('client_tally', { visits: card.visit_count, no_shows: card.no_shows }),
          card.last_visit ? ` · ${t('last_visit', { when: dayLabel(wallDate(card.last_visit)) })}` : '') : null,
        card?.blocked ? h('p.notice', { id: 'client-blocked', role: 'status' }, t('client_blocked')) : null,
        card?.erasure_requested_at
          ? h('p.notice', { id: 'erasure-requested', role: 'status' }, t('erasure_requested', { when: dayLabel(wallDate(card.erasure_requested_at)) }))
          : null,
        form));
      if (card) {
        main.append(h('h2', t('visits')), h('div.section', card.visits.length ? card.visits.map((b) => h('div.row',
          h('span.grow', h('span.title', `${dayLabel(wallDate(b.start))}, ${wallTime(b.start)}`), h('span.sub', b.service.name)),
          statusBadge(b.status))) : h('p.empty-state', t('no_visits'))),
        h('button.btn.block', {
          type: 'button', id: 'export-client',
          onclick: () => showExport(`/api/provider/clients/${card.id}/export`, card.name, t('client_export_hint'), `client-${card.id}.json`),
        }, t('export_client')),
        h('button.btn.block', { type: 'button', id: 'book-for-client', onclick: () => bookForScreen(card) }, t('book_for_client')),
        h('button.btn.block', {
          type: 'button', id: 'toggle-block',
          onclick: card.blocked
            ? () => api('PATCH', `/api/provider/clients/${card.id}`, { blocked: false }).then(reload).catch(showProblem)
            : confirmed(t('block_client_confirm', { name: card.name }),
              () => api('PATCH', `/api/provider/clients/${card.id}`, { blocked: true }), reload),
        }, t(card.blocked ? 'unblock_client' : 'block_client')),
        h('button.btn.danger.block', {
          type: 'button',
          onclick: confirmed(t('delete_client_confirm', { name: card.name }),
            () => api('DELETE', `/api/provider/clients/${card.id}`), back),
        }, t('delete_client')));
      }
      saveButton(t('save'), form, () => {
        const fields = { name: name.value.trim(), contacts: contacts.value.trim() || null, notes: notes.value.trim() || null };
        return card ? api('PATCH', `/api/provider/clients/${card.id}`, fields) : api('POST', '/api/provider/clients', fields);
      }, back);
    };
    if (!id) {
      build(null);
      return;
    }
    const reload = () => api('GET', `/api/provider/clients/${id}`).then(build).catch((error) => showProblem(error));
    main.append(h('p.loading', t('loading')));
    reload();
  });
}

/**
 * The provider books for a client: `card` (from the client book), or one
 * typed in when `card` is null (a phone call, a walk-in). Times are the free
 * slots of the chosen day, or — "outside my hours" — any time typed in; the
 * server still refuses an overlap.
 */
function bookForScreen(card) {
  go('book-for', async (main) => {
    main.append(h('p.loading', t('loading')));
    let provider;
    let services;
    try {
      [provider, services] = await Promise.all([api('GET', '/api/provider'), api('GET', '/api/provider/services')]);
    } catch (error) {
      showProblem(error);
      return;
    }
    services = services.filter((s) => s.active);
    const name = h('input', { name: 'client.name', required: true, maxLength: 100 });
    const contacts = h('input', { name: 'client.contacts', maxLength: 500 });
    const service = h('select', { name: 'service' }, services.map((s) => h('option', { value: s.id }, `${s.name} · ${duration(s.duration_min)}`)));
    const date = h('input', { name: 'date', type: 'date', value: localDate(provider.timezone) });
    const slot = h('select', { name: 'start' });
    const outside = h('input', { name: 'outside_hours', type: 'checkbox' });
    const time = h('input', { name: 'time', type: 'time', value: '09:00', step: 300 });
    const timeField = field(t('time_label'), time);
    const note = h('textarea', { name: 'note', rows: 2, maxLength: 500 });
    const loadSlots = async () => {
      slot.replaceChildren(h('option', { value: '' }, t('loading')));
      try {
        const day = date.value;
        const answer = await api('GET', `/api/providers/${provider.slug}/slots?service=${service.value}&from=${day}&to=${day}`);
        slot.replaceChildren(...(answer.slots.length
          ? answer.slots.map((s) => h('option', { value: s.start }, wallTime(s.start)))
          : [h('option', { value: '' }, t('no_slots_day'))]));
      } catch (error) {
        slot.replaceChildren(h('option', { value: '' }, t('no_slots_day')));
        showProblem(error);
      }
    };
    const showTimeInput = () => {
      timeField.hidden = !outside.checked;
      slotField.hidden = outside.checked;
    };
    const slotField = field(t('free_slot'), slot);
    outside.addEventListener('change', showTimeInput);
    service.addEventListener('change', loadSlots);
    date.addEventListener('change', loadSlots);
    const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
      card ? null : h('div.section', field(t('client_name'), name), field(t('contacts'), contacts)),
      h('div.section', field(t('service_label'), service), field(t('date'), date), slotField, timeField,
        h('label.field.check', outside, h('span', t('outside_hours')))),
      h('div.section', field(t('provider_note'), note)));
    main.replaceChildren(h('h1', card ? t('book_for', { name: card.name }) : t('book_new_client')), form);
    showTimeInput();
    if (!services.length) {
      main.append(h('p.empty-state', t('no_services')));
      return;
    }
    loadSlots();
    saveButton(t('book'), form, () => {
      const start = outside.checked ? zonedStart(date.value, time.value, provider.timezone) : slot.value;
      const body = { service: service.value, start, note: note.value.trim() || null, outside_hours: outside.checked };
      if (card) body.client_id = card.id;
      else body.client = { name: name.value.trim(), contacts: contacts.value.trim() || null };
      return api('POST', '/api/provider/bookings', body);
    }, back);
  });
}

// ---------------------------------------------------------------- settings

/** The provider's share link: Telegram's `startapp` link to the Mini App. */
export function shareLink(slug) {
  return settings.bot_username
    ? `https://t.me/${settings.bot_username}?startapp=${encodeURIComponent(slug)}`
    : `${location.origin}/?startapp=${encodeURIComponent(slug)}`;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Older webviews: copy through a selected text field.
    const area = h('textarea', { value: text, style: 'position:fixed;opacity:0' });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  haptic('success');
  toast(t('copied'));
}

function settingsPanel(body) {
  body.append(h('p.loading', t('loading')));
  Promise.all([api('GET', '/api/provider'), api('GET', '/api/me')]).then(([provider, me]) => {
    const link = shareLink(provider.slug);
    const { form, value } = profileForm(provider, me, { withRules: true });
    body.replaceChildren(
      h('h2', t('share_link')),
      h('div.section',
        h('div.link-box', h('code', { id: 'share-link' }, link),
          h('button.btn.primary', { type: 'button', id: 'copy-link', onclick: () => copy(link) }, t('copy'))),
        h('p.hint', { style: 'padding:0 16px 10px' }, t('share_hint')),
        h('button.row.chevron', { type: 'button', id: 'open-page', onclick: () => providerScreen(provider.slug) },
          h('span.grow', t('open_page')))),
      form);
    saveButton(t('save'), form, () => api('PUT', '/api/provider', value()), refresh);
  }).catch((error) => showProblem(error));
}
