// Forms the provider fills in, each shared by onboarding and the workspace:
// profile + booking rules, a service, and the weekly hours with breaks, days
// off and date overrides. Each returns its element and a `value()` that is
// the API's request body.

import { t, language } from './i18n.js';
import { h, field } from './core.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

function input(name, value, props = {}) {
  return h('input', { name, id: `f-${name}`, value: value ?? '', ...props });
}

function zones(selected) {
  let names = [];
  try { names = Intl.supportedValuesOf('timeZone'); } catch { names = []; }
  if (selected && !names.includes(selected)) names = [selected, ...names];
  return names.map((zone) => h('option', { value: zone, selected: zone === selected }, zone.replaceAll('_', ' ')));
}

/** A slug suggestion from the Telegram username or a random one. */
export function suggestSlug(user) {
  const base = String(user?.username || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return base.length >= 3 ? base.slice(0, 32) : `book-${Math.floor(1000 + Math.random() * 9000)}`;
}

/** Profile fields (and, with `withRules`, the booking rules). */
export function profileForm(provider, user, { withRules = false } = {}) {
  const zone = provider?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const slug = input('slug', provider?.slug || suggestSlug(user), {
    required: true, minLength: 3, maxLength: 32, pattern: '[a-z0-9]+(-[a-z0-9]+)*', autocapitalize: 'off', spellcheck: false,
  });
  const slugHint = h('small.hint');
  const updateHint = () => { slugHint.textContent = t('slug_hint', { slug: slug.value }); };
  slug.addEventListener('input', updateHint);
  updateHint();
  const fields = {
    display_name: input('display_name', provider?.display_name || [user?.first_name, user?.last_name].filter(Boolean).join(' '),
      { required: true, maxLength: 100, autocomplete: 'name' }),
    business_name: input('business_name', provider?.business_name, { maxLength: 100 }),
    contacts: h('textarea', { name: 'contacts', id: 'f-contacts', maxLength: 500, rows: 2, placeholder: t('contacts_hint') },
      provider?.contacts || ''),
    timezone: h('select', { name: 'timezone', id: 'f-timezone' }, zones(zone)),
    slug,
  };
  const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('h2', t('profile')),
    h('div.section',
      field(t('display_name'), fields.display_name),
      field(t('business_name'), fields.business_name),
      field(t('contacts'), fields.contacts),
      field(t('timezone'), fields.timezone),
      h('label.field', h('span', t('slug')), slug, slugHint)));
  const rules = {};
  if (withRules) {
    rules.slot_step_min = input('slot_step_min', provider?.slot_step_min ?? 30, { type: 'number', min: 5, max: 240, step: 5, inputMode: 'numeric' });
    rules.min_notice_min = input('min_notice_min', provider?.min_notice_min ?? 60, { type: 'number', min: 0, inputMode: 'numeric' });
    rules.horizon_days = input('horizon_days', provider?.horizon_days ?? 30, { type: 'number', min: 1, max: 365, inputMode: 'numeric' });
    rules.cancel_cutoff_min = input('cancel_cutoff_min', provider?.cancel_cutoff_min ?? 120, { type: 'number', min: 0, inputMode: 'numeric' });
    rules.requires_confirmation = h('input', { type: 'checkbox', name: 'requires_confirmation', id: 'f-requires_confirmation',
      checked: Boolean(provider?.requires_confirmation) });
    // Empty (or 0): no deadline; requests wait until answered.
    rules.confirm_within_min = input('confirm_within_min', provider?.confirm_within_min ?? '',
      { type: 'number', min: 0, max: 10080, step: 5, inputMode: 'numeric', placeholder: t('confirm_within_off') });
    rules.morning_digest = h('input', { type: 'checkbox', name: 'morning_digest', id: 'f-morning_digest',
      checked: Boolean(provider?.morning_digest) });
    rules.reminder_offsets_min = input('reminder_offsets_min',
      (provider?.reminder_offsets_min ?? [1440, 120]).map((m) => +(m / 60).toFixed(2)).join('; '), { inputMode: 'decimal' });
    form.append(h('h2', t('rules')), h('div.section',
      field(t('slot_step'), rules.slot_step_min),
      field(t('min_notice'), rules.min_notice_min),
      field(t('horizon'), rules.horizon_days),
      field(t('cancel_cutoff'), rules.cancel_cutoff_min),
      h('label.field.check', h('span', t('requires_confirmation')), rules.requires_confirmation),
      field(t('confirm_within'), rules.confirm_within_min, t('confirm_within_hint')),
      field(t('reminders'), rules.reminder_offsets_min),
      h('label.field.check', h('span', t('morning_digest')), rules.morning_digest)));
  }
  const optional = (el) => el.value.trim() || null;
  const value = () => {
    const body = {
      slug: fields.slug.value.trim(),
      display_name: fields.display_name.value.trim(),
      business_name: optional(fields.business_name),
      contacts: optional(fields.contacts),
      timezone: fields.timezone.value,
    };
    if (withRules) {
      body.slot_step_min = Number(rules.slot_step_min.value);
      body.min_notice_min = Number(rules.min_notice_min.value);
      body.horizon_days = Number(rules.horizon_days.value);
      body.cancel_cutoff_min = Number(rules.cancel_cutoff_min.value);
      body.requires_confirmation = rules.requires_confirmation.checked;
      body.confirm_within_min = Number(rules.confirm_within_min.value.trim() || 0);
      body.morning_digest = rules.morning_digest.checked;
      // "24; 2" or "24, 2"; a comma with no space after it is a decimal comma ("1,5").
      body.reminder_offsets_min = rules.reminder_offsets_min.value.replace(/,\s+/g, ' ').split(/[;\s]+/).filter(Boolean)
        .map((hours) => Math.round(Number(hours.replace(',', '.')) * 60));
    } else if (provider) {
      for (const key of ['slot_step_min', 'min_notice_min', 'horizon_days', 'cancel_cutoff_min', 'requires_confirmation',
        'reminder_offsets_min']) body[key] = provider[key];
    }
    return body;
  };
  return { form, value };
}

