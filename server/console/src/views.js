// The list's views, filters and live counts. The server does the listing
// (GET …/threads with view and filter parameters); the console only places
// live changes with the same rules (inList), so that a conversation that
// changes moves into, within or out of the list without a reload.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { fmtNumber, t } from './i18n.js';
import { CHANNEL_EMAIL, activity, channelOf, inView, pref, setPref } from './model.js';

/** LIST_VIEWS are the sidebar's views, in order (I4). */
export const LIST_VIEWS = ['all', 'mine', 'unassigned', 'email', 'chat', 'bots', 'filtered'];

const CHANNEL_CHAT = '1000';
const COUNTS_DELAY = 400; // ms from an event to the fetch of the counts

/** noFilters is the filter state that filters nothing. */
export const noFilters = () => ({ channel: '', assignee: '', from: '', to: '' });

/** loadFilters reads the saved filters (they survive a reload). */
export function loadFilters() {
  try {
    const f = JSON.parse(pref('filters') || 'null');
    if (f && typeof f === 'object') {
      const out = noFilters();
      for (const k of Object.keys(out)) if (typeof f[k] === 'string') out[k] = f[k];
      return out;
    }
  } catch {
    /* start without */
  }
  return noFilters();
}

/** activeFilters counts the filters set. */
export const activeFilters = (f) => Object.values(f).filter(Boolean).length;

/** dayStart returns the ISO time a date input's day ("2025-03-01") starts, local time; plus days. */
function dayStart(value, plus = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
  if (!m) return '';
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plus).toISOString();
}

/**
 * listParams are the query parameters of GET …/threads for the app's list:
 * its view and filters. The status (threadStatus) and inbox go separately.
 */
export function listParams(app) {
  const f = app.filters;
  return {
    view: app.view,
    channelId: f.channel === 'email' ? CHANNEL_EMAIL : f.channel === 'chat' ? CHANNEL_CHAT : '',
    assignee: f.assignee,
    latestMessageTimestampAfter: dayStart(f.from),
    latestMessageTimestampBefore: dayStart(f.to, 1), // the whole "to" day
  };
}

/**
 * inList reports whether thread th belongs in the app's list as the server
 * would list it: inbox, status, not archived, the view and the filters.
 */
export function inList(app, th) {
  if (app.inboxId && th.inboxId && th.inboxId !== app.inboxId) return false;
  if (th.status !== app.status || th.archived) return false;
  // The bot's conversations are in Bots until hand-off, and only there (B1).
  const bot = th.owner === 'bot' && !th.filtered;
  if (app.view === 'bots' ? !bot : bot || !inView(th, app.view, app.me.actorId)) return false;
  const f = app.filters;
  if (f.channel && channelOf(th) !== f.channel) return false;
  if (f.assignee === 'none' ? th.assignedTo : f.assignee && th.assignedTo !== f.assignee) return false;
  const at = Date.parse(th.latestMessageTimestamp || '') || 0;
  if (f.from && !(at > Date.parse(dayStart(f.from)))) return false;
  if (f.to && !(at && at < Date.parse(dayStart(f.to, 1)))) return false;
  return true;
}

/** sortKey orders the list as the server does: latest activity, then id, both descending. */
export const byLatest = (a, b) => activity(b) - activity(a) || Number(b.id) - Number(a.id);

/**
 * ViewCounts keeps the sidebar's counts of open conversations per view,
 * fetched from the server at start, on inbox change, after a reconnect and
 * (debounced) after events that can change them. No polling.
 */
export class ViewCounts {
  constructor(app) {
    this.app = app;
    this.counts = null;
    this.gen = 0;
    this.timer = 0;
  }

  async load() {
    const app = this.app;
    const gen = ++this.gen;
    try {
      const q = app.inboxId ? `?inboxId=${encodeURIComponent(app.inboxId)}` : '';
      const res = await request('GET', `api/v1/views/counts${q}`);
      if (gen !== this.gen || app.ended) return;
      this.counts = res;
    } catch (err) {
      if (gen !== this.gen || app.failed(err)) return;
    }
    app.shell.renderViews();
  }

  /**
   * schedule refetches the counts a moment after an event; the events of a
   * burst share one fetch, and a steady stream fetches at most every
   * COUNTS_DELAY.
   */
  schedule() {
    if (this.timer) return; // a fetch is due already
    this.timer = setTimeout(() => {
      this.app.timers.delete(this.timer);
      this.timer = 0;
      this.load();
    }, COUNTS_DELAY);
    this.app.timers.add(this.timer);
  }

  /** onEvent refetches after the socket events that can change a count. */
  onEvent(ev) {
    if (ev.type === 'thread.created' || ev.type === 'thread.updated' || ev.type === 'message.created') this.schedule();
    else if (ev.type === 'ready') this.load();
  }

  get(view) {
    const n = this.counts?.[view];
    return typeof n === 'number' ? n : null;
  }
}

/** viewItems builds the sidebar's view buttons with their counts. */
export function viewItems(app) {
  return LIST_VIEWS.map((v) => {
    const n = app.counts?.get(v) ?? null;
    const label = t(`view.${v}`);
    return h(
      'li',
      null,
      h(
        'button',
        {
          type: 'button',
          class: 'nav-item',
          dataset: { view: v },
          'aria-current': v === app.view ? 'true' : null,
          'aria-label': n === null ? label : t('views.countLabel', { view: label, n }),
          onClick: () => app.setView(v),
        },
        h('span', { class: 'nav-item-label', text: label }),
        // The space keeps label and count two words of the visible text,
        // which the accessible name must contain ("All conversations 2").
        n === null ? null : ' ',
        n === null ? null : h('span', { class: `count${n ? '' : ' count-zero'}`, 'aria-hidden': 'true', text: fmtNumber(n) }),
      ),
    );
  });
}

