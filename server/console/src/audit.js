// Settings → Audit log: who changed which setting, user, inbox, widget, bot,
// API token, webhook or mailbox, and who signed in, newest first
// (GET /api/v1/audit, docs/operations.md). Admins filter by who did it and
// by the kind of change, and load older entries a page at a time.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { fullDate, t } from './i18n.js';

/** KINDS are the action kinds of the filter: the prefix of the actions. */
const KINDS = ['settings', 'user', 'team', 'inbox', 'mailbox', 'widget', 'bot', 'list', 'template', 'token', 'webhook', 'channel', 'contact', 'session'];

/** ACTIONS are the actions the log names in words; others show as they are. */
const ACTIONS = new Set([
  'settings.update',
  'user.invite',
  'user.uninvite',
  'user.update',
  'team.create',
  'team.update',
  'team.delete',
  'inbox.create',
  'inbox.update',
  'inbox.delete',
  'mailbox.update',
  'mailbox.delete',
  'widget.create',
  'widget.update',
  'widget.delete',
  'bot.update',
  'token.create',
  'token.delete',
  'webhook.update',
  'webhook.delete',
  'webhook.subscription.create',
  'webhook.subscription.update',
  'webhook.subscription.delete',
  'channel.create',
  'channel.update',
  'channel.delete',
  'contact.erase',
  'session.create',
  'session.delete',
  'session.fail',
]);

const PAGE = 50;

/** AuditSection is the audit log section of the settings screen (settings.js). */
export class AuditSection {
  constructor(settings) {
    this.settings = settings;
    this.entries = null; // newest first
    this.next = ''; // paging.next.after, '' at the end
    this.state = 'idle'; // idle | loading | ready | error
    this.actor = '';
    this.kind = '';
    this.gen = 0;
  }

  get app() {
    return this.settings.app;
  }

  query(after) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (this.actor) q.set('actor', this.actor);
    if (this.kind) q.set('action', `${this.kind}.`);
    if (after) q.set('after', after);
    return `api/v1/audit?${q}`;
  }

  /** load reads the first page (more: the next one) for the current filters. */
  async load(more = false) {
    const gen = ++this.gen;
    this.state = 'loading';
    if (!more) this.settings.render();
    try {
      const res = await request('GET', this.query(more ? this.next : ''));
      if (gen !== this.gen) return;
      const rows = res?.results ?? [];
      this.entries = more ? [...(this.entries ?? []), ...rows] : rows;
      this.next = res?.paging?.next?.after ?? '';
      this.state = 'ready';
      if (more) this.settings.say(t('audit.loaded', { n: rows.length }));
    } catch (err) {
      if (gen !== this.gen || this.app.failed(err)) return;
      this.state = this.entries ? 'ready' : 'error';
    }
    this.settings.render();
  }

  filter(actor, kind) {
    this.actor = actor;
    this.kind = kind;
    this.entries = null;
    this.next = '';
    this.load();
  }

  render() {
    if (this.state === 'idle') this.load();
    const head = [this.settings.sectionHead('settings.audit', 'audit.hint'), this.filters()];
    if (!this.entries) return [...head, ...this.settings.notReady(this.state === 'error', () => this.load())];
    const more = this.next
      ? h('button', {
          type: 'button',
          class: 'btn',
          text: t('audit.more'),
          disabled: this.state === 'loading',
          dataset: { fk: 'audit-more' },
          onClick: () => this.load(true),
        })
      : null;
    if (!this.entries.length) return [...head, h('p', { class: 'muted', role: 'status', text: t('audit.empty') })];
    const table = h(
      'table',
      { class: 'settings-table audit-table' },
      h('caption', { class: 'sr-only', text: t('settings.audit') }),
      h(
        'thead',
        null,
        h('tr', null, ...['audit.time', 'audit.actor', 'audit.action', 'audit.object', 'audit.changes', 'audit.address'].map((k) => h('th', { scope: 'col', text: t(k) }))),
      ),
      h('tbody', null, this.entries.map((e) => this.row(e))),
    );
    return [...head, h('div', { class: 'settings-card settings-card-flush' }, table), more];
  }

  filters() {
    const actorId = uid('audit-actor');
    const kindId = uid('audit-kind');
    const users = [...(this.settings.data?.users ?? [])].sort((a, b) => String(a.email).localeCompare(String(b.email)));
    const actor = h(
      'select',
      { id: actorId, class: 'select', dataset: { fk: 'audit-actor' }, onChange: (e) => this.filter(e.target.value, this.kind) },
      h('option', { value: '', selected: !this.actor, text: t('audit.anyone') }),
      users.map((u) => h('option', { value: `user:${u.id}`, selected: this.actor === `user:${u.id}`, text: u.name ? `${u.name} (${u.email})` : u.email })),
      h('option', { value: 'system', selected: this.actor === 'system', text: t('audit.system') }),
      h('option', { value: 'anonymous', selected: this.actor === 'anonymous', text: t('audit.anonymous') }),
    );
    const kind = h(
      'select',
      { id: kindId, class: 'select', dataset: { fk: 'audit-kind' }, onChange: (e) => this.filter(this.actor, e.target.value) },
      h('option', { value: '', selected: !this.kind, text: t('audit.anything') }),
      KINDS.map((k) => h('option', { value: k, selected: this.kind === k, text: t(`audit.kind.${k}`) })),
    );
    return h(
      'div',
      { class: 'settings-card audit-filters' },
      h('div', { class: 'field' }, h('label', { for: actorId, text: t('audit.filterActor') }), actor),
      h('div', { class: 'field' }, h('label', { for: kindId, text: t('audit.filterKind') }), kind),
    );
  }

  row(e) {
    const a = e.actor ?? {};
    let who;
    if (a.kind === 'token') who = t('audit.byToken', { name: a.name ?? '', user: a.userEmail ?? '' });
    else if (a.kind === 'system') who = t('audit.system');
    else if (a.kind === 'anonymous') who = t('audit.anonymous');
    else who = a.name ?? '';
    const action = ACTIONS.has(e.action) ? t(`audit.a.${e.action.replaceAll('.', '_')}`) : e.action;
    const object = e.objectType ? `${e.objectType} ${e.objectId ?? ''}`.trim() : '';
    const changes = (e.changes ?? []).map((c) => (c.secret ? t('audit.secret', { field: c.field }) : c.field)).join(', ');
    return h(
      'tr',
      null,
      h('td', null, h('time', { datetime: e.time, text: fullDate(e.time) })),
      h('td', { text: who }),
      h('td', { text: action }),
      h('td', { text: object }),
      h('td', { text: changes }),
      h('td', { text: e.address ?? '' }),
    );
  }
}
