// Live changes of people and inboxes on an open console (docs/websocket.md):
// the inbox picker follows inboxes created, renamed, deleted or left; users
// follow role, name and deactivation; the settings screen reloads.

import { t } from './i18n.js';
import { normUser } from './model.js';

/** onPeopleEvent applies inbox.created, inbox.updated, inbox.deleted or user.updated to the console app. */
export function onPeopleEvent(app, ev) {
  switch (ev.type) {
    case 'inbox.created':
    case 'inbox.updated':
      if (ev.inbox) putInbox(app, ev.inbox);
      break;
    case 'inbox.deleted':
      if (ev.inboxId) dropInbox(app, String(ev.inboxId), ev.reason === 'removed' ? 'removed' : 'deleted');
      break;
    case 'user.updated':
      if (ev.user) putUser(app, ev.user);
      break;
    default:
      return;
  }
  app.settings.changed();
}

function putInbox(app, raw) {
  const id = String(raw.id);
  const members = Array.isArray(raw.memberIds) ? raw.memberIds.map(String) : null;
  if (members && !members.includes(String(app.me.id))) {
    dropInbox(app, id, 'removed');
    return;
  }
  if (app.inboxes === null) return; // still loading: the load brings it
  const old = app.inboxes.find((i) => i.id === id);
  const next = { ...old, id, name: String(raw.name ?? old?.name ?? ''), ...(members ? { memberIds: members } : {}) };
  app.inboxes = old ? app.inboxes.map((i) => (i.id === id ? next : i)) : [...app.inboxes, next].sort((a, b) => Number(a.id) - Number(b.id));
  if (!app.inboxId) app.setInbox(id);
  else app.shell.render();
}

function dropInbox(app, id, reason) {
  const gone = app.inboxes?.find((i) => i.id === id);
  const openGone = app.open && app.threads.get(app.open.id)?.inboxId === id;
  if (app.inboxes) app.inboxes = app.inboxes.filter((i) => i.id !== id);
  for (const [tid, th] of app.threads) if (th.inboxId === id) app.threads.delete(tid);
  if (gone) app.shell.toast(t(reason === 'removed' ? 'people.inboxRemoved' : 'people.inboxDeleted', { name: gone.name || id }));
  if (openGone && !app.settings.visible) app.navigate(null);
  if (app.inboxId === id) {
    app.setInbox(app.inboxes?.[0]?.id ?? '');
    return;
  }
  app.shell.render();
  app.render();
}

function putUser(app, raw) {
  const u = normUser(raw);
  if (!u.actorId) return;
  app.users.set(u.actorId, { ...app.users.get(u.actorId), ...u });
  if (u.id === String(app.me.id)) app.me = normUser({ ...app.me, ...raw });
  app.shell.renderTeam();
  app.shell.renderMe();
  app.conv.render();
}
