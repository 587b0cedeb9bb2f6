// The live connection (`/ws`): watches of free slots, and the provider's
// booking feed. One socket per open screen that needs it; it reconnects with
// backoff and re-sends its watches and its sign-in, because the server forgets
// a session's subscriptions when the socket drops.

export class LiveSocket {
  /**
   * `onFrame(frame)` gets every server frame; `onState(connected)` tells when
   * the socket is (re)connected or lost, so the screen can say so.
   */
  constructor({ onFrame, onState = () => {} }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.watches = new Map();
    this.token = null;
    this.closed = false;
    this.delay = 500;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.onopen = () => {
      this.delay = 500;
      if (this.token) this.send({ type: 'auth', token: this.token });
      for (const watch of this.watches.values()) this.send({ type: 'watch', ...watch });
      this.onState(true);
    };
    socket.onmessage = (event) => {
      try {
        this.onFrame(JSON.parse(event.data));
      } catch (error) {
        console.warn('unreadable live frame', error);
      }
    };
    socket.onclose = () => {
      if (this.closed) return;
      this.onState(false);
      setTimeout(() => this.closed || this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  send(frame) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
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

  /** Joins the signed-in provider's booking feed. */
  authenticate(token) {
    this.token = token;
    this.send({ type: 'auth', token });
  }

  close() {
    this.closed = true;
    this.socket.close();
  }
}