function defaultCurrency() {
  return language() === 'ru' ? 'RUB' : 'EUR';
}

/** A service's fields; `value()` is the POST body (or PATCH body when editing). */
export function serviceForm(service) {
  const fields = {
    name: input('name', service?.name, { required: true, maxLength: 100 }),
    duration_min: input('duration_min', service?.duration_min ?? 60, { type: 'number', min: 5, max: 1440, step: 5, inputMode: 'numeric' }),
    price: input('price_minor', service?.price_minor != null ? service.price_minor / 100 : '', { type: 'number', min: 0, step: '0.01', inputMode: 'decimal' }),
    currency: input('currency', service?.currency || defaultCurrency(), { maxLength: 3, autocapitalize: 'characters', size: 3 }),
    buffer_before_min: input('buffer_before_min', service?.buffer_before_min ?? 0, { type: 'number', min: 0, max: 240, inputMode: 'numeric' }),
    buffer_after_min: input('buffer_after_min', service?.buffer_after_min ?? 0, { type: 'number', min: 0, max: 240, inputMode: 'numeric' }),
    // Above 1 the service is a class: that many clients book one start, each a seat.
    capacity: input('capacity', service?.capacity ?? 1, { type: 'number', min: 1, max: 500, step: 1, inputMode: 'numeric' }),
  };
  const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('div.section',
      field(t('service_name'), fields.name),
      field(t('duration_min'), fields.duration_min),
      field(t('price'), fields.price),
      field(t('currency'), fields.currency),
      field(t('buffer_before'), fields.buffer_before_min),
      field(t('buffer_after'), fields.buffer_after_min),
      field(t('capacity_label'), fields.capacity, t('capacity_hint'))));
  const value = () => {
    const priced = fields.price.value.trim() !== '';
    return {
      name: fields.name.value.trim(),
      duration_min: Number(fields.duration_min.value),
      price_minor: priced ? Math.round(Number(fields.price.value) * 100) : null,
      currency: priced ? fields.currency.value.trim().toUpperCase() || null : null,
      buffer_before_min: Number(fields.buffer_before_min.value || 0),
      buffer_after_min: Number(fields.buffer_after_min.value || 0),
      capacity: Number(fields.capacity.value || 1),
    };
  };
  return { form, value };
}

// A time input cannot hold 24:00 (the end of the day, which the API allows):
// it shows 00:00 as an end, and an end of 00:00 is read back as 24:00.
function timeInput(name, value, label) {
  return h('input', { type: 'time', name, value: value === '24:00' ? '00:00' : value, step: 300, 'aria-label': label, required: true });
}

/** One from–to interval; `label` (a weekday, "date") names its inputs for screen readers. */
function intervalRow(prefix, interval, label) {
  const row = h('div.interval',
    timeInput(`start-${prefix}`, interval.start, `${label}: ${t('from')}`),
    h('span', { 'aria-hidden': 'true' }, '–'),
    timeInput(`end-${prefix}`, interval.end, `${label}: ${t('to')}`),
    h('button.icon-btn', { type: 'button', 'aria-label': `${label}: ${t('remove')}`, onclick: () => row.remove() }, '×'));
  return row;
}

function readIntervals(box) {
  return [...box.querySelectorAll('.interval')].map((row) => {
    const [start, end] = row.querySelectorAll('input');
    return { start: start.value, end: end.value === '00:00' ? '24:00' : end.value };
  });
}

const minutesOf = (hhmm) => { const [hh, mm] = hhmm.split(':').map(Number); return hh * 60 + mm; };
const hhmm = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * "Add a break": cuts an hour out of the middle of the day's last interval
 * (10:00–19:00 → 10:00–14:00 and 15:00–19:00); a short last interval gets
 * a new one after it instead. The times stay editable.
 */
