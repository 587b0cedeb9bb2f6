// The Mini App's small core: a DOM builder, the API client, Telegram's
// WebApp wrapped (with stand-ins outside Telegram), screen navigation, and
// time formatting. No framework: the whole app is a few kilobytes.

import { t, has, language } from './i18n.js';

export const tg = window.Telegram?.WebApp;
/** Inside a Telegram client: the launch parameters carried signed initData. */
export const insideTelegram = Boolean(tg && tg.initData);

// ---------------------------------------------------------------- DOM

/** `h('button.btn.primary', {onclick}, 'Text', child…)`: one element. */
export function h(tag, props = {}, ...children) {
  if (props === null || typeof props !== 'object' || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && !key.startsWith('aria') && key !== 'list') el[key] = value;
    else if (value !== false) el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of nodes(children)) {
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** `children` without the nulls and falses of conditional parts, for `append`/`replaceChildren` (which would print "null"). */
export function nodes(...children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false);
}

/** A labelled form field; `input` is the control, named for the API field. */
export function field(label, input, hint) {
  return h('label.field', h('span', label), input, hint ? h('small.hint', hint) : null);
}

let toastTimer;
/** A short message; its live region stays in the page so screen readers announce it. */
export function toast(text) {
  const box = document.getElementById('toast');
  box.textContent = text;
  box.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.classList.remove('shown');
    box.textContent = '';
  }, 3200);
}

// ---------------------------------------------------------------- API

let token = sessionStorage.getItem('jbm.token');

export function setToken(value) {
  token = value;
  if (value) sessionStorage.setItem('jbm.token', value);
  else sessionStorage.removeItem('jbm.token');
}

export function sessionToken() {
  return token;
}

/** An API refusal: the problem+json body, with the field it names. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || t('error_status', { status }));
    this.status = status;
    this.field = problem?.field;
    this.type = problem?.type;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** JSON over HTTP with the session token; throws ApiProblem on 4xx/5xx. */
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiProblem(0, { detail: t('error_network') });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const problem = new ApiProblem(response.status, data);
    if (response.status === 401 && token) onUnauthorized(problem);
    throw problem;
  }
  return data;
}

/** Shows a refusal next to the form field it names, or as a toast. */
export function showProblem(error, form) {
  haptic('error');
  form?.querySelectorAll('.field .error').forEach((e) => e.remove());
  form?.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const name = error.field?.split(/[.[]/)[0];
  const input = name && form?.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input) {
    const box = input.closest('.field') || input.parentElement;
    box.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-invalid', 'true');
    const message = h('span.error', { id: `${name}-error` }, problemText(error));
    box.append(message);
    input.setAttribute('aria-describedby', message.id);
    input.focus();
  } else {
    toast(error.status ? t('error_generic', { detail: problemText(error) }) : error.message);
  }
}

/** The refusal in the interface language where we know its kind, else the server's words. */
export function problemText(error) {
  const kind = String(error.type || '').split('/').pop();
  const key = `problem_${kind.replaceAll('-', '_')}`;
  return kind && has(key) ? t(key) : error.message;
}

// ---------------------------------------------------------------- Telegram

/** Selection ticks, success/error buzzes: Telegram's HapticFeedback. */
export function haptic(kind = 'selection') {
  const feedback = tg?.HapticFeedback;
  if (!feedback || !tg.isVersionAtLeast?.('6.1')) return;
  if (kind === 'selection') feedback.selectionChanged();
  else if (kind === 'light') feedback.impactOccurred('light');
  else feedback.notificationOccurred(kind);
}

/** Asks yes/no with Telegram's native popup (a browser dialog outside it). */
export function confirmAction(message) {
  if (insideTelegram && tg.isVersionAtLeast('6.2')) {
    return new Promise((resolve) => tg.showConfirm(message, resolve));
  }
  return Promise.resolve(window.confirm(message));
}

