// The live connection (`/ws`): watches of free slots, and the provider's
// booking feed. One socket per open screen that needs it. The server forgets
// a session's subscriptions when its socket drops (a restart closes every
// socket with 1001, a phone loses its network…), so after every drop the
// socket reconnects, re-sends its sign-in and its watches, and the server
// answers each watch with a fresh `slots` snapshot.
//
// Reconnecting uses "full jitter": the n-th attempt waits a random time in
// [0, min(CAP, BASE · 2ⁿ)], so a server restart does not bring every phone
// back in the same millisecond. The count starts over once a socket has
// proved healthy — when its first frame arrives (the server answers every
// watch and sign-in), not merely when it opens: a server that accepts and
// then drops us at once must not be hammered. The browser's `online` event,
// and the page becoming visible again, reconnect at once; its `offline`
// event drops the socket at once, so the screen says so instead of showing
// what may be stale. There is no client heartbeat: the server pings (every
// WS_HEARTBEAT_SECS) and the browser answers by itself.

const BASE_MS = 300;
const CAP_MS = 10000;
/** Hidden longer than this, the page starts a fresh socket when shown again:
 *  a phone that slept may hold one the server has long dropped. */
const STALE_AFTER_HIDDEN_MS = 60000;

export class LiveSocket {
  /**
   * `onFrame(frame)` gets every server frame. `onState(up)` is told each
   * change: `true` when a socket is open (its watches re-sent; the snapshots
   * follow as frames), `false` when it is lost and reconnecting.
   */
  constructor({ onFrame, onState = () => {} }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.watches = new Map();
    this.auth = null;
    this.closed = false;
    this.up = null; // unknown until the first socket opens or fails
    this.attempt = 0;
    this.timer = null;
    this.socket = null;
    this.hiddenAt = null;
    this.listeners = {
      online: () => this.reconnectNow({ abandonAttempt: true }),
      offline: () => this.drop(),
      visibilitychange: () => this.visibilityChanged(),
    };
    window.addEventListener('online', this.listeners.online);
    window.addEventListener('offline', this.listeners.offline);
    document.addEventListener('visibilitychange', this.listeners.visibilitychange);
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/ws`);
    } catch (error) {
      console.warn('live socket not created', error);
      this.retry();
      return;
    }
    this.socket = socket;
    let healthy = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.auth) this.send(this.auth);
      for (const watch of this.watches.values()) this.send({ type: 'watch', ...watch });
      this.setUp(true);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      if (!healthy) {
        healthy = true;
        this.attempt = 0;
      }
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        console.warn('unreadable live frame', error);
        return;
      }
      this.onFrame(frame);
    };
    // `error` is always followed by `close`; `close` alone decides.
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setUp(false);
      this.retry();
    };
  }

  /** The next attempt, after the jittered backoff. */
  retry() {
    if (this.closed || this.timer) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.timer = setTimeout(() => this.connect(), Math.random() * ceiling);
  }

  /**
   * Reconnects now unless a socket is open (or opening: with
   * `abandonAttempt`, an attempt begun while the network was down is given up
   * for a new one, as it might hang until a TCP timeout).
   */
  reconnectNow({ abandonAttempt = false } = {}) {
    if (this.closed) return;
    const state = this.socket?.readyState;
    if (state === WebSocket.OPEN || (state === WebSocket.CONNECTING && !abandonAttempt)) return;
    const stale = this.socket;
    this.socket = null;
    if (stale) stale.close();
    this.attempt = 0;
    this.connect();
  }

  /** Gives up the current socket (its late events are ignored) and reconnects with backoff. */
  drop() {
    if (this.closed) return;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    this.setUp(false);
    this.retry();
  }

  visibilityChanged() {
    if (document.visibilityState === 'hidden') {
      this.hiddenAt = Date.now();
      return;
    }
    const hiddenFor = this.hiddenAt === null ? 0 : Date.now() - this.hiddenAt;
    this.hiddenAt = null;
    if (hiddenFor > STALE_AFTER_HIDDEN_MS && this.socket?.readyState === WebSocket.OPEN) {
      this.drop();
      this.attempt = 0;
    }
    this.reconnectNow();
  }

  setUp(up) {
    if (this.up === up) return;
    this.up = up;
    this.onState(up);
  }

  send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** Free slots of one service over `from`..=`to` (provider dates). */
  watch(provider, service, from, to) {
    const watch = { provider, service, from, to };
    const key = JSON.stringify(watch);
    if (this.watches.has(key)) return;
    this.watches.set(key, watch);
    this.send({ type: 'watch', ...watch });
  }

  unwatchAll() {
    for (const watch of this.watches.values()) this.send({ type: 'unwatch', ...watch });
    this.watches.clear();
  }

  /**
   * Signs the socket in: it hears the user's waitlist offers and, for a
   * provider, their booking feed — unless `feed` is false (the app's own
   * offers socket, which would only hear the feed twice).
   */
  authenticate(token, { feed = true } = {}) {
    this.auth = feed ? { type: 'auth', token } : { type: 'auth', token, feed: false };
    this.send(this.auth);
  }

  /** Ends the connection for good (the screen is left). */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = null;
    window.removeEventListener('online', this.listeners.online);
    window.removeEventListener('offline', this.listeners.offline);
    document.removeEventListener('visibilitychange', this.listeners.visibilitychange);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }
}
