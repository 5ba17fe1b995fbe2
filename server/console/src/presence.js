// The Team panel (I10): every teammate's state — online, away or offline —
// live from the agent socket's presence events, and for admins a button to
// turn a teammate's away mode on or off. Also the user's own "reassign
// replies while away" switch and their cap of open chats for routing.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

const STATE_KEY = { online: 'presence.online', away: 'presence.away', offline: 'presence.offline' };

const setUserAway = (id, away) => request('PATCH', `api/v1/users/${encodeURIComponent(id)}`, { away });
const setReassign = (on) => request('PATCH', 'api/v1/users/me', { reassignWhileAway: on });
const setMaxOpen = (n) => request('PATCH', 'api/v1/users/me', { maxOpenChats: n });

// MAX_OPEN_CHATS is the highest cap the server accepts (parley.MaxOpenChatsLimit).
const MAX_OPEN_CHATS = 1000;

/**
 * renderTeam fills list (the sidebar's Team list) with app's teammates, each
 * with a visible state and, for admins, an away toggle. Focus stays on a
 * toggle that is drawn again.
 */
export function renderTeam(app, list) {
  const mates = [...app.users.values()].filter((u) => u.actorId !== app.me.actorId && !u.deactivated).sort((a, b) => a.name.localeCompare(b.name));
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.user : null;
  if (!mates.length) {
    list.replaceChildren(h('li', { class: 'muted small', text: t('nav.teamEmpty') }));
    return;
  }
  const admin = app.me.role === 'admin';
  list.replaceChildren(
    ...mates.map((u) => {
      const state = app.stateOf(u);
      const away = state === 'away' || (state === 'offline' && !!u.away);
      return h(
        'li',
        { class: `team-member state-${state}`, dataset: { state } },
        h('span', { class: 'dot', 'aria-hidden': 'true' }),
        h('span', { class: 'team-name', title: u.name, text: u.name }),
        h('span', { class: 'team-state', text: t(STATE_KEY[state]) }),
        admin &&
          h('button', {
            type: 'button',
            class: 'btn btn-ghost btn-sm team-away',
            dataset: { user: u.id },
            'aria-pressed': String(away),
            'aria-label': t(away ? 'presence.setAvailableFor' : 'presence.setAwayFor', { name: u.name }),
            text: t(away ? 'presence.setAvailable' : 'presence.setAway'),
            onClick: (e) => toggleAway(app, u, !away, e.currentTarget),
          }),
      );
    }),
  );
  if (focused) list.querySelector(`button[data-user="${CSS.escape(focused)}"]`)?.focus();
}

async function toggleAway(app, u, away, btn) {
  // Disabled while it works, the button drops focus: give it back to the
  // teammate's new button once the list is drawn again.
  const refocus = document.activeElement === btn;
  btn.disabled = true;
  try {
    const raw = await setUserAway(u.id, away);
    app.users.set(u.actorId, { ...app.users.get(u.actorId), away: !!raw?.away });
    if (raw?.state) app.presence.set(u.actorId, raw.state);
  } catch (err) {
    app.failed(err, 'presence.setAwayFailed');
  }
  btn.disabled = false;
  app.shell.renderTeam();
  const lost = !document.activeElement || document.activeElement === document.body;
  if (refocus && lost) app.shell.teamList.querySelector(`button[data-user="${CSS.escape(u.id)}"]`)?.focus();
}

/**
 * reassignSwitch returns the signed-in user's own routing settings: the
 * "reassign replies while away" switch and the cap of open chats; call its
 * update() when app.me changes.
 */
export function reassignSwitch(app) {
  const id = uid('reassign');
  const box = h('input', {
    id,
    type: 'checkbox',
    role: 'switch',
    onChange: async (e) => {
      const on = e.target.checked;
      try {
        const raw = await setReassign(on);
        app.me = { ...app.me, reassignWhileAway: !!raw?.reassignWhileAway };
      } catch (err) {
        e.target.checked = !on;
        app.failed(err, 'presence.reassignFailed');
      }
    },
  });
  const cap = maxOpenField(app);
  const el = h(
    'div',
    { class: 'reassign' },
    h('label', { class: 'switch', for: id }, box, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text: t('presence.reassign') })),
    h('p', { class: 'muted small', text: t('presence.reassignHint') }),
    cap.el,
  );
  return {
    el,
    update() {
      box.checked = !!app.me.reassignWhileAway;
      cap.update();
    },
  };
}

/**
 * maxOpenField is the user's own cap of open chats (0: no limit), saved when
 * it changes (Enter or leaving the field). A value the server would refuse
 * is marked invalid with a message, and nothing is sent.
 */
function maxOpenField(app) {
  const id = uid('maxopen');
  const hintId = uid('maxopen-hint');
  const errId = uid('maxopen-err');
  const err = h('p', { id: errId, class: 'form-alert small', role: 'alert', hidden: true });
  const input = h('input', {
    id,
    type: 'number',
    class: 'max-open',
    min: 0,
    max: MAX_OPEN_CHATS,
    step: 1,
    inputmode: 'numeric',
    'aria-describedby': `${hintId} ${errId}`,
    onChange: () => save(),
  });
  const show = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  async function save() {
    const raw = input.value.trim();
    const n = raw === '' ? 0 : Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > MAX_OPEN_CHATS) {
      show(t('presence.maxOpenInvalid', { max: MAX_OPEN_CHATS }));
      return;
    }
    show('');
    if (n === (app.me.maxOpenChats || 0)) return;
    input.disabled = true;
    try {
      const me = await setMaxOpen(n);
      app.me = { ...app.me, maxOpenChats: me?.maxOpenChats || 0 };
      input.value = String(app.me.maxOpenChats);
      input.dataset.saved = input.value;
    } catch (e) {
      app.failed(e, 'presence.maxOpenFailed');
    }
    input.disabled = false;
  }
  const el = h(
    'div',
    { class: 'field max-open-field' },
    h('label', { for: id, text: t('presence.maxOpen') }),
    input,
    h('p', { id: hintId, class: 'muted small', text: t('presence.maxOpenHint') }),
    err,
  );
  return {
    el,
    update() {
      if (document.activeElement !== input) {
        input.value = String(app.me.maxOpenChats || 0);
        show('');
      }
    },
  };
}
