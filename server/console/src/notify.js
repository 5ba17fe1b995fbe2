// Notifications (R6): a visitor starting a chat, a visitor's message on a
// conversation assigned to me, and a conversation assigned to me by someone
// else each show a toast, play a short sound (made with WebAudio, no audio
// file) unless muted, and raise a browser notification while the tab is
// hidden if the user turned those on. Filtered conversations (blocked sender,
// spam) never notify. The settings live on the server (users/me).

import { request } from './api.js';
import { dialog, isFiltered } from './actions.js';
import { h, uid } from './dom.js';
import { contactName, t } from './i18n.js';
import { normMessage } from './model.js';

const TOAST_MS = 6000; // a toast goes by itself after this, unless hovered or focused
const MAX_TOASTS = 4;
const BEEP_GAP_MS = 1500; // at most one sound this often
const NEW_CHAT_GRACE_MS = 5000; // a new chat's first message is part of its notification
const BODY_CHARS = 140;

/** text is v, or what v returns when it is a function. */
const text = (v) => (typeof v === 'function' ? v() : v);

const clip = (s) => {
  const one = String(s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > BODY_CHARS ? one.slice(0, BODY_CHARS - 1) + '…' : one;
};

/** Notifier turns live events into notifications for one Console app. */
export class Notifier {
  constructor(app) {
    this.app = app;
    this.newChats = new Map(); // threadId → when its thread.created was notified
    this.byThread = new Map(); // threadId → the toast showing for it: one per conversation
    this.lastBeep = 0;
    this.audio = null;
    this.region = h('div', { class: 'notify-region', 'aria-live': 'polite', 'aria-label': t('notify.region') });
    this.unlock = () => {
      if (!this.settings().muted) this.audioContext();
      this.removeUnlock();
    };
    this.removeUnlock = () => {
      document.removeEventListener('pointerdown', this.unlock, true);
      document.removeEventListener('keydown', this.unlock, true);
    };
  }

  /** mount puts the toasts into the console's layout (root) and waits for a gesture to allow sound. */
  mount(root) {
    // One stack with the error toasts (shell.js), in the corner they share.
    (root.querySelector('.toasts') ?? root).prepend(this.region);
    // Browsers start audio only after the user has interacted with the page.
    document.addEventListener('pointerdown', this.unlock, true);
    document.addEventListener('keydown', this.unlock, true);
  }

  destroy() {
    this.removeUnlock();
    this.audio?.close?.().catch(() => {});
    this.audio = null;
  }

  settings() {
    const n = this.app.me.notify ?? {};
    return { muted: !!n.muted, desktop: !!n.desktop };
  }

  // ----- events -----

  onEvent(ev) {
    const app = this.app;
    const me = app.me.actorId;
    if (ev.type === 'thread.created' && ev.thread) {
      const th = ev.thread;
      // A bot's conversation is no one's to answer until it hands off.
      if (isFiltered(th) || th.owner === 'bot') return;
      const id = String(th.id);
      const now = Date.now();
      for (const [k, at] of this.newChats) if (now - at > NEW_CHAT_GRACE_MS) this.newChats.delete(k);
      this.newChats.set(id, now);
      this.notify({ title: () => t('notify.newChat', { name: this.nameOf(id, th) }), body: clip(th.preview), threadId: id });
      return;
    }
    if (ev.type !== 'message.created' || !ev.message) return;
    const m = normMessage(ev.message);
    const th = app.threads.get(m.threadId);
    if (!th || isFiltered(th)) return;
    if (m.type === 'SYSTEM' && m.event === 'handed_off') {
      // The bot hands the visitor to the team: now it is a new chat for them.
      this.newChats.set(m.threadId, Date.now());
      this.notify({ title: () => t('notify.handedOff', { name: this.nameOf(m.threadId, th) }), body: clip(th.preview), threadId: m.threadId });
    } else if (m.type === 'MESSAGE' && m.direction === 'INCOMING' && th.assignedTo === me) {
      const started = this.newChats.get(m.threadId);
      if (started && Date.now() - started < NEW_CHAT_GRACE_MS) return;
      if (this.watching(m.threadId)) return;
      this.notify({ title: () => t('notify.newMessage', { name: this.nameOf(m.threadId, th) }), body: clip(m.text), threadId: m.threadId });
    } else if (m.type === 'ASSIGNMENT' && m.assignedTo === me && m.actorId !== me) {
      // Routing gives a new chat to its agent at once: the new chat's notification says it already.
      const started = this.newChats.get(m.threadId);
      if (started && Date.now() - started < NEW_CHAT_GRACE_MS && !m.actorId.startsWith('A-')) return;
      const by = app.users.get(m.actorId)?.name || m.name || t('sys.someone');
      this.notify({ title: t('notify.assigned', { name: by }), body: () => clip(`${this.nameOf(m.threadId, th)}: ${th.preview || ''}`), threadId: m.threadId });
    }
  }

  /** nameOf names thread id as the list does (contactName of the console's copy), fallback the event's thread. */
  nameOf(id, th) {
    return contactName(this.app.threads.get(String(id)) ?? th);
  }

  /** refresh brings the toasts' texts up to date: a contact named since (their email left) is named as the list names them. */
  refresh() {
    for (const el of this.region.children) el.refresh?.();
    this.place();
  }

  /**
   * place keeps the toasts in a corner free of controls: the window's bottom
   * right, or, while a conversation is open (its contact beside it), the
   * bottom right of its messages, just above the reply box.
   */
  place() {
    const box = document.querySelector('.composer');
    const r = box?.offsetParent ? box.getBoundingClientRect() : null;
    const stack = this.region.parentElement;
    if (!stack || stack === document.body) return;
    stack.style.setProperty('--notify-bottom', r ? `${Math.max(16, innerHeight - r.top + 12)}px` : '16px');
    stack.style.setProperty('--notify-right', r ? `${Math.max(16, innerWidth - r.right)}px` : '16px');
  }

  /** watching reports whether the agent is looking at thread id right now. */
  watching(id) {
    return this.app.open?.id === id && document.visibilityState === 'visible' && document.hasFocus();
  }

  /** notify shows a toast, plays the sound unless muted, and raises a browser notification while hidden. */
  notify({ title, body, threadId }) {
    const s = this.settings();
    this.toast(title, body, threadId ? { label: t('notify.open'), run: () => this.app.navigate(threadId) } : null, threadId);
    if (!s.muted) this.beep();
    if (s.desktop && document.visibilityState === 'hidden' && 'Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification(text(title), { body: text(body), tag: threadId ? `parley-${threadId}` : undefined });
        n.onclick = () => {
          window.focus();
          if (threadId) this.app.navigate(threadId);
          n.close();
        };
      } catch {
        /* some browsers only allow notifications from a service worker */
      }
    }
  }

  /** info confirms something the agent did, with an optional action (Undo); no sound. */
  info(text, action) {
    this.toast(text, '', action);
  }

  /**
   * toast shows title and body (strings, or functions that refresh reads
   * again) in the corner, with the action and a close button. A toast for a
   * conversation replaces the one showing for it. It goes by itself after
   * TOAST_MS, but stays while the pointer is on it or focus is in it.
   */
  toast(title, body, action, threadId) {
    if (threadId) this.byThread.get(threadId)?.remove();
    const strong = h('strong', { dir: 'auto' });
    const span = body ? h('span', { class: 'notify-body', dir: 'auto' }) : null;
    const el = h(
      'div',
      { class: 'notify-toast' },
      h('div', { class: 'notify-text' }, strong, span),
      action
        ? h('button', {
            type: 'button',
            class: 'btn btn-sm',
            text: action.label,
            onClick: () => {
              el.remove();
              action.run();
            },
          })
        : null,
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm notify-close', text: t('err.dismiss'), onClick: () => el.remove() }),
    );
    el.refresh = () => {
      strong.textContent = text(title);
      if (span) span.textContent = text(body);
    };
    el.refresh();
    this.region.append(el);
    this.place();
    if (threadId) this.byThread.set(threadId, el);
    while (this.region.children.length > MAX_TOASTS) this.region.firstChild.remove();
    let timer = 0;
    const held = () => el.matches(':hover') || el.contains(document.activeElement);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => (held() ? arm() : el.remove()), TOAST_MS);
    };
    const removeEl = el.remove.bind(el);
    el.remove = () => {
      clearTimeout(timer);
      if (threadId && this.byThread.get(threadId) === el) this.byThread.delete(threadId);
      removeEl();
    };
    el.addEventListener('focusin', () => clearTimeout(timer));
    el.addEventListener('pointerenter', () => clearTimeout(timer));
    el.addEventListener('focusout', (e) => !el.contains(e.relatedTarget) && arm());
    el.addEventListener('pointerleave', () => arm());
    arm();
  }

  // ----- sound -----

  audioContext() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    try {
      this.audio ??= new Ctx();
      if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;
    }
    return this.audio;
  }

  /** beep plays two soft rising tones, a quarter second in all. */
  beep() {
    const now = Date.now();
    if (now - this.lastBeep < BEEP_GAP_MS) return;
    this.lastBeep = now;
    const ctx = this.audioContext();
    if (!ctx || ctx.state !== 'running') return;
    const t0 = ctx.currentTime + 0.01;
    [660, 990].forEach((freq, i) => {
      const start = t0 + i * 0.12;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.14);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.15);
    });
  }

  // ----- settings -----

  async save(patch) {
    const raw = await request('PATCH', 'api/v1/users/me', { notify: patch });
    this.app.me = { ...this.app.me, notify: raw?.notify ?? { ...this.settings(), ...patch } };
    return this.settings();
  }

  /** openSettings shows the notification settings: sound and browser notifications. */
  openSettings(opener) {
    const s = this.settings();
    const soundId = uid('sound');
    const deskId = uid('desk');
    const note = h('p', { class: 'muted small', role: 'status' });
    const sound = h('input', { id: soundId, type: 'checkbox', role: 'switch', checked: !s.muted });
    const desk = h('input', { id: deskId, type: 'checkbox', role: 'switch', checked: s.desktop });
    const supported = 'Notification' in window;
    const explain = () => {
      if (!supported) note.textContent = t('notify.unsupported');
      else if (Notification.permission === 'denied') note.textContent = t('notify.denied');
      else if (this.settings().desktop && Notification.permission !== 'granted') note.textContent = t('notify.askAgain');
      else note.textContent = '';
    };
    const fail = (err, box, was) => {
      box.checked = was;
      this.app.failed(err, 'notify.saveFailed');
    };
    sound.addEventListener('change', async () => {
      const on = sound.checked;
      if (on) this.audioContext(); // this change is a user gesture: sound may start
      try {
        await this.save({ muted: !on });
        if (on) {
          this.lastBeep = 0;
          this.beep();
        }
      } catch (err) {
        fail(err, sound, !on);
      }
    });
    desk.addEventListener('change', async () => {
      const on = desk.checked;
      if (on && supported && Notification.permission === 'default') {
        // Asked here, from the click: browsers ignore requests without a gesture.
        const answer = await Notification.requestPermission().catch(() => 'default');
        if (answer !== 'granted') {
          desk.checked = false;
          explain();
          return;
        }
      }
      if (on && (!supported || Notification.permission === 'denied')) {
        desk.checked = false;
        explain();
        return;
      }
      try {
        await this.save({ desktop: on });
      } catch (err) {
        fail(err, desk, !on);
      }
      explain();
    });
    explain();
    dialog(
      uid('notify'),
      t('notify.title'),
      [
        h('p', { class: 'muted small', text: t('notify.hint') }),
        h('label', { class: 'switch setting' }, sound, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text: t('notify.sound') })),
        h('label', { class: 'switch setting' }, desk, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text: t('notify.desktop') })),
        note,
      ],
      opener,
    );
  }
}