function addBreak(box, weekday, label) {
  const rows = box.querySelectorAll('.interval');
  const last = rows[rows.length - 1];
  if (!last) {
    box.append(intervalRow(weekday, { start: '10:00', end: '19:00' }, label));
    return;
  }
  const [startInput, endInput] = last.querySelectorAll('input');
  const start = minutesOf(startInput.value);
  const end = minutesOf(endInput.value);
  if (end - start >= 180) {
    const middle = start + Math.floor((end - start - 60) / 60) * 30;
    endInput.value = hhmm(middle);
    box.append(intervalRow(weekday, { start: hhmm(middle + 60), end: hhmm(end) }, label));
  } else {
    const next = Math.min(end + 60, 22 * 60);
    box.append(intervalRow(weekday, { start: hhmm(next), end: hhmm(Math.min(next + 180, 23 * 60 + 55)) }, label));
  }
}

/**
 * The weekly hours (several intervals a day: the gaps are breaks) and the
 * dated exceptions (a day off, or other hours on that date).
 */
export function scheduleForm(schedule, { withOverrides = true } = {}) {
  // Suggested hours only for a new provider: a saved week with no hours is
  // a choice (special dates only, a holiday) and must stay closed.
  const weekly = schedule ? schedule.weekly
    : [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '10:00', end: '19:00' }));
  const days = WEEKDAYS.map((weekday) => {
    const intervals = weekly.filter((w) => w.weekday === weekday).map(({ start, end }) => ({ start, end }));
    const lower = new Intl.DateTimeFormat(language(), { weekday: 'long', timeZone: 'UTC' })
      .format(new Date(Date.UTC(2024, 0, weekday))); // 2024-01-01 was a Monday
    const name = lower.charAt(0).toUpperCase() + lower.slice(1); // Russian names come in lower case
    const box = h('div');
    const add = h('button.link-btn', { type: 'button', 'aria-label': `${name}: ${t('add_interval')}`,
      onclick: () => addBreak(box, weekday, name) }, `+ ${t('add_interval')}`);
    const open = h('input', { type: 'checkbox', name: `day-${weekday}`, checked: intervals.length > 0,
      onchange: () => {
        if (open.checked && !box.children.length) box.append(intervalRow(weekday, { start: '10:00', end: '19:00' }, name));
        box.hidden = !open.checked;
        add.hidden = !open.checked;
      } });
    intervals.forEach((interval) => box.append(intervalRow(weekday, interval, name)));
    box.hidden = !open.checked;
    add.hidden = !open.checked;
    const row = h('div.weekday', { dataset: { weekday } }, h('div.weekday-head', h('label', open, h('span', name))), box, add);
    return { weekday, open, box, row };
  });

  const overridesBox = h('div');
  const addOverride = (o = { date: '', closed: true, intervals: [] }) => {
    const intervals = h('div');
    const closed = h('input', { type: 'checkbox', name: 'override-closed', checked: o.closed,
      onchange: () => {
        if (!closed.checked && !intervals.children.length) intervals.append(intervalRow('override', { start: '10:00', end: '15:00' }, t('date')));
        intervals.hidden = closed.checked;
      } });
    const date = h('input', { type: 'date', name: 'override-date', value: o.date, required: true, 'aria-label': t('date') });
    o.intervals.forEach((i) => intervals.append(intervalRow('override', i, o.date || t('date'))));
    intervals.hidden = o.closed;
    const row = h('div.weekday.override',
      h('div.weekday-head', date,
        h('label', closed, h('span', t('closed'))),
        h('button.icon-btn', { type: 'button', 'aria-label': `${o.date || t('date')}: ${t('remove')}`, onclick: () => row.remove() },
          '×')),
      intervals);
    overridesBox.append(row);
    return row;
  };
  (schedule?.overrides || []).forEach((o) => addOverride(o));

  const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('h2', t('weekly')), h('div.section', days.map((d) => d.row)), h('p.hint', t('hours_hint')));
  if (withOverrides) {
    form.append(h('h2', t('overrides')), h('div.section', overridesBox,
      h('div.actions', { style: 'padding-top:12px' },
        h('button.btn.override-add', { type: 'button', onclick: () => addOverride().querySelector('input')?.focus() },
          `+ ${t('add_override')}`))),
    h('p.hint', t('overrides_hint')));
  }
  const value = () => ({
    weekly: days.filter((d) => d.open.checked)
      .flatMap((d) => readIntervals(d.box).map(({ start, end }) => ({ weekday: d.weekday, start, end }))),
    overrides: [...overridesBox.querySelectorAll('.override')].map((row) => {
      const closed = row.querySelector('[name="override-closed"]').checked;
      return {
        date: row.querySelector('[name="override-date"]').value,
        closed,
        intervals: closed ? [] : readIntervals(row),
      };
    }),
  });
  return { form, value };
}
