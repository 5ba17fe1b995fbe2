// The agent's live connection (docs/websocket.md, agent endpoint): hello on
// open, events in (one object or an array per frame), reconnect with
// exponential back-off and jitter.

import { BASE } from './api.js';

const STOP_CODES = new Set([1000, 1008, 4403, 4404]);
const AT_ONCE_CODES = new Set([1001, 4205, 4408]); // 4205: the user's role changed
const BACKOFF_MIN = 500; // ms, first retry
const BACKOFF_MAX = 30000;
const PAUSE_4429 = 10000;
const READY_TIMEOUT = 15000;

/**
 * AgentSocket keeps one connection to {base}/api/v1/ws open until stop().
 *
 * Options:
 *   hello()         returns the hello frame to send on every (re)connect
 *   onEvent(ev)     each server event, in order
 *   onState(s, n)   "connecting" | "open" | "reconnecting" | "stopped"; n is the close code
 *   onUnauthorized  the session ended (4401, or a refused upgrade while /users/me says 401)
 *   checkAuth()     resolves false when the session is gone
 */
export class AgentSocket {
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.ready = false;
    this.stopped = true;
    this.attempt = 0;
    this.timer = 0;
    this.readyTimer = 0;
    this.lastAtOnce = 0;
    this.scheduled = false; // a reconnect timer is pending
    this.onOnline = () => this.reconnectNow();
    // Leaving the page ends the connection at once, so the agent stops
    // counting as online; a page restored from the back-forward cache
    // connects again.
    this.resumeOnShow = false;
    window.addEventListener('pagehide', () => {
      this.resumeOnShow = !this.stopped;
      this.stop();
    });
    window.addEventListener('pageshow', (e) => {
      if (e.persisted && this.resumeOnShow) this.start();
    });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    clearTimeout(this.readyTimer);
    this.scheduled = false;
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  /** send writes one event; false when the connection is not ready (the caller keeps it). */
  send(ev) {
    if (!this.ready || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify(ev));
      return true;
    } catch {
      return false;
    }
  }

  /** reconnectNow skips the rest of a back-off wait (the browser came back online). */
  reconnectNow() {
    if (this.stopped || !this.scheduled) return;
    clearTimeout(this.timer);
    this.scheduled = false;
    this.connect();
  }

  connect() {
    const url = new URL('api/v1/ws', BASE);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.opts.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.closed(1006);
      return;
    }
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      ws.send(JSON.stringify(this.opts.hello()));
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      for (const ev of Array.isArray(data) ? data : [data]) {
        if (!ev || typeof ev.type !== 'string') continue;
        if (ev.type === 'ready') {
          clearTimeout(this.readyTimer);
          this.ready = true;
          this.attempt = 0;
          this.opts.onState('open');
        }
        this.opts.onEvent(ev);
        if (this.ws !== ws) return; // a handler stopped us
      }
    };
    ws.onerror = () => {}; // a close event follows
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.closed(e.code);
    };
    clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => {
      if (this.ws === ws && !this.ready) ws.close(4000);
    }, READY_TIMEOUT);
  }

  async closed(code) {
    clearTimeout(this.readyTimer);
    const wasReady = this.ready;
    this.ws = null;
    this.ready = false;
    if (this.stopped) return;
    if (code === 4401) {
      this.stop();
      this.opts.onUnauthorized();
      return;
    }
    if (STOP_CODES.has(code)) {
      this.stop();
      this.opts.onState('stopped', code);
      return;
    }
    this.opts.onState('reconnecting', code);
    // A refused upgrade shows up as 1006 only; ask REST whether we are signed out.
    if (code === 1006 && !wasReady && this.opts.checkAuth) {
      const ok = await this.opts.checkAuth();
      if (this.stopped) return;
      if (!ok) {
        this.stop();
        this.opts.onUnauthorized();
        return;
      }
    }
    let delay;
    const now = Date.now();
    if (AT_ONCE_CODES.has(code) && now - this.lastAtOnce > 5000) {
      this.lastAtOnce = now;
      delay = 0;
    } else {
      const cap = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** this.attempt);
      delay = cap / 2 + Math.random() * (cap / 2); // "equal jitter"
      if (code === 4429) delay += PAUSE_4429;
    }
    this.attempt += 1;
    clearTimeout(this.timer);
    this.scheduled = true;
    this.timer = setTimeout(() => {
      this.scheduled = false;
      this.connect();
    }, delay);
  }
}
