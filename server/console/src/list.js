// The conversation list: the search box, Open/Closed tabs and the filters
// over one link per thread, newest activity first, updated in place as
// events arrive and paged in from the server as the list scrolls. While the
// search box holds text the list shows its hits instead. One row is the
// cursor (roving tabindex): j/k and the arrow keys move it, Enter or o opens
// it.

import { h, plainClick, uid } from './dom.js';
import { ago, contactName, fullDate, t } from './i18n.js';
import { channelOf, threadPath } from './model.js';
import { highlighted } from './search.js';
import { FilterPanel } from './views.js';

const STATUSES = ['OPEN', 'CLOSED'];
const MORE_MARGIN = 400; // px: load the next page this far before the end

/** ThreadList renders app.listed() (or the search hits) and keeps its rows keyed by thread id. */
export class ThreadList {
  constructor(app) {
    this.app = app;
    this.rows = new Map(); // id → { li, a, sig }: the view's rows
    this.hitRows = new Map(); // the same for search hits
    this.cursorId = null;
    this.tabs = new Map();
    this.loadingMore = false;
    const panelId = uid('threads');
    this.tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('list.status'), onKeydown: (e) => this.tabKey(e) });
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
      this.tablist.append(tab);
    }
    this.filters = new FilterPanel(app);
    // The pane is named by its title (the view), so that it differs from the
    // contact page's "Conversations" beside it.
    this.title = h('h2', { id: uid('list-title'), class: 'list-title' });
    this.subtitle = h('p', { class: 'list-subtitle muted small' });
    this.ul = h('ul', { class: 'thread-list', onKeydown: (e) => this.rowKey(e) });
    this.hitUl = h('ul', { class: 'thread-list search-hits', 'aria-label': t('search.results'), hidden: true, onKeydown: (e) => this.rowKey(e) });
    this.note = h('div', { class: 'list-note', role: 'status' });
    this.more = h('button', { type: 'button', class: 'btn btn-ghost btn-block', text: t('list.more'), hidden: true, onClick: () => this.loadMore() });
    this.panel = h('div', { id: panelId, role: 'tabpanel', class: 'list-body', onScroll: () => this.checkMore() }, this.ul, this.hitUl, this.note, this.more);
    this.head = h(
      'div',
      { class: 'list-head' },
      h('div', { class: 'list-title-row' }, this.title, this.filters.toggle),
      this.subtitle,
      app.search.el,
      this.tablist,
      this.filters.panel,
    );
    this.el = h('section', { class: 'list-pane', 'aria-labelledby': this.title.id }, app.shell.heading, this.head, this.panel);
  }

  render() {
    const app = this.app;
    const searching = app.search.active;
    this.head.classList.toggle('searching', searching);
    this.tablist.hidden = searching;
    this.filters.toggle.hidden = searching;
    if (searching) this.filters.panel.hidden = true;
    else this.filters.render();

    if (searching) {
      this.title.textContent = t('search.title');
      this.subtitle.textContent = t('search.scope');
      this.panel.removeAttribute('aria-labelledby');
      this.panel.setAttribute('aria-label', t('search.results'));
    } else {
      this.title.textContent = t(`view.${app.view}`);
      this.subtitle.textContent = this.filters.summary();
      this.panel.removeAttribute('aria-label');
      for (const [s, tab] of this.tabs) {
        const on = s === app.status;
        tab.setAttribute('aria-selected', String(on));
        tab.tabIndex = on ? 0 : -1;
        if (on) this.panel.setAttribute('aria-labelledby', tab.id);
      }
    }
    this.subtitle.hidden = !this.subtitle.textContent;
    this.ul.hidden = searching;
    this.hitUl.hidden = !searching;

    let items;
    let state;
    if (searching) {
      state = app.search.state === 'idle' ? 'loading' : app.search.state;
      items = state === 'ready' || state === 'loading' ? app.search.hits.map((x) => app.search.hit(x.thread.id)) : [];
    } else {
      state = app.listState;
      items = state === 'ready' ? app.listed().map((th) => ({ thread: th })) : [];
    }
    const ids = items.map((x) => x.thread.id);
    if (!ids.includes(this.cursorId)) this.cursorId = ids.includes(app.open?.id) ? app.open.id : (ids[0] ?? null);

    const active = document.activeElement;
    const now = Date.now();
    const [ul, rows] = searching ? [this.hitUl, this.hitRows] : [this.ul, this.rows];
    const keep = new Set(ids);
    for (const [id, row] of rows) {
      if (!keep.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    let prev = null;
    for (const x of items) {
      const id = x.thread.id;
      let row = rows.get(id);
      if (!row) {
        const a = h('a', { class: 'thread-row', href: threadPath(id), dataset: { id }, onClick: (e) => this.click(e, id) });
        row = { li: h('li', null, a), a, sig: '' };
        rows.set(id, row);
      }
      this.fill(row, x, now, searching);
      const want = prev ? prev.nextSibling : ul.firstChild;
      if (want !== row.li) ul.insertBefore(row.li, want);
      prev = row.li;
    }
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });

    this.note.replaceChildren();
    if (state === 'loading' && !items.length) this.note.append(h('p', { class: 'muted', text: t(searching ? 'search.searching' : 'list.loading') }));
    else if (state === 'error')
      this.note.append(
        h('p', { text: t(searching ? 'search.failed' : 'list.failed') }),
        h('button', { type: 'button', class: 'btn', text: t('list.retry'), onClick: () => (searching ? app.search.run() : app.loadList()) }),
      );
    else if (!items.length && searching) this.note.append(h('p', { class: 'empty-title', text: t('search.none', { q: app.search.q }) }), h('p', { class: 'muted small', text: t('search.noneHint') }));
    else if (!items.length && app.inboxes?.length === 0)
      // A member of no inbox sees no conversation at all: say why and what to do.
      this.note.append(h('p', { class: 'empty-title', text: t('list.noInbox') }), h('p', { class: 'muted small', text: app.me.role === 'admin' ? t('list.noInboxAdmin') : t('list.noInboxHint') }));
    else if (!items.length) this.note.append(h('p', { class: 'empty-title', text: t('list.empty') }), h('p', { class: 'muted small', text: t('list.emptyHint') }));
    this.more.hidden = !(state === 'ready' && (searching ? app.search.nextAfter : app.nextAfter));
    this.checkMore();
  }

  fill(row, x, now, searching) {
    const app = this.app;
    const th = x.thread;
    const unread = app.isUnread(th);
    const current = app.open?.id === th.id;
    const name = contactName(th);
    const when = th.latestMessageTimestamp || th.createdAt;
    const channel = channelOf(th);
    const assignee = th.assignedTo ? app.users.get(th.assignedTo)?.name || th.assignedTo : '';
    const filtered = th.blocked ? 'blocked' : th.spam ? 'spam' : '';
    const text = channel === 'email' && th.subject ? th.subject : th.preview;
    const replyFailed = !!th.latestReplyFailed;
    const sig = JSON.stringify([name, text, ago(when, now), channel, th.status, assignee, filtered, unread, current, replyFailed, x.snippet, x.highlights]);
    row.a.tabIndex = th.id === this.cursorId ? 0 : -1;
    if (current) row.a.setAttribute('aria-current', 'page');
    else row.a.removeAttribute('aria-current');
    row.a.classList.toggle('unread', unread);
    if (sig === row.sig) return;
    row.sig = sig;
    const line = searching
      ? h('span', { class: 'row-preview row-snippet', dir: 'auto' }, x.field && x.field !== 'message' ? h('span', { class: 'row-field', text: `${t(`search.field.${x.field}`)}: ` }) : null, highlighted(x.snippet, x.highlights))
      : h('span', { class: 'row-preview', dir: 'auto', text: text || t('list.noPreview') });
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
      line,
      ' ',
      h(
        'span',
        { class: 'row-meta' },
        h('span', { class: `chip chip-${channel}`, text: t(`channel.${channel}`) }),
        ' ',
        h('span', { class: `chip chip-${th.status.toLowerCase()}`, text: t(`status.${th.status}`) }),
        filtered ? ' ' : null,
        filtered ? h('span', { class: 'chip chip-filtered', text: t(`list.${filtered}`) }) : null,
        replyFailed ? ' ' : null,
        replyFailed ? h('span', { class: 'chip chip-reply-failed', role: 'img', 'aria-label': t('list.replyFailed'), title: t('list.replyFailed'), text: '!' }) : null,
        ' ',
        h('span', { class: 'row-assignee', text: assignee || t('list.unassigned') }),
      ),
    );
  }

  /** loadMore fetches the next page of the view or of the hits, once at a time. */
  loadMore() {
    if (this.loadingMore || this.more.hidden) return;
    const app = this.app;
    this.loadingMore = true;
    Promise.resolve(app.search.active ? app.search.loadMore() : app.loadMore()).finally(() => {
      this.loadingMore = false;
      this.checkMore();
    });
  }

  /** checkMore loads the next page when the end of the list scrolls near. */
  checkMore() {
    if (this.more.hidden || this.loadingMore || this.isHidden()) return;
    const p = this.panel;
    if (p.scrollTop + p.clientHeight >= p.scrollHeight - MORE_MARGIN) this.loadMore();
  }

  activeUl() {
    return this.app.search.active ? this.hitUl : this.ul;
  }

  activeRows() {
    return this.app.search.active ? this.hitRows : this.rows;
  }

  click(e, id) {
    if (!plainClick(e)) return; // new tab etc.
    e.preventDefault();
    this.cursorTo(id);
    this.app.navigate(id);
  }

  /** isHidden reports whether the list is off screen (narrow window, thread open). */
  isHidden() {
    return this.el.offsetParent === null || getComputedStyle(this.el).display === 'none';
  }

  cursorTo(id) {
    const rows = this.activeRows();
    if (!id || !rows.has(id)) return;
    this.cursorId = id;
    for (const [rid, row] of rows) row.a.tabIndex = rid === id ? 0 : -1;
  }

  /**
   * move moves the cursor by delta rows and focuses it. From outside the
   * list it starts at the open conversation, so j/k step to its neighbours.
   */
  move(delta) {
    const ul = this.activeUl();
    const ids = [...ul.children].map((li) => li.firstChild.dataset.id);
    if (!ids.length) return;
    const openId = this.app.open?.id;
    if (!ul.contains(document.activeElement) && ids.includes(openId)) this.cursorId = openId;
    let i = ids.indexOf(this.cursorId);
    i = i < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, i + delta));
    this.cursorTo(ids[i]);
    this.focusCursor();
  }

  focusCursor() {
    const row = this.activeRows().get(this.cursorId);
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
