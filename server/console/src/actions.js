// Conversation actions (I6, I9): delete to the trash and restore, block and
// unblock the sender, mark as spam or not; the Filtered and trash badges;
// "also viewing" (who else has the conversation open); the e and a
// shortcuts; the text of recorded system events; and the Trash dialog.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { ago, contactName, fullDate, t } from './i18n.js';
import { linksOf } from './insert.js';
import { byActivity } from './model.js';
import { openTranscript, transcriptAllowed } from './transcript.js';
import { openSignature } from './richeditor.js';

const CONV = 'conversations/v3/conversations';
const enc = encodeURIComponent;

/** ACTIONS maps each action to its request and what it says when done. */
const ACTIONS = {
  delete: { call: (id) => request('DELETE', `${CONV}/threads/${enc(id)}`), done: 'act.deleted', undo: 'restore', patch: { archived: true } },
  restore: { call: (id) => request('PATCH', `${CONV}/threads/${enc(id)}`, { archived: false }), done: 'act.restored', undo: 'delete', patch: { archived: false } },
  block: { call: (id) => request('POST', `api/v1/threads/${enc(id)}/block`), done: 'act.blocked', undo: 'unblock', patch: { blocked: true } },
  unblock: { call: (id) => request('POST', `api/v1/threads/${enc(id)}/unblock`), done: 'act.unblocked', undo: 'block', patch: { blocked: false } },
  spam: { call: (id) => request('POST', `api/v1/threads/${enc(id)}/spam`), done: 'act.spammed', undo: 'notSpam', patch: { spam: true } },
  notSpam: { call: (id) => request('POST', `api/v1/threads/${enc(id)}/not-spam`), done: 'act.notSpammed', undo: 'spam', patch: { spam: false } },
};

/** SYSTEM_EVENTS names the text of each recorded event (Message.event). */
const SYSTEM_EVENTS = {
  archived: 'sys.archived',
  restored: 'sys.restored',
  blocked: 'sys.blocked',
  unblocked: 'sys.unblocked',
  spam: 'sys.spam',
  not_spam: 'sys.notSpam',
  contact_removed: 'sys.contactRemoved',
  record_created: 'sys.recordCreated',
  transcript_sent: 'sys.transcriptSent',
  engagement_added: 'sys.engagementAdded',
  bot_started: 'sys.botStarted',
  handed_off: (m) => (m.text ? 'sys.handedOffTo' : 'sys.handedOff'),
  taken_over: 'sys.takenOver',
  // Older events name no one: they say only why.
  reassigned_away: (m) => (assigneeChange(m) ? 'presence.reassignedFromTo' : 'presence.reassigned'),
};

/** assigneeChange is the change of assignee a SYSTEM message m records, if any. */
const assigneeChange = (m) => m.changes?.find((c) => c.field === 'assignee');

/** isFiltered reports whether a thread belongs in Filtered, not the main views (I4, I9): the server decides (the thread's filtered field). */
export const isFiltered = (th) => !!th?.filtered;

/** ThreadActions runs the actions on app.open and keeps "also viewing" for the Console app. */
export class ThreadActions {
  constructor(app) {
    this.app = app;
    this.viewers = new Map(); // threadId → [{ id, actorId, name }]
    this.sentViewing = null; // the threadId last told to the server
    this.busy = false;
    // A page left for another (or kept in the back-forward cache) may keep
    // its socket open a while: say at once that it shows nothing.
    this.onPageHide = () => {
      if (this.app.socket.send({ type: 'viewing', threadId: '' })) this.sentViewing = '';
    };
    this.onPageShow = (e) => e.persisted && this.sendViewing(true);
    window.addEventListener('pagehide', this.onPageHide);
    window.addEventListener('pageshow', this.onPageShow);
  }

  destroy() {
    window.removeEventListener('pagehide', this.onPageHide);
    window.removeEventListener('pageshow', this.onPageShow);
  }

  // ----- header -----