/** setListView switches the list to view and lists it again from the server. */
export function setListView(app, view) {
  if (!LIST_VIEWS.includes(view)) return;
  const changed = view !== app.view;
  app.view = view;
  setPref('view', view);
  app.shell.toggleNav(false);
  if (changed) reloadList(app);
  else app.render();
}

/** setListFilters replaces the filters and lists again. */
export function setListFilters(app, filters) {
  app.filters = { ...noFilters(), ...filters };
  setPref('filters', JSON.stringify(app.filters));
  reloadList(app);
}

function reloadList(app) {
  app.listState = 'loading';
  app.nextAfter = null;
  app.threads = new Map([...app.threads].filter(([id]) => id === app.open?.id));
  app.render();
  app.loadList();
}

/**
 * FilterPanel is the list's "Filters" disclosure: status, channel,
 * assignee and a date range of the latest activity, combinable with the
 * view. Changes apply at once.
 */
export class FilterPanel {
  constructor(app) {
    this.app = app;
    const panelId = uid('filters');
    this.toggle = h('button', {
      type: 'button',
      class: 'btn btn-ghost btn-sm filter-toggle',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      onClick: () => this.setOpen(this.panel.hidden),
    });
    const field = (label, control) => {
      control.id = uid('f');
      return h('div', { class: 'filter-field' }, h('label', { for: control.id, text: label }), control);
    };
    this.status = h(
      'select',
      { class: 'select', onChange: (e) => app.setListStatus(e.target.value) },
      h('option', { value: 'OPEN', text: t('tab.open') }),
      h('option', { value: 'CLOSED', text: t('tab.closed') }),
    );
    this.channel = h(
      'select',
      { class: 'select', onChange: () => this.apply() },
      h('option', { value: '', text: t('filters.anyChannel') }),
      h('option', { value: 'chat', text: t('channel.chat') }),
      h('option', { value: 'email', text: t('channel.email') }),
    );
    this.assignee = h('select', { class: 'select', onChange: () => this.apply() });
    this.from = h('input', { type: 'date', class: 'input', onChange: () => this.apply() });
    this.to = h('input', { type: 'date', class: 'input', onChange: () => this.apply() });
    this.clear = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('filters.clear'), onClick: () => this.reset() });
    this.panel = h(
      'div',
      { id: panelId, class: 'filter-panel', role: 'group', 'aria-label': t('filters.label'), hidden: true, onKeydown: (e) => this.key(e) },
      field(t('list.status'), this.status),
      field(t('filters.channel'), this.channel),
      field(t('filters.assignee'), this.assignee),
      field(t('filters.from'), this.from),
      field(t('filters.to'), this.to),
      h('div', { class: 'filter-actions' }, this.clear),
    );
  }

  setOpen(open, focus = true) {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open && focus) this.status.focus();
    else if (!open && focus) this.toggle.focus();
  }

  key(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.setOpen(false);
    }
  }

  apply() {
    const from = this.from.value;
    let to = this.to.value;
    if (from && to && to < from) to = from; // a range that ends before it starts means that one day
    setListFilters(this.app, { channel: this.channel.value, assignee: this.assignee.value, from, to });
  }

  reset() {
    setListFilters(this.app, noFilters());
    this.toggle.focus();
  }

  render() {
    const app = this.app;
    const f = app.filters;
    const n = activeFilters(f);
    this.toggle.textContent = n ? t('filters.buttonN', { n }) : t('filters.button');
    this.toggle.classList.toggle('on', n > 0);
    this.status.value = app.status;
    this.channel.value = f.channel;
    this.from.value = f.from;
    this.to.value = f.to;
    this.clear.disabled = n === 0;
    const users = [...app.users.values()].filter((u) => u.actorId !== app.me.actorId && !u.deactivated).sort((a, b) => a.name.localeCompare(b.name));
    const opts = [
      ['', t('filters.anyone')],
      ['none', t('list.unassigned')],
      [app.me.actorId, t('conv.you', { name: app.me.name })],
      ...users.map((u) => [u.actorId, u.name]),
    ];
    if (f.assignee && !opts.some(([v]) => v === f.assignee)) opts.push([f.assignee, f.assignee]);
    const sig = JSON.stringify(opts);
    if (sig !== this.assigneeSig) {
      this.assigneeSig = sig;
      this.assignee.replaceChildren(...opts.map(([value, text]) => h('option', { value, text })));
    }
    this.assignee.value = f.assignee;
  }

  /** summary is a short text of the filters set, for the list's heading. */
  summary() {
    const app = this.app;
    const f = app.filters;
    const parts = [];
    if (f.channel) parts.push(t(`channel.${f.channel}`));
    if (f.assignee === 'none') parts.push(t('list.unassigned'));
    else if (f.assignee) parts.push(f.assignee === app.me.actorId ? t('conv.you', { name: app.me.name }) : app.users.get(f.assignee)?.name || f.assignee);
    if (f.from || f.to) parts.push(`${f.from || '…'} – ${f.to || '…'}`);
    return parts.join(' · ');
  }
}
