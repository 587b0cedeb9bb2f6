// Privacy and the account's data rights (policy §8): read the policy, get a
// copy of my data, see where I signed in (§2, the access log), correct my
// name, restrict processing, contact support (in the bot chat), delete the
// account.

import { t, has, language } from './i18n.js';
import { h, api, go, haptic, saveButton, confirmed, toast, showProblem, field, setToken, hideMainButton, tg } from './core.js';

export function privacyScreen() {
  go('privacy', (main) => {
    main.append(h('h1', t('privacy_and_data')), h('p.loading', t('loading')));
    api('GET', '/api/me').then((me) => render(main, me)).catch((error) => showProblem(error));
  });
}

function render(main, me) {
  const restricted = h('input', { type: 'checkbox', name: 'processing_restricted', checked: me.processing_restricted,
    onchange: async () => {
      try {
        await api('PATCH', '/api/me', { processing_restricted: restricted.checked });
        haptic('success');
        toast(t('saved'));
      } catch (error) {
        restricted.checked = !restricted.checked;
        showProblem(error);
      }
    } });
  const firstName = h('input', { name: 'first_name', value: me.first_name, maxLength: 100, required: true, autocomplete: 'given-name' });
  const lastName = h('input', { name: 'last_name', value: me.last_name || '', maxLength: 100, autocomplete: 'family-name' });
  const nameForm = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('div.section', field(t('first_name'), firstName), field(t('last_name'), lastName)));

  const version = h('span.sub', { id: 'policy-version' });
  api('GET', '/api/policy').then((policy) => { version.textContent = t('policy_version', { version: policy.version }); })
    .catch(() => {});
  main.replaceChildren(
    h('h1', t('privacy_and_data')),
    h('div.section', h('a.row.chevron', { href: '/privacy', target: '_blank', rel: 'noopener', id: 'privacy-policy-link',
      onclick: (event) => openPolicy(event) }, h('span.grow', h('span.title', t('privacy_policy')), version))),
    h('h2', t('your_rights')),
    h('div.section',
      h('button.row.chevron', { type: 'button', id: 'export-data', onclick: exportData },
        h('span.grow', h('span.title', t('export_data')), h('span.sub', t('export_hint')))),
      h('label.field.check', h('span', t('restrict_processing')), restricted),
      h('p.hint', { style: 'padding:0 16px 10px' }, t('restrict_hint')),
      h('button.row.chevron', { type: 'button', id: 'contact-support', onclick: contactSupport },
        h('span.grow', h('span.title', t('contact_support')), h('span.sub', t('contact_support_hint'))))),
    h('h2', t('signed_in_where')),
    signInsSection(),
    h('h2', t('correct_data')),
    nameForm,
    h('button.btn.danger.block', { type: 'button', id: 'delete-account', onclick: deleteAccount }, t('delete_account')),
  );
  saveButton(t('save'), nameForm,
    () => api('PATCH', '/api/me', { first_name: firstName.value.trim(), last_name: lastName.value.trim() || null }));
}

/**
 * Policy §10: once the policy in force differs from the version this account
 * last acknowledged, a notice (until "OK") on the home screen. Resolves to
 * the notice, or null.
 */
export async function policyNotice(me) {
  let policy;
  try {
    policy = await api('GET', '/api/policy');
  } catch {
    return null;
  }
  if (!me.policy_version_seen || me.policy_version_seen === policy.version) return null;
  const notice = h('div.section.notice', { id: 'policy-updated', role: 'status' },
    h('p', { style: 'padding:12px 16px 0' }, t('policy_updated', { version: policy.version })),
    h('div.actions', { style: 'padding:8px 12px 12px' },
      h('button.btn', { type: 'button', onclick: (event) => openPolicy(event) }, t('read_policy')),
      h('button.btn.primary', { type: 'button', id: 'policy-ack', onclick: async () => {
        try {
          await api('POST', '/api/me/policy-ack');
          notice.remove();
        } catch (error) {
          showProblem(error);
        }
      } }, t('ok'))));
  return notice;
}

/** How many places (address + device + browser + OS) the list shows. */
const PLACES_SHOWN = 10;