/**
 * An onclick for a destructive action: asks `question` (Telegram's popup),
 * runs `request`, then buzzes and calls `then`; a refusal shows as a toast.
 */
export function confirmed(question, request, then) {
  return async () => {
    if (!(await confirmAction(question))) return;
    try {
      await request();
      haptic('success');
      then();
    } catch (error) {
      showProblem(error);
    }
  };
}

let mainHandler = null;
const fallbackBar = () => document.getElementById('fallback-main');
const fallbackButton = () => document.getElementById('fallback-main-button');

/**
 * The screen's main action on Telegram's MainButton (a bottom bar of ours
 * outside Telegram). `run` may be async: the button shows progress meanwhile
 * and ignores presses, so one tap is one request.
 */
export function mainButton(text, run, { enabled = true, owner = null } = {}) {
  // A button asked for by a screen the user already left is not shown.
  if (owner && !owner.isConnected) return;
  hideMainButton();
  let busy = false;
  mainHandler = async () => {
    if (busy) return;
    busy = true;
    setMainProgress(true);
    try {
      await run();
    } finally {
      busy = false;
      setMainProgress(false);
    }
  };
  if (insideTelegram) {
    tg.MainButton.setParams({ text, is_active: enabled, is_visible: true });
    tg.MainButton.onClick(mainHandler);
  } else {
    const button = fallbackButton();
    button.textContent = text;
    button.disabled = !enabled;
    button.onclick = mainHandler;
    fallbackBar().hidden = false;
  }
}

function setMainProgress(on) {
  if (insideTelegram) {
    if (on) tg.MainButton.showProgress(false);
    else tg.MainButton.hideProgress();
  } else {
    fallbackButton().disabled = on;
    fallbackButton().setAttribute('aria-busy', String(on));
  }
}

/**
 * The MainButton saves `form`: `request()` sends it; on success a buzz, a
 * "Saved" toast and `then()`; a refusal shows next to the field it names.
 */
export function saveButton(text, form, request, then = () => {}) {
  mainButton(text, async () => {
    try {
      await request();
      haptic('success');
      toast(t('saved'));
      if (form.isConnected) then();
    } catch (error) {
      showProblem(error, form);
    }
  }, { owner: form });
}

export function hideMainButton() {
  if (insideTelegram) {
    if (mainHandler) tg.MainButton.offClick(mainHandler);
    tg.MainButton.hide();
  } else {
    fallbackBar().hidden = true;
    fallbackButton().onclick = null;
  }
  mainHandler = null;
}

export function applyTheme() {
  if (!tg) return;
  const root = document.documentElement;
  if (insideTelegram) root.dataset.telegram = '';
  root.dataset.scheme = tg.colorScheme || 'light';
  // Scrolling the day strip or a long form must not swipe the app closed.
  if (insideTelegram && tg.isVersionAtLeast('7.7')) tg.disableVerticalSwipes();
  const bg = tg.themeParams?.secondary_bg_color;
  if (insideTelegram && bg && tg.isVersionAtLeast('6.1')) {
    tg.setBackgroundColor('secondary_bg_color');
    tg.setHeaderColor('secondary_bg_color');
  }
}

// ---------------------------------------------------------------- screens

const stack = [];
let cleanup = null;

/**
 * Shows a screen: `render(screen)` fills a fresh container inside `<main>`
 * and may return a cleanup function (closing sockets, timers). Answers that
 * arrive after the user moved on land in the old, detached container and
 * change nothing (check `screen.isConnected` before navigating). Telegram's
 * BackButton pops the stack.
 */
export function go(name, render, { replace = false, root = false } = {}) {
  if (stack.length) stack[stack.length - 1].scrollY = window.scrollY;
  if (root) stack.length = 0;
  else if (replace) stack.pop();
  stack.push({ name, render, scrollY: 0 });
  show();
}

export function back() {
  if (stack.length < 2) return;
  stack.pop();
  haptic('light');
  show();
}

