// Start-up: sign in (Telegram's initData, or the dev sign-in outside
// Telegram when the server allows it, or an "open in Telegram" page), then
// open the provider page the link named, or the home screen.

import { t, setLanguage } from './i18n.js';
import {
  h, nodes, api, go, tg, insideTelegram, setToken, sessionToken, whenUnauthorized, applyTheme, installBackButton, haptic,
  mainButton, showProblem, deviceZone,
} from './core.js';
import { providerScreen, myBookingsScreen } from './client.js';
import { onboardingScreen, workspaceScreen, useSettings } from './provider.js';
import { privacyScreen, policyNotice } from './account.js';
import { listenForOffers } from './offers.js';

/**
 * The provider the app was opened for: Telegram's start parameter
 * (`t.me/<bot>?startapp=<slug>`: `start_param` in initData, and
 * `tgWebAppStartParam` on the URL), or `?startapp=` on a plain URL (the bot's
 * own `/start <slug>` button and browsers use that).
 */
function startParameter() {
  const fromTelegram = tg?.initDataUnsafe?.start_param;
  const query = new URLSearchParams(location.search);
  const fromUrl = query.get('tgWebAppStartParam') || query.get('startapp');
  const slug = (fromTelegram || fromUrl || '').trim().toLowerCase();
  return /^[a-z0-9-]{3,32}$/.test(slug) ? slug : null;
}

/**
 * An id beside `startapp` from a bot button: `service` opens that service's
 * slots ("Book again" after a visit), `reschedule` that booking's move (the
 * reminder's "Reschedule").
 */
function idParameter(name) {
  const id = new URLSearchParams(location.search).get(name) || '';
  return /^[0-9a-f-]{36}$/i.test(id) ? id.toLowerCase() : null;
}

/**
 * The start a waitlist offer's bot button names beside `startapp` and
 * `service`: unix seconds, digits only. That service's slots open with this
 * start chosen and the MainButton ready to book it.
 */
function startSeconds() {
  const start = new URLSearchParams(location.search).get('start') || '';
  return /^[0-9]{1,12}$/.test(start) ? Number(start) : null;
}

async function signIn(settings) {
  if (insideTelegram) {
    const { token, user } = await api('POST', '/api/auth/telegram', { init_data: tg.initData });
    setToken(token);
    return user;
  }
  if (sessionToken()) {
    try {
      return await api('GET', '/api/me');
    } catch {
      setToken(null);
    }
  }
  if (settings.dev_login) return devSignIn();
  openInTelegram(settings);
  return null;
}

/** Outside Telegram with `DEV_LOGIN=1`: sign in as any test user. */
function devSignIn() {
  return new Promise((resolve) => {
    go('dev-sign-in', (main) => {
      const id = h('input', { name: 'telegram_id', type: 'number', value: String(Math.floor(1e8 + Math.random() * 9e8)), required: true });
      const name = h('input', { name: 'first_name', value: 'Dev', required: true, maxLength: 100 });
      const form = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
        h('div.section',
          h('label.field', h('span', t('dev_telegram_id')), id),
          h('label.field', h('span', t('first_name')), name)));
      main.append(h('h1', t('dev_sign_in_title')), h('p.hint', t('dev_sign_in_body')), form);
      mainButton(t('sign_in'), async () => {
        try {
          const { token, user } = await api('POST', '/api/auth/dev', {
            telegram_id: Number(id.value), first_name: name.value.trim(), language_code: navigator.language,
          });
          setToken(token);
          resolve(user);
        } catch (error) {
          showProblem(error, form);
        }
      });
    }, { root: true });
  });
}

function openInTelegram(settings) {
  go('open-in-telegram', (main) => {
    const slug = startParameter();
    const link = settings.bot_username
      ? `https://t.me/${settings.bot_username}${slug ? `?startapp=${encodeURIComponent(slug)}` : ''}`
      : null;
    main.append(...nodes(
      h('div.center', h('p', { style: 'font-size:3rem;margin:24px 0 0', 'aria-hidden': 'true' }, '✈️')),
      h('h1.center', t('open_in_telegram_title')),
      h('p.center.hint', t('open_in_telegram_body')),
      link ? h('p.center', h('a.btn.primary', { href: link, id: 'open-in-telegram' }, `@${settings.bot_username}`)) : null,
      h('p.center', h('a', { href: '/privacy' }, t('privacy_policy')))));
  }, { root: true });
}

function homeScreen(me) {
  go('home', (main) => {
    main.append(h('h1', t('home_title', { name: me.first_name })), h('p.hint', t('home_sub')));
    const notice = h('div', { id: 'policy-notice' });
    main.append(notice);
    policyNotice(me).then((shown) => { if (shown) notice.replaceChildren(shown); });
    const provider = h('div.section', h('p.loading', { style: 'padding:12px 16px', role: 'status' }, t('loading')));
    main.append(
      h('div.section', h('button.row.chevron', { type: 'button', id: 'my-bookings', onclick: () => myBookingsScreen() },
        h('span.grow', t('my_bookings')))),
      provider,
      h('div.section', h('button.row.chevron', { type: 'button', id: 'privacy', onclick: () => privacyScreen() },
        h('span.grow', t('privacy_and_data')))));
    api('GET', '/api/provider').then(
      () => provider.replaceChildren(h('button.row.chevron', { type: 'button', id: 'workspace', onclick: () => workspaceScreen() },
        h('span.grow', t('workspace')))),
      (error) => {
        if (error.status !== 404) showProblem(error);
        provider.replaceChildren(h('button.row.chevron', { type: 'button', id: 'become-provider', onclick: () => onboardingScreen(me) },
          h('span.grow', h('span.title', t('become_provider')), h('span.sub', t('become_provider_sub')))));
      });
  }, { root: true });
}

/**
 * Telegram tells the server no time zone, so the app tells it the device's
 * (the last one seen wins): the bot's pushes and reminders then show this
 * user's own wall time beside the provider's. In the background; a refusal
 * (a zone the server's tz database lacks) only means the bot shows the
 * provider's time alone.
 */
function rememberZone(me) {
  const zone = deviceZone();
  if (zone && zone !== me.time_zone) api('PATCH', '/api/me', { time_zone: zone }).catch(() => {});
}

async function start() {
  setLanguage(tg?.initDataUnsafe?.user?.language_code || navigator.language);
  applyTheme();
  tg?.onEvent?.('themeChanged', applyTheme);
  installBackButton();
  if (insideTelegram) {
    tg.ready();
    tg.expand();
  }
  whenUnauthorized(() => { setToken(null); location.reload(); });
  let settings = {};
  try {
    settings = await api('GET', '/api/app');
  } catch (error) {
    showProblem(error);
  }
  useSettings(settings);
  let me;
  try {
    me = await signIn(settings);
  } catch (error) {
    go('sign-in-failed', (main) => main.append(h('h1', t('app_name')), h('p.empty-state', t('sign_in_failed', { detail: error.message }))),
      { root: true });
    haptic('error');
    return;
  }
  if (!me) return;
  if (!insideTelegram && me.language_code) setLanguage(me.language_code);
  rememberZone(me);
  // Offers of freed times reach the user on any screen from now on.
  listenForOffers();
  const slug = startParameter();
  const reschedule = idParameter('reschedule');
  if (reschedule) myBookingsScreen({ root: true, reschedule });
  else if (slug) providerScreen(slug, { root: true, service: idParameter('service'), start: startSeconds() });
  else homeScreen(me);
}

start();