  /**
   * buildHead makes the header's parts: the "also viewing" line, and the
   * overflow menu ("More actions") with the rarer actions: first, given by
   * the conversation (forward), then transcript, delete, block and spam. The
   * menu closes on Escape (focus back on its button), on a click outside
   * and after an action.
   */
  buildHead(first = []) {
    this.alsoEl = h('p', { class: 'also-viewing', role: 'status' });
    const item = (extra) => h('button', { type: 'button', class: 'btn btn-ghost more-item', ...extra });
    this.deleteBtn = item({ onClick: () => this.toggle('delete', 'restore', 'archived') });
    this.blockBtn = item({ onClick: () => this.toggle('block', 'unblock', 'blocked') });
    this.spamBtn = item({ onClick: () => this.toggle('spam', 'notSpam', 'spam') });
    this.transcriptBtn = item({
      text: t('tr.open'),
      onClick: () => {
        const th = this.app.threads.get(this.app.open?.id);
        if (transcriptAllowed(th)) openTranscript(this.app, th, this.moreBtn);
      },
    });
    for (const b of first) b.classList.add('btn-ghost', 'more-item');
    const menuId = uid('more');
    this.moreBtn = h(
      'button',
      { type: 'button', class: 'btn btn-icon more-btn', 'aria-label': t('act.more'), 'aria-expanded': 'false', 'aria-controls': menuId, onClick: () => this.toggleMore(this.moreBtn.getAttribute('aria-expanded') !== 'true') },
      h('span', { class: 'more-dots', 'aria-hidden': 'true', text: '⋯' }),
    );
    this.moreMenu = h(
      'div',
      {
        id: menuId,
        class: 'more-menu',
        role: 'group',
        'aria-label': t('act.group'),
        hidden: true,
        onKeydown: (e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            this.toggleMore(false, true);
          }
        },
        // An action taken closes the menu; the focus goes back to its
        // button unless the action opened a dialog.
        onClick: (e) => e.target.closest('button') && this.toggleMore(false, !document.querySelector('dialog[open]')),
      },
      first,
      this.transcriptBtn,
      this.deleteBtn,
      this.blockBtn,
      this.spamBtn,
    );
    document.addEventListener('pointerdown', (e) => {
      if (!this.moreMenu.hidden && !this.moreMenu.contains(e.target) && !this.moreBtn.contains(e.target)) this.toggleMore(false);
    });
    this.tools = h('div', { class: 'conv-tools' }, this.moreBtn, this.moreMenu);
    return { also: this.alsoEl, tools: this.tools };
  }

  /** toggleMore opens or closes the overflow menu. */
  toggleMore(open, returnFocus = false) {
    this.moreMenu.hidden = !open;
    this.moreBtn.setAttribute('aria-expanded', String(open));
    if (open) this.moreMenu.querySelector('button:not([hidden]):not(:disabled)')?.focus();
    else if (returnFocus) this.moreBtn.focus();
  }

  /** chips are the badges for the conversation header: Filtered and In trash. */
  chips(th) {
    const out = [];
    if (th.blocked) out.push(h('span', { class: 'chip chip-filtered', text: t('act.badgeBlocked') }));
    else if (th.spam) out.push(h('span', { class: 'chip chip-filtered', text: t('act.badgeSpam') }));
    if (th.archived) out.push(h('span', { class: 'chip chip-trash', text: t('act.badgeTrash') }));
    return out;
  }

  /** renderHead brings the buttons and the viewers line up to date for thread th. */
  renderHead(th) {
    if (!this.tools) return;
    this.tools.hidden = !th;
    if (!th) return;
    this.deleteBtn.textContent = th.archived ? t('act.restore') : t('act.delete');
    this.blockBtn.textContent = th.blocked ? t('act.unblock') : t('act.block');
    this.spamBtn.textContent = th.spam ? t('act.notSpam') : t('act.spam');
    this.blockBtn.hidden = !th.associatedContactId || th.associatedContactId === '0';
    this.transcriptBtn.hidden = !transcriptAllowed(th);
    for (const b of [this.deleteBtn, this.blockBtn, this.spamBtn]) b.disabled = this.busy;
    this.renderViewers();
  }

  renderViewers() {
    if (!this.alsoEl) return;
    const id = this.app.open?.id;
    const others = (this.viewers.get(id) ?? []).filter((u) => String(u.id) !== this.app.me.id);
    const text = others.length ? t('act.alsoViewing', { names: others.map((u) => u.name).join(', ') }) : '';
    if (this.alsoEl.textContent !== text) this.alsoEl.textContent = text;
    this.alsoEl.hidden = !text;
  }

  // ----- running actions -----

  toggle(on, off, field) {
    const th = this.app.threads.get(this.app.open?.id);
    if (th) this.run(th[field] ? off : on);
  }

  /** run does action kind on the open conversation and offers to undo it. */
  async run(kind, id = this.app.open?.id) {
    const a = ACTIONS[kind];
    if (!a || !id || this.busy) return;
    const app = this.app;
    this.busy = true;
    this.renderHead(app.threads.get(id));
    try {
      const raw = await a.call(id);
      const th = app.threads.get(id);
      if (raw?.id) app.putThread(raw, true);
      else if (th) app.putThread({ ...th, ...a.patch }, true);
      app.notifier?.info(t(a.done), { label: t('act.undo'), run: () => this.run(a.undo, id) });
    } catch (err) {
      app.failed(err, 'act.failed');
    } finally {
      this.busy = false;
    }
    app.render();
    this.renderHead(app.threads.get(app.open?.id));
  }

  /** shortcut handles a conversation key: e closes or reopens, a assigns to me. */
  shortcut(key) {
    const app = this.app;
    const th = app.threads.get(app.open?.id);
    if (!th) return false;
    if (key === 'e') {
      if (!app.conv.bot.blocksStatus(th)) app.conv.toggleStatus();
      return true;
    }
    if (key === 'a') {
      if (th.assignedTo !== app.me.actorId) app.assign(app.me.actorId);
      return true;
    }
    return false;
  }

  // ----- also viewing -----

  /** sendViewing tells the server which thread this console shows; force repeats it after a reconnect. */
  sendViewing(force = false) {
    const id = this.app.open?.id ?? '';
    if (!force && id === this.sentViewing) return;
    if (this.app.socket.send({ type: 'viewing', threadId: id })) this.sentViewing = id;
    else this.sentViewing = null; // sent on the next ready
  }

  onReady() {
    this.viewers.clear(); // the server forgot us; it answers the next viewing
    this.sendViewing(true);
    this.renderViewers();
  }

  onViewers(ev) {
    if (!ev.threadId) return;
    const users = Array.isArray(ev.users) ? ev.users : [];
    if (users.length) this.viewers.set(String(ev.threadId), users);
    else this.viewers.delete(String(ev.threadId));
    if (this.app.open?.id === String(ev.threadId)) this.renderViewers();
  }

  // ----- system events -----

  /** systemText is the line shown for a SYSTEM message m done by who. */
  systemText(m, who) {
    const e = SYSTEM_EVENTS[m.event];
    const key = typeof e === 'function' ? e(m) : e;
    const name = who || t('sys.someone');
    if (!key) return t('sys.other', { name, event: m.event || '?' });
    const ch = assigneeChange(m);
    const user = (actorId) => this.app.users.get(actorId)?.name || actorId;
    return t(key, { name, what: m.text || '', from: ch ? user(ch.from) : '', to: ch ? user(ch.to) : '' }).trim();
  }

  // ----- trash -----

  /** openTrash shows the conversations in the trash of the current inbox, to open or restore. */
  async openTrash(opener) {
    const app = this.app;
    const headId = uid('trash');
    const list = h('ul', { class: 'dialog-list' });
    const note = h('p', { class: 'muted', role: 'status', text: t('trash.loading') });
    const dlg = dialog(headId, t('trash.title'), [h('p', { class: 'muted small', text: t('trash.hint') }), note, list], opener);
    const fill = (threads) => {
      note.textContent = threads.length ? '' : t('trash.empty');
      list.replaceChildren(
        ...threads.sort(byActivity).map((raw) => {
          const th = { ...raw, id: String(raw.id) };
          const when = th.latestMessageTimestamp || th.createdAt;
          const restore = h('button', {
            type: 'button',
            class: 'btn btn-sm',
            text: t('act.restore'),
            onClick: async () => {
              await this.run('restore', th.id);
              if (!app.threads.get(th.id)?.archived) {
                li.remove();
                if (!list.children.length) note.textContent = t('trash.empty');
                (list.querySelector('button') ?? dlg.querySelector('.dialog-close'))?.focus();
              }
            },
          });
          const open = h('button', {
            type: 'button',
            class: 'btn btn-sm btn-ghost',
            text: t('trash.open'),
            onClick: () => {
              app.putThread(raw);
              dlg.close();
              app.navigate(th.id);
            },
          });
          // Deleting for good asks twice: the first press arms the button.
          const forever =
            app.me.role === 'admin'
              ? h('button', {
                  type: 'button',
                  class: 'btn btn-sm',
                  text: t('trash.deleteForever'),
                  onClick: async () => {
                    if (!forever.classList.contains('btn-danger')) {
                      forever.classList.add('btn-danger');
                      forever.textContent = t('trash.confirmForever');
                      note.textContent = t('trash.confirmHint', { name: contactName(th) });
                      return;
                    }
                    try {
                      await request('DELETE', `api/v1/threads/${enc(th.id)}`);
                    } catch (err) {
                      app.failed(err, 'trash.deleteFailed');
                      return;
                    }
                    app.onThreadDeleted(th.id);
                    li.remove();
                    note.textContent = list.children.length ? t('trash.deleted', { name: contactName(th) }) : t('trash.empty');
                    (list.querySelector('button') ?? dlg.querySelector('.dialog-close'))?.focus();
                  },
                })
              : null;
          const li = h(
            'li',
            { class: 'dialog-row' },
            h('div', { class: 'dialog-row-text' }, h('span', { class: 'row-name', dir: 'auto', text: contactName(th) }), h('span', { class: 'muted small', dir: 'auto', text: th.preview || t('list.noPreview') })),
            h('time', { class: 'muted small', datetime: when, title: fullDate(when), text: ago(when) }),
            open,
            restore,
            forever,
          );
          return li;
        }),
      );
    };
    try {
      const q = new URLSearchParams({ archived: 'true', sort: '-latestMessageTimestamp', limit: '100' });
      if (app.inboxId) q.set('inboxId', app.inboxId);
      const res = await request('GET', `${CONV}/threads?${q}`);
      if (dlg.open) fill(res?.results ?? []);
    } catch (err) {
      if (app.failed(err)) return;
      note.textContent = t('trash.failed');
    }
  }
}

