// The provider's figures (GET /api/provider/stats): a few numbers, bar
// charts drawn as SVG in Telegram's theme colours (no chart library), and
// the services by bookings. Ranges: the last 4 weeks, 12 weeks or a year.

import { t } from './i18n.js';
import { h, api, localDate, addDays, dayLabel, price, showProblem } from './core.js';

const RANGES = { weeks4: 27, weeks12: 83, year: 364 };
let range = 'weeks12';

// SVG's namespace, as the HTML parser gives it: spelled out it would be the
// one URL of another host in our assets (third_parties.rs checks there is none).
const SVG = (() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<svg></svg>';
  return probe.firstChild.namespaceURI;
})();

/** An SVG element with attributes. */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/**
 * A bar chart of `values` with `labels` under every `labelEvery`-th bar;
 * `title` is its accessible name (the numbers are in the description).
 */
function barChart(id, title, values, labels, labelEvery = 1) {
  const width = 340;
  const height = 150;
  const bottom = 22;
  const top = 14;
  const max = Math.max(1, ...values);
  const step = width / values.length;
  const bar = Math.max(2, step * 0.7);
  const chart = svg('svg', {
    id, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart',
  }, svg('desc', {}, values.map((v, i) => `${labels[i]}: ${v}`).join(', ')));
  values.forEach((value, i) => {
    const barHeight = ((height - bottom - top) * value) / max;
    const x = i * step + (step - bar) / 2;
    chart.append(svg('rect', {
      class: 'bar', x: x.toFixed(1), y: (height - bottom - barHeight).toFixed(1), width: bar.toFixed(1),
      height: Math.max(value ? 1 : 0, barHeight).toFixed(1), rx: 2, 'data-value': value,
    }));
    if (value && value === max) {
      chart.append(svg('text', { class: 'chart-value', x: (x + bar / 2).toFixed(1), y: (height - bottom - barHeight - 3).toFixed(1), 'text-anchor': 'middle' }, String(value)));
    }
    if (i % labelEvery === 0) {
      // Kept inside the box: a label centred on the last bar would be cut.
      const centre = Math.min(width - 18, Math.max(18, i * step + step / 2));
      chart.append(svg('text', { class: 'chart-label', x: centre.toFixed(1), y: height - 6, 'text-anchor': 'middle' }, labels[i]));
    }
  });
  chart.append(svg('line', { class: 'axis', x1: 0, x2: width, y1: height - bottom + 0.5, y2: height - bottom + 0.5 }));
  return chart;
}

function tile(label, value, id) {
  return h('div.tile', { id }, h('span.tile-value', value), h('span.tile-label', label));
}

/** The Figures tab of the workspace. */
export function statsPanel(body) {
  const toggle = h('div.tabs', { role: 'group', 'aria-label': t('tab_stats') }, Object.keys(RANGES).map((name) => h('button.tab', {
    type: 'button', dataset: { statsRange: name }, 'aria-pressed': String(name === range),
    onclick: () => {
      range = name;
      toggle.querySelectorAll('.tab').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.statsRange === name)));
      load();
    },
  }, t(`stats_${name}`))));
  const content = h('div', { id: 'stats' }, h('p.loading', t('loading')));
  body.append(toggle, content);
  let latest = 0;
  const load = async () => {
    const request = ++latest;
    try {
      const provider = await api('GET', '/api/provider');
      const to = localDate(provider.timezone);
      const from = addDays(to, -RANGES[range]);
      const figures = await api('GET', `/api/provider/stats?from=${from}&to=${to}`);
      if (request === latest) render(figures);
    } catch (error) {
      if (content.isConnected) showProblem(error);
    }
  };
  const render = (f) => {
    const rate = f.no_show_rate === null ? '—' : `${Math.round(f.no_show_rate * 100)}%`;
    const revenue = f.currency ? price(f.revenue_minor, f.currency) : '—';
    const weekLabels = f.by_week.map((w) => dayLabel(w.week, { day: 'numeric', month: 'short' }));
    const weekdays = [0, 1, 2, 3, 4, 5, 6].map((d) => dayLabel(addDays('2027-01-04', d), { weekday: 'short' }));
    const firstHour = Math.min(8, ...f.by_hour.map((n, hour) => (n ? hour : 24)));
    const lastHour = Math.max(20, ...f.by_hour.map((n, hour) => (n ? hour : 0)));
    const hours = f.by_hour.slice(firstHour, lastHour + 1);
    content.replaceChildren(
      h('div.tiles',
        tile(t('stats_bookings'), String(f.bookings), 'stats-bookings'),
        tile(t('stats_completed'), String(f.completed), 'stats-completed'),
        tile(t('stats_cancelled'), String(f.cancelled), 'stats-cancelled'),
        tile(t('stats_no_show_rate'), rate, 'stats-no-show-rate'),
        tile(t('stats_revenue'), revenue, 'stats-revenue')),
      h('h2', t('stats_by_week')),
      h('div.section.chart-box', barChart('chart-weeks', t('stats_by_week'), f.by_week.map((w) => w.bookings), weekLabels,
        Math.ceil(f.by_week.length / 6))),
      h('h2', t('stats_by_weekday')),
      h('div.section.chart-box', barChart('chart-weekdays', t('stats_by_weekday'), f.by_weekday, weekdays)),
      h('h2', t('stats_by_hour')),
      h('div.section.chart-box', barChart('chart-hours', t('stats_by_hour'), hours, hours.map((_, i) => String(firstHour + i)), 2)),
      h('h2', t('stats_by_service')),
      h('div.section', f.by_service.length ? f.by_service.map((s) => h('div.row',
        h('span.grow', h('span.title', s.name), h('span.sub', t('stats_n_bookings', { n: s.bookings }))),
        h('span.end', s.currency ? price(s.revenue_minor, s.currency) : ''))) : h('p.empty-state', t('agenda_empty'))),
    );
  };
  load();
}
