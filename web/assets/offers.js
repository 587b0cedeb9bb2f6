// Waitlist offers. When a time a user waits for frees up, the server sends
// each of their open, signed-in sockets an `offer` frame (the bot tells them
// in the chat too). The app keeps one such socket of its own for as long as
// it is open, so the offer reaches the user wherever they are in it: a card
// on top of every screen, and one tap books the time. The first to book it
// gets it (the calendar decides, as for any booking), so a time somebody
// else took first is said so — the user stays on the waitlist.

import { t } from './i18n.js';
import { h, api, haptic, showProblem, sessionToken, whenText, ApiProblem } from './core.js';
import { LiveSocket } from './live.js';
import { bookedScreen } from './client.js';

/** Open offers by waitlist entry: a newer offer for one entry replaces the older. */
const offers = new Map();
let socket = null;

/** Signs a socket in (again, after a reconnect: live.js re-sends it) to hear offers. */
export function listenForOffers() {
  socket = new LiveSocket({
    onFrame: (frame) => {
      if (frame.type === 'offer') offered(frame);
    },
  });
  socket.authenticate(sessionToken(), { feed: false });
}

// Booked on the slots screen instead: the offer of that time goes.
window.addEventListener('jbm:booked', ({ detail: booking }) => {
  const at = Date.parse(booking.start);
  for (const [id, { frame }] of offers) {
    if (frame.service === booking.service?.id && Date.parse(frame.start) === at) offers.delete(id);
  }
  draw();
});

function offered(frame) {
  // One already over is no offer (a frame delayed across a reconnect).
  if (!(Date.parse(frame.start) > Date.now())) return;
  const offer = { frame, state: 'open', key: globalThis.crypto?.randomUUID?.() ?? null };
  offers.set(frame.entry, offer);
  haptic('warning');
  draw();
}

function draw() {
  const box = document.getElementById('offers');
  if (!box) return;
  box.replaceChildren(...[...offers].map(([id, offer]) => card(id, offer)));
}

function card(id, { frame, state }) {
  // `start` carries the provider's offset; their zone names whose clock it is (the device's beside it).
  const when = whenText(frame.start, frame.timezone);
  const close = h('button.icon-btn.offer-close', {
    type: 'button', dataset: { action: 'dismiss-offer' }, 'aria-label': t('offer_dismiss'),
    onclick: () => { offers.delete(id); draw(); },
  }, '×');
  return h('section.offer', { dataset: { offer: id, state }, 'aria-labelledby': `offer-title-${id}` },
    h('div.offer-head',
      h('div.grow',
        h('p.offer-title', { id: `offer-title-${id}` }, t('offer_title')),
        h('p.offer-text', t('offer_text', { service: frame.service_name, when })),
        h('p.offer-sub', frame.provider_name)),
      close),
    state === 'taken'
      ? h('p.offer-taken', { role: 'alert' }, t('offer_taken'))
      : h('div.actions', h('button.btn.primary', {
        type: 'button', dataset: { action: 'book-offer' }, disabled: state === 'booking',
        'aria-busy': String(state === 'booking'), onclick: () => book(id),
      }, t('offer_book'))));
}

/**
 * Books the offered time as the booking screen would (one Idempotency-Key
 * per offer: a retried tap never books twice), then shows the booking. A
 * refusal with 409 means somebody else was first, or the class filled up.
 */
async function book(id) {
  const offer = offers.get(id);
  if (!offer || offer.state !== 'open') return;
  offer.state = 'booking';
  draw();
  const { frame } = offer;
  try {
    const booking = await api('POST', '/api/bookings', { provider: frame.provider, service: frame.service, start: frame.start },
      offer.key ? { 'Idempotency-Key': offer.key } : {});
    haptic('success');
    // On top of wherever the user was: Back returns there (its `jbm:booked` takes this offer off).
    bookedScreen(booking, { replace: false });
  } catch (error) {
    if (offers.get(id) !== offer) return; // replaced by a newer offer meanwhile
    if (error instanceof ApiProblem && error.status === 409) {
      offer.state = 'taken';
      haptic('error');
    } else {
      offer.state = 'open';
      showProblem(error);
    }
    draw();
  }
}