/**
 * "Where you signed in": my access log (policy §2), one row per place —
 * the same address, device, browser and OS — with the last time it was used.
 */
function signInsSection() {
  const list = h('div.section', { id: 'access-log' }, h('p.loading', t('loading')));
  api('GET', '/api/me/access-log?limit=1000').then((entries) => {
    const places = new Map();
    for (const entry of entries) {
      const key = [entry.ip, entry.device, entry.browser, entry.os].join('|');
      if (!places.has(key)) places.set(key, entry); // newest first: the first is the latest
    }
    const rows = [...places.values()].slice(0, PLACES_SHOWN).map((entry) => h('div.row.access-entry',
      h('span.grow',
        h('span.title', [deviceLabel(entry.device), entry.browser, entry.os].filter(known).join(' · ')),
        h('span.sub', entry.ip)),
      h('span.end', timeLabel(entry.at))));
    list.replaceChildren(...(rows.length ? rows : [h('p.hint', { style: 'padding:10px 16px' }, t('signed_in_none'))]),
      h('p.hint', { style: 'padding:0 16px 10px' }, t('signed_in_hint')));
  }).catch((error) => {
    list.replaceChildren(h('p.hint', { style: 'padding:10px 16px' }, t('error_generic', { detail: error.message })));
  });
  return list;
}

function known(value) {
  return value && value !== 'unknown';
}

function deviceLabel(device) {
  const key = `device_${device}`;
  return has(key) ? t(key) : device;
}

/** "2 Dec, 15:40" in the device's own time zone. */
function timeLabel(rfc3339) {
  return new Intl.DateTimeFormat(language(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })
    .format(new Date(rfc3339));
}

/** The policy, shown in the app (a Telegram webview has no tabs to open). */
function openPolicy(event) {
  event.preventDefault();
  go('privacy-policy', (main) => {
    const text = h('pre.policy', t('loading'));
    main.append(h('h1', t('privacy_policy')), h('div.section', text));
    fetch('/privacy').then((r) => r.text()).then((body) => { text.textContent = body; })
      .catch(() => { text.textContent = t('error_network'); });
  });
}

/**
 * My data, shown in the app: Telegram's webviews often ignore file
 * downloads, so the JSON is on screen to copy, with a download link beside.
 */
async function exportData() {
  await showExport('/api/me/export', t('export_title'), t('export_hint'), 'just-book-me-export.json');
}

/** A JSON export on screen (`path`), to copy or to download as `filename`. */
export async function showExport(path, title, hint, filename) {
  let data;
  try {
    data = await api('GET', path);
  } catch (error) {
    showProblem(error);
    return;
  }
  const text = JSON.stringify(data, null, 2);
  go('export', (main) => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    main.append(
      h('h1', title),
      h('p.hint', hint),
      h('div.actions', { style: 'padding:0 4px 12px' },
        h('a.btn', { href: url, download: filename, id: 'download-export' }, t('download_json')),
        h('button.btn', { type: 'button', onclick: () => copyText(text) }, t('copy_json'))),
      h('div.section', h('pre.policy', { id: 'export-json' }, text)));
    return () => URL.revokeObjectURL(url);
  });
}

/**
 * Support lives in the bot chat (policy §8, §11): `/start support` there
 * opens the conversation. The bot's username comes from `/api/app`.
 */
async function contactSupport() {
  let settings;
  try {
    settings = await api('GET', '/api/app');
  } catch (error) {
    showProblem(error);
    return;
  }
  if (!settings.bot_username) {
    toast(t('support_unavailable'));
    return;
  }
  const link = `https://t.me/${settings.bot_username}?start=support`;
  haptic();
  if (tg?.openTelegramLink) tg.openTelegramLink(link);
  else window.open(link, '_blank', 'noopener');
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    haptic('success');
    toast(t('copied_json'));
  } catch (error) {
    toast(t('error_generic', { detail: error.message }));
  }
}

function deleteAccount() {
  return confirmed(t('delete_account_confirm'), () => api('DELETE', '/api/me'), () => {
    setToken(null);
    go('deleted', (main) => {
      hideMainButton();
      main.append(h('h1', t('account_deleted')));
    }, { root: true });
  })();
}