/** Re-renders the current screen (after a change it shows). */
export function refresh() {
  stack[stack.length - 1].scrollY = window.scrollY;
  show();
}

function show() {
  const { name, render, scrollY } = stack[stack.length - 1];
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  hideMainButton();
  const main = document.getElementById('app');
  const screen = h('div.screen');
  main.replaceChildren(screen);
  main.dataset.screen = name;
  const canGoBack = stack.length > 1;
  if (insideTelegram && tg.isVersionAtLeast('6.1')) {
    if (canGoBack) tg.BackButton.show();
    else tg.BackButton.hide();
  }
  cleanup = render(screen);
  const heading = screen.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  // Coming back, the list is where the user left it (once it has loaded).
  window.scrollTo(0, 0);
  if (scrollY) setTimeout(() => window.scrollTo(0, scrollY), 150);
}

export function installBackButton() {
  if (insideTelegram && tg.isVersionAtLeast('6.1')) tg.BackButton.onClick(back);
  window.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && stack.length > 1) back();
  });
}

// ---------------------------------------------------------------- time

/** `YYYY-MM-DD` of `instant` in `timeZone`. */
export function localDate(timeZone, instant = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

/** The date `days` after a `YYYY-MM-DD` date. */
export function addDays(date, days) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * RFC 3339 for the wall time `time` (`HH:MM`) on `date` in `timeZone`, with
 * that zone's offset at that moment (DST included), as the API wants a start.
 */
export function zonedStart(date, time, timeZone) {
  const offsetAt = (ms) => {
    const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(ms)).find((part) => part.type === 'timeZoneName')?.value || 'GMT';
    const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
    return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] || 0)) : 0;
  };
  const [y, m, d] = date.split('-').map(Number);
  const [hours, minutes] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hours, minutes);
  // The offset at the instant the wall time names: one correction settles it.
  const offset = offsetAt(wall - offsetAt(wall) * 60000);
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date}T${pad(hours)}:${pad(minutes)}:00${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The wall time `HH:MM` of an RFC 3339 time with the provider's offset. */
export function wallTime(rfc3339) {
  return rfc3339.slice(11, 16);
}

/** The local date of an RFC 3339 time with the provider's offset. */
export function wallDate(rfc3339) {
  return rfc3339.slice(0, 10);
}

/** "Tue 1 Jun" for a `YYYY-MM-DD` date, in the interface language. */
export function dayLabel(date, options = { weekday: 'short', day: 'numeric', month: 'short' }) {
  return new Intl.DateTimeFormat(language(), { ...options, timeZone: 'UTC' }).format(new Date(`${date}T12:00:00Z`));
}

/** "Tue 1 Jun, 10:00" for an RFC 3339 time in the provider's offset. */
export function whenLabel(rfc3339) {
  return `${dayLabel(wallDate(rfc3339))}, ${wallTime(rfc3339)}`;
}

/**
 * An instant the server writes in UTC (a deadline) as the provider's wall
 * time in `timeZone`: `HH:MM` today there, else "Tue 1 Jun, 10:00".
 */
export function zonedLabel(rfc3339, timeZone) {
  const instant = new Date(rfc3339);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit',
  }).formatToParts(instant).map((p) => [p.type, p.value]));
  const time = `${parts.hour}:${parts.minute}`;
  const date = localDate(timeZone, instant);
  return date === localDate(timeZone) ? time : `${dayLabel(date)}, ${time}`;
}

/** The IANA zone this device's clock follows, or null if the browser will not say. */
export function deviceZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/** "Berlin" for `Europe/Berlin`, "New York" for `America/New_York`. */
export function placeName(zone) {
  return String(zone || '').split('/').pop().replace(/_/g, ' ');
}

