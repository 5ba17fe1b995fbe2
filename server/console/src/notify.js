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

const TOAST_MS = 10000;
const MAX_TOASTS = 4;
const BEEP_GAP_MS = 1500; // at most one sound this often
const NEW_CHAT_GRACE_MS = 5000; // a new chat's first message is part of its notification
const BODY_CHARS = 140;

const clip = (s) => {
  const one = String(s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > BODY_CHARS ? one.slice(0, BODY_CHARS - 1) + '…' : one;
};

/** Notifier turns live events into notifications for one Console app. */
export class Notifier {
  constructor(app) {
    this.app = app;
    this.newChats = new Map(); // threadId → when its thread.created was notified
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
    root.append(this.region);
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
      this.notify({ title: t('notify.newChat', { name: contactName(th) }), body: clip(th.preview), threadId: id });
      return;
    }
    if (ev.type !== 'message.created' || !ev.message) return;
    const m = normMessage(ev.message);
    const th = app.threads.get(m.threadId);
    if (!th || isFiltered(th)) return;
    if (m.type === 'SYSTEM' && m.event === 'handed_off') {
      // The bot hands the visitor to the team: now it is a new chat for them.
      this.newChats.set(m.threadId, Date.now());
      this.notify({ title: t('notify.handedOff', { name: contactName(th) }), body: clip(th.preview), threadId: m.threadId });
    } else if (m.type === 'MESSAGE' && m.direction === 'INCOMING' && th.assignedTo === me) {
      const started = this.newChats.get(m.threadId);
      if (started && Date.now() - started < NEW_CHAT_GRACE_MS) return;
      if (this.watching(m.threadId)) return;
      this.notify({ title: t('notify.newMessage', { name: contactName({ ...th, contactName: m.name || th?.contactName }) }), body: clip(m.text), threadId: m.threadId });
    } else if (m.type === 'ASSIGNMENT' && m.assignedTo === me && m.actorId !== me) {
      const by = app.users.get(m.actorId)?.name || m.name || t('sys.someone');
      this.notify({ title: t('notify.assigned', { name: by }), body: clip(`${contactName(th)}: ${th.preview || ''}`), threadId: m.threadId });
    }
  }

  /** watching reports whether the agent is looking at thread id right now. */
  watching(id) {
    return this.app.open?.id === id && document.visibilityState === 'visible' && document.hasFocus();
  }

  /** notify shows a toast, plays the sound unless muted, and raises a browser notification while hidden. */
  notify({ title, body, threadId }) {
    const s = this.settings();
    this.toast(title, body, threadId ? { label: t('notify.open'), run: () => this.app.navigate(threadId) } : null);
    if (!s.muted) this.beep();
    if (s.desktop && document.visibilityState === 'hidden' && 'Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification(title, { body, tag: threadId ? `parley-${threadId}` : undefined });
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

  toast(title, body, action) {
    const el = h(
      'div',
      { class: 'notify-toast', role: 'status' },
      h('div', { class: 'notify-text' }, h('strong', { dir: 'auto', text: title }), body ? h('span', { class: 'notify-body', dir: 'auto', text: body }) : null),
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
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('err.dismiss'), onClick: () => el.remove() }),
    );
    this.region.append(el);
    while (this.region.children.length > MAX_TOASTS) this.region.firstChild.remove();
    const timer = setTimeout(() => el.remove(), TOAST_MS);
    // Keep a toast that has focus or the pointer until it is left.
    const hold = () => clearTimeout(timer);
    el.addEventListener('focusin', hold);
    el.addEventListener('pointerenter', hold);
    el.addEventListener('focusout', (e) => !el.contains(e.relatedTarget) && setTimeout(() => el.remove(), TOAST_MS / 2));
    el.addEventListener('pointerleave', () => !el.contains(document.activeElement) && setTimeout(() => el.remove(), TOAST_MS / 2));
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
