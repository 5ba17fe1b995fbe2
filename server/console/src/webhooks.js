// Settings → Webhooks: the subscribers that get conversation events, signed
// as HubSpot signs its webhooks (docs/webhooks.md). A subscriber has an app
// id, a target URL, how many requests may run at once, and its event
// subscriptions; its signing secret is shown once, when Parley makes it.
// Each subscriber shows its delivery log and can be sent a test event.

import { confirmDelete } from './actions.js';
import { request } from './api.js';
import { h, uid } from './dom.js';
import { fullDate, t } from './i18n.js';
import { copyText } from './widgets.js';

const enc = encodeURIComponent;
const hooks = (appId) => `webhooks/v3/${enc(appId)}`;
const api = {
  apps: () => request('GET', 'api/v1/webhooks'),
  put: (appId, body) => request('PUT', `${hooks(appId)}/settings`, body),
  remove: (appId) => request('DELETE', `${hooks(appId)}/settings`),
  subscriptions: (appId) => request('GET', `${hooks(appId)}/subscriptions`),
  subscribe: (appId, body) => request('POST', `${hooks(appId)}/subscriptions`, body),
  setActive: (appId, id, active) => request('PATCH', `${hooks(appId)}/subscriptions/${enc(id)}`, { active }),
  log: (appId) => request('GET', `${hooks(appId)}/deliveries`),
  test: (appId) => request('POST', `${hooks(appId)}/test`),
};

/** EVENTS are the checkboxes of a subscriber: an event type, and a property for conversation.propertyChange. */
const EVENTS = [
  ['conversation.creation', ''],
  ['conversation.newMessage', ''],
  ['conversation.propertyChange', 'assignedTo'],
  ['conversation.propertyChange', 'status'],
  ['conversation.propertyChange', 'isArchived'],
  ['conversation.deletion', ''],
  ['conversation.privacyDeletion', ''],
];
const eventKey = (type, prop) => (prop ? `wh.ev.${prop}` : `wh.ev.${type.slice('conversation.'.length)}`);

/** WebhooksSection is the webhooks section of the settings screen (settings.js). */
export class WebhooksSection {
  constructor(settings) {
    this.settings = settings;
    this.apps = null; // [{ appId, targetUrl, throttling, subscriptions }]
    this.state = 'idle';
    this.secret = null; // { appId, value }: the secret made last, shown once
    this.logs = new Map(); // appId → attempts, newest first
    this.tests = new Map(); // appId → what the last test event said
    this.open = new Set();
    this.error = new Map(); // form key → message
  }

  get app() {
    return this.settings.app;
  }

  async load() {
    this.state = 'loading';
    try {
      const res = await api.apps();
      const apps = res?.results ?? [];
      const subs = await Promise.all(apps.map((a) => api.subscriptions(a.appId)));
      this.apps = apps.map((a, i) => ({ ...a, subscriptions: subs[i]?.results ?? [] }));
      this.state = 'ready';
    } catch (err) {
      if (this.app.failed(err)) return;
      this.state = this.apps ? 'ready' : 'error';
    }
    this.settings.render();
  }

  async loadLog(appId) {
    try {
      this.logs.set(appId, (await api.log(appId))?.results ?? []);
    } catch (err) {
      if (this.app.failed(err)) return;
    }
    this.settings.render();
  }

  render() {
    if (this.state === 'idle') this.load();
    if (!this.apps) {
      return this.settings.notReady(this.state === 'error', () => this.load());
    }
    return [
      this.settings.sectionHead('settings.webhooks', 'wh.hint'),
      h('div', { class: 'settings-card' }, h('h3', { class: 'settings-h3', text: t('wh.new') }), this.form(null), this.secret ? this.secretBox(this.secret) : null),
      this.apps.length
        ? h(
            'div',
            { class: 'group-list' },
            this.apps.map((a) =>
              h(
                'details',
                {
                  class: 'settings-card group-card',
                  open: this.open.has(a.appId) || null,
                  onToggle: (e) => {
                    if (!e.target.open) return this.open.delete(a.appId);
                    this.open.add(a.appId);
                    if (!this.logs.has(a.appId)) this.loadLog(a.appId);
                  },
                },
                h('summary', null, h('span', { class: 'group-name', text: t('wh.app', { appId: a.appId }) }), h('span', { class: 'muted small', dir: 'ltr', text: a.targetUrl })),
                this.form(a),
                this.events(a),
                this.testRow(a),
                this.logTable(a),
              ),
            ),
          )
        : h('p', { class: 'muted', text: t('wh.empty') }),
    ];
  }