/**
 * confirmDelete asks in a dialog before deleting: title and warning say
 * what goes, the confirm button (text) runs remove. A failure stays in the
 * dialog (failKey when the server says nothing); once removed, the dialog
 * closes and done runs. app reports a lost session.
 */
export function confirmDelete(app, { title, warning, confirm, failKey, remove, done }, opener) {
  const error = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const yes = h('button', {
    type: 'button',
    class: 'btn btn-danger',
    text: confirm,
    onClick: async () => {
      yes.disabled = true;
      try {
        await remove();
      } catch (err) {
        if (app.failed(err)) return;
        error.textContent = err.message || t(failKey);
        error.hidden = false;
        yes.disabled = false;
        return;
      }
      dlg.close();
      done();
    },
  });
  const cancel = h('button', { type: 'button', class: 'btn', text: t('inbox.cancel'), onClick: () => dlg.close() });
  const dlg = dialog(uid('del'), title, [h('p', { text: warning }), error, h('div', { class: 'dialog-actions' }, cancel, yes)], opener);
  yes.focus();
}

/**
 * dialog opens a modal dialog titled title with body and a Close button, and
 * returns it. Keys pressed inside stay inside (the console's shortcuts do not
 * fire); Escape and Close return focus to opener. It removes itself once
 * closed.
 */
