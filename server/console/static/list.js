// The conversation list: Open/Closed tabs and one link per thread, newest
// activity first, updated in place as events arrive. One row is the cursor
// (roving tabindex): j/k and the arrow keys move it, Enter or o opens it.

import { h, uid } from './dom.js';
import { ago, fullDate, t } from './i18n.js';
import { channelOf, threadPath } from './model.js';

const STATUSES = ['OPEN', 'CLOSED'];

/** ThreadList renders app.listed() and keeps its rows keyed by thread id. */
export class ThreadList {
  constructor(app) {
    this.app = app;
    this.rows = new Map(); // id → { li, a, sig }
    this.cursorId = null;
    this.tabs = new Map();
    const panelId = uid('threads');
    const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('list.status'), onKeydown: (e) => this.tabKey(e) });
    for (const s of STATUSES) {
      const tab = h('button', {
        type: 'button',
        role: 'tab',
        id: uid('tab'),
        class: 'tab',
        'aria-controls': panelId,
        text: t(s === 'OPEN' ? 'tab.open' : 'tab.closed'),
        onClick: () => this.app.setListStatus(s),
      });
      this.tabs.set(s, tab);
      tablist.append(tab);
    }
    this.title = h('h2', { class: 'list-title' });
    this.ul = h('ul', { class: 'thread-list', onKeydown: (e) => this.rowKey(e) });
    this.note = h('div', { class: 'list-note', role: 'status' });
    this.more = h('button', { type: 'button', class: 'btn btn-ghost btn-block', text: t('list.more'), hidden: true, onClick: () => this.app.loadMore() });
    this.panel = h('div', { id: panelId, role: 'tabpanel', class: 'list-body' }, this.ul, this.note, this.more);
    this.el = h('section', { class: 'list-pane', 'aria-label': t('list.label') }, h('div', { class: 'list-head' }, this.title, tablist), this.panel);
  }

  render() {
    const app = this.app;
    this.title.textContent = t(`view.${app.view}`);
    for (const [s, tab] of this.tabs) {
      const on = s === app.status;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on) this.panel.setAttribute('aria-labelledby', tab.id);
    }
    const list = app.listState === 'ready' ? app.listed() : [];
    const ids = list.map((th) => th.id);
    if (!ids.includes(this.cursorId)) this.cursorId = ids.includes(app.open?.id) ? app.open.id : (ids[0] ?? null);

    const active = document.activeElement;
    const now = Date.now();
    const keep = new Set(ids);
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    let prev = null;
    for (const th of list) {
      let row = this.rows.get(th.id);
      if (!row) {
        const a = h('a', { class: 'thread-row', href: threadPath(th.id), dataset: { id: th.id }, onClick: (e) => this.click(e, th.id) });
        row = { li: h('li', null, a), a, sig: '' };
        this.rows.set(th.id, row);
      }
      this.fill(row, th, now);
      const want = prev ? prev.nextSibling : this.ul.firstChild;
      if (want !== row.li) this.ul.insertBefore(row.li, want);
      prev = row.li;
    }
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });

    this.note.replaceChildren();
    if (app.listState === 'loading') this.note.append(h('p', { class: 'muted', text: t('list.loading') }));
    else if (app.listState === 'error')
      this.note.append(
        h('p', { text: t('list.failed') }),
        h('button', { type: 'button', class: 'btn', text: t('list.retry'), onClick: () => app.loadList() }),
      );
    else if (!list.length) this.note.append(h('p', { class: 'empty-title', text: t('list.empty') }), h('p', { class: 'muted small', text: t('list.emptyHint') }));
    this.more.hidden = !(app.listState === 'ready' && app.nextAfter);
  }

  fill(row, th, now) {
    const app = this.app;
    const unread = app.isUnread(th);
    const current = app.open?.id === th.id;
    const name = th.contactName || t('contact.unknown');
    const when = th.latestMessageTimestamp || th.createdAt;
    const channel = channelOf(th);
    const assignee = th.assignedTo ? app.users.get(th.assignedTo)?.name || th.assignedTo : '';
    const sig = JSON.stringify([name, th.preview, ago(when, now), channel, th.status, assignee, unread, current]);
    row.a.tabIndex = th.id === this.cursorId ? 0 : -1;
    if (current) row.a.setAttribute('aria-current', 'page');
    else row.a.removeAttribute('aria-current');
    row.a.classList.toggle('unread', unread);
    if (sig === row.sig) return;
    row.sig = sig;
    // The spaces keep words apart in the link's accessible name; flex and
    // grid layout ignore them.
    row.a.replaceChildren(
      h(
        'span',
        { class: 'row-top' },
        h('span', { class: 'unread-dot', 'aria-hidden': 'true' }),
        unread ? h('span', { class: 'sr-only', text: `${t('list.unread')}: ` }) : null,
        h('span', { class: 'row-name', dir: 'auto', text: name }),
        ' ',
        h('time', { class: 'row-time', datetime: when, title: fullDate(when), text: ago(when, now) }),
      ),
      ' ',
      h('span', { class: 'row-preview', dir: 'auto', text: th.preview || t('list.noPreview') }),
      ' ',
      h(
        'span',
        { class: 'row-meta' },
        h('span', { class: `chip chip-${channel}`, text: t(`channel.${channel}`) }),
        ' ',
        h('span', { class: `chip chip-${th.status.toLowerCase()}`, text: t(`status.${th.status}`) }),
        ' ',
        h('span', { class: 'row-assignee', text: assignee || t('list.unassigned') }),
      ),
    );
  }

  click(e, id) {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
    e.preventDefault();
    this.cursorTo(id);
    this.app.navigate(id);
  }

  /** isHidden reports whether the list is off screen (narrow window, thread open). */
  isHidden() {
    return this.el.offsetParent === null || getComputedStyle(this.el).display === 'none';
  }

  cursorTo(id) {
    if (!id || !this.rows.has(id)) return;
    this.cursorId = id;
    for (const [rid, row] of this.rows) row.a.tabIndex = rid === id ? 0 : -1;
  }

  /**
   * move moves the cursor by delta rows and focuses it. From outside the
   * list it starts at the open conversation, so j/k step to its neighbours.
   */
  move(delta) {
    const ids = [...this.ul.children].map((li) => li.firstChild.dataset.id);
    if (!ids.length) return;
    const openId = this.app.open?.id;
    if (!this.ul.contains(document.activeElement) && ids.includes(openId)) this.cursorId = openId;
    let i = ids.indexOf(this.cursorId);
    i = i < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, i + delta));
    this.cursorTo(ids[i]);
    this.focusCursor();
  }

  focusCursor() {
    const row = this.rows.get(this.cursorId);
    if (!row || this.isHidden()) return false;
    row.a.focus();
    row.a.scrollIntoView({ block: 'nearest' });
    return true;
  }

  openCursor() {
    if (this.cursorId) this.app.navigate(this.cursorId);
  }

  rowKey(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      this.move(e.key === 'ArrowDown' ? 1 : -1);
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      this.move(e.key === 'Home' ? -Infinity : Infinity);
    }
  }

  tabKey(e) {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const i = STATUSES.indexOf(this.app.status);
    const next = STATUSES[(i + (e.key === 'ArrowRight' ? 1 : STATUSES.length - 1)) % STATUSES.length];
    this.app.setListStatus(next);
    this.tabs.get(next).focus();
  }
}