/**
 * This device's wall clock at an RFC 3339 time in the provider's offset,
 * `{date, time}`, or null when it shows the same date and time as the
 * provider's. Wall times are compared, not zone names (a Parisian booking in
 * Berlin sees one time), and Intl converts with each zone's own DST rules at
 * that very instant (Berlin and New York are 5 h apart for the March weeks
 * when only the US has moved its clocks, 6 h otherwise).
 */
export function deviceWall(rfc3339, zone = deviceZone()) {
  if (!zone) return null;
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(rfc3339));
  } catch {
    return null;
  }
  const part = Object.fromEntries(parts.map(({ type, value }) => [type, value]));
  const date = `${part.year}-${part.month}-${part.day}`;
  const time = `${part.hour}:${part.minute}`;
  return date === wallDate(rfc3339) && time === wallTime(rfc3339) ? null : { date, time };
}

/**
 * The device's wall time for `deviceWall`'s answer, as "11:00 your time";
 * with its date when that is another day than the provider's.
 */
export function yourTime(rfc3339, mine) {
  return t('your_time', { time: yourClock(rfc3339, mine) });
}

function yourClock(rfc3339, mine) {
  return mine.date === wallDate(rfc3339) ? mine.time : `${dayLabel(mine.date)}, ${mine.time}`;
}

/**
 * A start as the client reads it, as text: "Tue 1 Jun, 10:00", or, when the
 * device's clock differs then, "Tue 1 Jun, 10:00 Berlin · 11:00 your time";
 * `short` (for the MainButton, which cuts long labels off): "Tue 1 Jun,
 * 10:00 (11:00 yours)", the screen above saying whose the first time is.
 */
export function whenText(rfc3339, providerZone, { short = false } = {}) {
  const mine = deviceWall(rfc3339);
  if (!mine) return whenLabel(rfc3339);
  if (short) return `${whenLabel(rfc3339)} (${t('your_time_short', { time: yourClock(rfc3339, mine) })})`;
  const theirs = t('zone_time', { time: whenLabel(rfc3339), place: placeName(providerZone) });
  return `${theirs} · ${yourTime(rfc3339, mine)}`;
}

/**
 * The same as nodes: the provider's time, and the device's (if it differs)
 * smaller and in the hint colour, so the provider's time stays the one to read.
 */
export function whenNodes(rfc3339, providerZone) {
  const mine = deviceWall(rfc3339);
  if (!mine) return [whenLabel(rfc3339)];
  return [t('zone_time', { time: whenLabel(rfc3339), place: placeName(providerZone) }),
    h('span.your-time', ` · ${yourTime(rfc3339, mine)}`)];
}

/**
 * A waitlist entry's window as read aloud: "10:00–12:00", "from 10:00",
 * "until 12:00", or "any time" when it has neither end (the whole day).
 */
export function windowLabel(from, to) {
  if (from && to) return `${from}–${to}`;
  if (from) return t('waitlist_after', { from });
  if (to) return t('waitlist_before', { to });
  return t('waitlist_any_time');
}

/** A class's seats (`seats_left`, on class slots only) as text: "3 of 8 seats left", or "Full". */
export function seatsLabel(slot, capacity) {
  return slot.seats_left === 0 ? t('class_full') : t('seats_left', { n: slot.seats_left, capacity });
}

export function price(minor, currency) {
  if (minor === null || minor === undefined) return '';
  if (!currency) return (minor / 100).toFixed(2);
  try {
    return new Intl.NumberFormat(language(), { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** "2 h", "30 min", "1 d" for a number of minutes. */
export function duration(minutes) {
  const ru = language() === 'ru';
  if (minutes === 0) return t('minutes', { n: 0 });
  if (minutes % 1440 === 0) return `${minutes / 1440} ${ru ? 'дн' : 'd'}`;
  if (minutes % 60 === 0) return `${minutes / 60} ${ru ? 'ч' : 'h'}`;
  return t('minutes', { n: minutes });
}

export function statusBadge(status) {
  return h(`span.badge.${status}`, t(`status_${status}`));
}