export function dialog(headId, title, body, opener) {
  const close = h('button', { type: 'button', class: 'btn btn-ghost btn-sm dialog-close', text: t('dialog.close'), onClick: () => dlg.close() });
  const dlg = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': headId, onKeydown: (e) => e.stopPropagation() },
    h('div', { class: 'dialog-head' }, h('h2', { id: headId, class: 'dialog-title', text: title }), close),
    h('div', { class: 'dialog-body' }, body),
  );
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

/** mountTools adds the sidebar's tools to nav: Trash, Snippets, Links and Notifications, each a dialog. */
export function mountTools(app, nav) {
  const headId = uid('tools');
  const item = (key, open) => {
    const b = h('button', {
      type: 'button',
      class: 'nav-item',
      onClick: () => {
        // In a narrow window the sidebar closes: focus then returns to its menu button.
        const opener = app.shell.navOpen ? app.shell.menuBtn : b;
        app.shell.toggleNav(false);
        open(opener);
      },
    }, h('span', { class: 'nav-item-label', text: t(key) }));
    return h('li', null, b);
  };
  nav.append(
    h('h2', { id: headId, class: 'nav-head', text: t('nav.tools') }),
    h(
      'div',
      { role: 'group', 'aria-labelledby': headId },
      h(
        'ul',
        { class: 'nav-list' },
        item('tools.trash', (o) => app.actions.openTrash(o)),
        item('tools.snippets', (o) => app.snippets.open(o)),
        item('tools.links', (o) => linksOf(app).open(o)),
        item('tools.notify', (o) => app.notifier.openSettings(o)),
        item('tools.signature', (o) => openSignature(app, o)),
      ),
    ),
  );
}