  /** form creates (a null) or changes a subscriber's settings. */
  form(a) {
    const key = a ? a.appId : 'new';
    const ids = { app: uid('wh-app'), url: uid('wh-url'), conc: uid('wh-conc') };
    const appId = a ? null : h('input', { id: ids.app, class: 'input', type: 'number', min: '1', step: '1', required: true, inputmode: 'numeric', dataset: { fk: 'wh-new-app', field: 'appId' } });
    const url = h('input', { id: ids.url, class: 'input grow', type: 'url', required: true, maxlength: '2048', spellcheck: 'false', value: a?.targetUrl ?? '', dataset: { fk: `wh-${key}-url`, field: 'targetUrl' } });
    const conc = h('input', { id: ids.conc, class: 'input', type: 'number', min: '1', max: '100', step: '1', value: String(a?.throttling?.maxConcurrentRequests ?? 10), dataset: { fk: `wh-${key}-conc`, field: 'throttling.maxConcurrentRequests' } });
    const error = this.error.get(key);
    const form = h(
      'form',
      {
        class: 'settings-form',
        novalidate: true,
        onSubmit: async (e) => {
          e.preventDefault();
          const id = a ? a.appId : appId.value.trim();
          const body = { targetUrl: url.value.trim(), throttling: { maxConcurrentRequests: Number(conc.value) } };
          try {
            if (!/^[1-9][0-9]*$/.test(id)) throw new Error(t('wh.badAppId'));
            const saved = await api.put(id, body);
            this.error.delete(key);
            if (saved?.clientSecret) this.secret = { appId: saved.appId, value: saved.clientSecret };
            this.settings.say(t(a ? 'wh.saved' : 'wh.created', { appId: saved.appId }));
            await this.load();
            if (!a) this.settings.main.querySelector('[data-fk="wh-secret"]')?.focus();
          } catch (err) {
            if (this.app.failed(err)) return;
            this.error.set(key, err.message || t('wh.failed'));
            this.settings.render();
            this.settings.main.querySelector(`[data-fk="wh-${key}-error"]`)?.focus();
          }
        },
      },
      h(
        'div',
        { class: 'settings-row' },
        appId ? h('div', { class: 'field' }, h('label', { for: ids.app, text: t('wh.appId') }), appId) : null,
        h('div', { class: 'field grow' }, h('label', { for: ids.url, text: t('wh.target') }), url),
        h('div', { class: 'field' }, h('label', { for: ids.conc, text: t('wh.concurrency') }), conc),
      ),
      error ? h('p', { class: 'form-alert', role: 'alert', tabindex: '-1', dataset: { fk: `wh-${key}-error` }, text: error }) : null,
      h(
        'div',
        { class: 'settings-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', text: t(a ? 'settings.save' : 'wh.create') }),
        a ? h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('wh.deleteOf', { appId: a.appId }), text: t('wh.delete'), onClick: (e) => this.confirmDelete(a, e.currentTarget) }) : null,
      ),
    );
    return form;
  }

  secretBox(s) {
    const id = uid('wh-secret');
    const input = h('input', { id, class: 'input invite-url', readonly: true, value: s.value, dataset: { fk: 'wh-secret' }, onFocus: (e) => e.target.select() });
    const said = h('span', { class: 'muted small', role: 'status' });
    return h(
      'div',
      { class: 'invite-result' },
      h('label', { for: id, class: 'invite-result-label', text: t('wh.secret', { appId: s.appId }) }),
      h('div', { class: 'settings-row' }, input, h('button', { type: 'button', class: 'btn', text: t('wh.copy'), onClick: async () => (said.textContent = t((await copyText(s.value, input)) ? 'wh.copied' : 'wh.copyFailed')) })),
      h('p', { class: 'muted small' }, t('wh.secretOnce'), ' ', said),
    );
  }

  /** events are a subscriber's event subscriptions: checked is subscribed and active. */
  events(a) {
    const boxes = EVENTS.map(([type, prop]) => {
      const sub = a.subscriptions.find((s) => s.eventType === type && (s.propertyName ?? '') === prop);
      return h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          checked: Boolean(sub?.active),
          dataset: { fk: `wh-${a.appId}-${type}-${prop}` },
          onChange: async (e) => {
            const on = e.target.checked;
            try {
              if (sub) await api.setActive(a.appId, sub.id, on);
              else await api.subscribe(a.appId, prop ? { eventType: type, propertyName: prop, active: true } : { eventType: type, active: true });
              this.settings.say(t(on ? 'wh.subscribed' : 'wh.paused', { event: t(eventKey(type, prop)) }));
            } catch (err) {
              if (this.app.failed(err)) return;
              this.settings.say(err.message || t('wh.failed'));
            }
            await this.load();
          },
        }),
        h('span', { text: t(eventKey(type, prop)) }),
      );
    });
    return h('fieldset', { class: 'wz-sub' }, h('legend', { text: t('wh.events') }), h('div', { class: 'check-list' }, boxes));
  }

  testRow(a) {
    const said = this.tests.get(a.appId);
    return h(
      'div',
      { class: 'settings-actions' },
      h('button', {
        type: 'button',
        class: 'btn',
        dataset: { fk: `wh-${a.appId}-test` },
        text: t('wh.test'),
        onClick: async (e) => {
          e.currentTarget.disabled = true;
          try {
            const att = await api.test(a.appId);
            this.tests.set(a.appId, t(att.outcome === 'delivered' ? 'wh.testDelivered' : 'wh.testFailed', { status: att.status || '–', ms: att.latencyMs, error: att.error ?? '' }));
          } catch (err) {
            if (this.app.failed(err)) return;
            this.tests.set(a.appId, err.message || t('wh.failed'));
          }
          await this.loadLog(a.appId);
        },
      }),
      h('span', { class: 'muted small', role: 'status', text: said ?? '' }),
    );
  }

  logTable(a) {
    const log = this.logs.get(a.appId);
    if (!log) return h('p', { class: 'muted small', text: t('settings.loading') });
    if (!log.length) return h('p', { class: 'muted small', text: t('wh.logEmpty') });
    const th = (key) => h('th', { scope: 'col', text: t(key) });
    return h(
      'table',
      { class: 'settings-table' },
      h('caption', { class: 'settings-h4', text: t('wh.log') }),
      h('thead', null, h('tr', null, th('wh.logTime'), th('wh.logEvents'), th('wh.logOutcome'), th('wh.logStatus'), th('wh.logLatency'), th('wh.logError'))),
      h(
        'tbody',
        null,
        log.map((x) =>
          h(
            'tr',
            null,
            h('td', { text: fullDate(x.at) }),
            h('td', { text: x.test ? t('wh.logTest') : String(x.events) }),
            h('td', { text: t(`wh.outcome.${x.outcome}`) }),
            h('td', { text: x.status ? String(x.status) : '–' }),
            h('td', { text: t('wh.ms', { ms: x.latencyMs }) }),
            h('td', { class: 'small', text: x.error ?? '' }),
          ),
        ),
      ),
    );
  }

  confirmDelete(a, opener) {
    confirmDelete(
      this.app,
      {
        title: t('wh.deleteTitle', { appId: a.appId }),
        warning: t('wh.deleteWarning'),
        confirm: t('wh.delete'),
        failKey: 'wh.failed',
        remove: () => api.remove(a.appId),
        done: () => {
          this.open.delete(a.appId);
          this.logs.delete(a.appId);
          if (this.secret?.appId === a.appId) this.secret = null;
          this.settings.heading.focus();
          this.settings.say(t('wh.deleted', { appId: a.appId }));
          this.load();
        },
      },
      opener,
    );
  }
}
