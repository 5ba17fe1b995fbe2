// Settings → Chat: the list of chat widgets with their on/off switches and
// matching order (FEATURES C1, W3), the tracking code to copy (C6), and the
// step-by-step editor (widgetwizard.js) at /settings/chat/{id} and
// /settings/chat/new. It speaks the widgets API (docs/api.md).

import { dialog } from './actions.js';
import { BASE, request } from './api.js';
import { h, plainClick, uid } from './dom.js';
import { t } from './i18n.js';
import { WidgetWizard } from './widgetwizard.js';

const enc = encodeURIComponent;

/** api are the calls of the chat and lists sections. */
export const api = {
  widgets: () => request('GET', 'api/v1/widgets'),
  createWidget: (body) => request('POST', 'api/v1/widgets', body),
  patchWidget: (id, body) => request('PATCH', `api/v1/widgets/${enc(id)}`, body),
  deleteWidget: (id) => request('DELETE', `api/v1/widgets/${enc(id)}`),
  lists: () => request('GET', 'api/v1/lists'),
  createList: (body) => request('POST', 'api/v1/lists', body),
  patchList: (id, body) => request('PATCH', `api/v1/lists/${enc(id)}`, body),
  deleteList: (id) => request('DELETE', `api/v1/lists/${enc(id)}`),
};

/** chatPath is the console URL of the chat section, or of one widget's editor ("new" for a new one). */
export const chatPath = (id) => `${BASE.pathname}settings/chat${id ? `/${enc(id)}` : ''}`;

/** chatRoute returns the widget id the path edits ("new" for a new widget), or null for the list. */
export function chatRoute(pathname = location.pathname) {
  const m = /^settings\/chat\/([^/]+)\/?$/.exec(pathname.slice(BASE.pathname.length));
  return m ? decodeURIComponent(m[1]) : null;
}

/**
 * fieldOf returns the settings field an API error message names: its first
 * word when that is a path such as "appearance.accentColor" or
 * "availability.hours[1].from", "targeting" for "targeting rule 2: …", or "".
 */
export function fieldOf(message) {
  const m = /^(?:unknown field ")?([a-zA-Z]+(?:\[\d+\]|\.[a-zA-Z]+)*)/.exec(message || '');
  if (!m) return '';
  if (/^targeting rule \d+/.test(message)) return `targeting.rules[${Number(/\d+/.exec(message)[0]) - 1}]`;
  return m[1];
}

/**
 * findField returns the control under root whose data-field is field or the
 * nearest enclosing path of it ("availability.hours[1].from", then
 * "availability.hours[1]", then "availability.hours", …).
 */
export function findField(root, field) {
  let f = field;
  while (f) {
    const el = root.querySelector(`[data-field="${CSS.escape(f)}"]`);
    if (el) return el;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    f = cut > 0 ? f.slice(0, cut) : '';
  }
  return null;
}

/** copyText copies text to the clipboard, falling back to selecting input and execCommand. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input?.focus();
    input?.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** specificity is how specifically a widget's targeting matches a page its best rule matches (as the server ranks; docs/api.md). */
export function specificity(w) {
  const bytes = (s) => new TextEncoder().encode(s || '').length;
  let best = 0;
  for (const r of w.targeting?.rules ?? []) {
    if (r.kind === 'query') best = Math.max(best, bytes(r.name) + 1 + bytes(r.value));
    else if (r.kind === 'url' && ['is', 'contains', 'startsWith'].includes(r.op)) best = Math.max(best, bytes(r.value));
  }
  return best;
}

/** matchingOrder sorts widgets as a page matching all of them picks: most specific first, then oldest (lowest id). */
export function matchingOrder(widgets) {
  return [...widgets].sort((a, b) => specificity(b) - specificity(a) || Number(a.id) - Number(b.id));
}

/** targetingSummary says in a few words which pages a widget is on. */
export function targetingSummary(w) {
  const rules = w.targeting?.rules ?? [];
  if (!rules.length) return t('wg.allPages');
  return rules
    .map((r) => (r.kind === 'query' ? t('wg.ruleQuery', { name: r.name, value: r.value || '*' }) : r.op === 'all' ? t('wg.allPages') : `${t(`wz.op.${r.op}`)} ${r.value}`))
    .join(t('wg.or'));
}

/** switchButton is an on/off switch: a button with role switch; onToggle(next) is called on click. */
export function switchButton(on, label, onToggle, fk) {
  return h(
    'button',
    {
      type: 'button',
      role: 'switch',
      class: 'wg-switch',
      'aria-checked': on ? 'true' : 'false',
      'aria-label': label,
      dataset: fk ? { fk } : null,
      onClick: () => onToggle(!on),
    },
    h('span', { class: 'wg-switch-track', 'aria-hidden': 'true' }, h('span', { class: 'wg-switch-thumb' })),
    h('span', { class: 'wg-switch-text', 'aria-hidden': 'true', text: t(on ? 'wg.on' : 'wg.off') }),
  );
}

/**
 * WidgetsSection is the chat section of the settings screen (settings.js):
 * its own data (widgets and lists) on top of the screen's users, teams and
 * inboxes, the list or the editor, as the URL says.
 */
export class WidgetsSection {
  constructor(settings) {
    this.settings = settings;
    this.widgets = null;
    this.lists = [];
    this.state = 'idle'; // idle | loading | ready | error
    this.tab = 'widgets'; // widgets | code
    this.wizard = null; // the open editor
    this.copied = '';
  }

  get app() {
    return this.settings.app;
  }

  async load() {
    this.state = 'loading';
    try {
      const [ws, ls] = await Promise.all([api.widgets(), api.lists()]);
      this.widgets = (ws?.results ?? []).map((w) => ({ ...w, id: String(w.id) }));
      this.lists = (ls?.results ?? []).map((l) => ({ ...l, id: String(l.id) }));
      this.state = 'ready';
    } catch (err) {
      if (this.app.failed(err)) return;
      this.state = this.widgets ? 'ready' : 'error';
    }
    this.settings.render();
  }

  /** open shows the editor of widget id ("new"), or the list for null. */
  open(id) {
    const path = chatPath(id);
    if (location.pathname !== path) history.pushState(null, '', path);
    this.settings.route();
    if (!id) this.settings.heading.focus();
  }

  render() {
    if (this.state === 'idle') this.load();
    if (!this.widgets) {
      return this.settings.notReady(this.state === 'error', () => this.load());
    }
    const id = chatRoute();
    if (id) {
      const w = id === 'new' ? null : this.widgets.find((x) => x.id === id);
      if (id !== 'new' && !w) return [h('p', { class: 'form-alert', role: 'alert', text: t('wg.notFound') }), this.backLink()];
      if (!this.wizard || this.wizard.id !== id) this.wizard = new WidgetWizard(this, w);
      return [this.wizard.el];
    }
    this.wizard = null;
    return this.renderList();
  }

  backLink() {
    return h('a', { href: chatPath(), class: 'btn btn-ghost', text: t('wz.backToList'), onClick: (e) => plainClick(e) && (e.preventDefault(), this.open(null)) });
  }

  /** saved is called by the editor after a publish: back to the list, reloaded. */
  async saved(w, created) {
    this.wizard = null;
    this.settings.lists.state = 'idle'; // its "used by" may have changed
    history.pushState(null, '', chatPath());
    await this.load();
    this.settings.route();
    this.settings.heading.focus();
    this.settings.say(t(created ? 'wg.published' : 'wg.saved', { name: w.name }));
  }

  // ----- the list -----

  renderList() {
    const tabs = ['widgets', 'code'];
    const tabIds = Object.fromEntries(tabs.map((k) => [k, uid('wg-tab')]));
    const panelId = uid('wg-panel');
    const tablist = h(
      'div',
      {
        role: 'tablist',
        class: 'wg-tabs',
        'aria-label': t('settings.chat'),
        onKeydown: (e) => {
          if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
          e.preventDefault();
          const i = tabs.indexOf(this.tab);
          const next = e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : (i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
          this.tab = tabs[next];
          this.settings.render();
          this.settings.main.querySelector(`#${tabIds[this.tab]}`)?.focus();
        },
      },
      tabs.map((k) =>
        h('button', {
          type: 'button',
          role: 'tab',
          id: tabIds[k],
          class: 'wg-tab',
          'aria-selected': this.tab === k ? 'true' : 'false',
          'aria-controls': panelId,
          tabindex: this.tab === k ? '0' : '-1',
          dataset: { fk: `wg-tab-${k}` },
          text: t(k === 'widgets' ? 'wg.tabWidgets' : 'wg.tabCode'),
          onClick: () => {
            this.tab = k;
            this.settings.render();
          },
        }),
      ),
    );
    const panel = h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabIds[this.tab], class: 'wg-panel' }, this.tab === 'code' ? this.codePanel() : this.widgetsPanel());
    return [this.settings.sectionHead('settings.chat', 'wg.hint'), tablist, panel];
  }

  widgetsPanel() {
    const inboxName = (id) => this.settings.data.inboxes.find((i) => i.id === String(id))?.name ?? '—';
    const ordered = matchingOrder(this.widgets);
    const orderHelp = uid('wg-order');
    const rows = ordered.map((w, i) => {
      const name = w.name;
      return h(
        'tr',
        { class: w.enabled ? null : 'is-off' },
        h('td', { class: 'wg-rank', 'data-label': t('wg.order') }, h('span', { class: 'wg-rank-n', title: t('wg.orderTitle', { n: i + 1 }), 'aria-describedby': orderHelp, text: String(i + 1) })),
        h(
          'td',
          { 'data-label': t('wg.name') },
          h('a', { href: chatPath(w.id), class: 'wg-name', dir: 'auto', dataset: { fk: `wg-edit-${w.id}` }, text: name, onClick: (e) => plainClick(e) && (e.preventDefault(), this.open(w.id)) }),
          w.warnings?.length ? h('span', { class: 'wg-warn small', text: t('wg.hasWarning') }) : null,
        ),
        h('td', { 'data-label': t('wg.inbox'), dir: 'auto', text: inboxName(w.inboxId) }),
        h('td', { 'data-label': t('wg.pages'), class: 'wg-pages', dir: 'auto', text: targetingSummary(w) }),
        h('td', { 'data-label': t('wg.audience'), text: this.audienceSummary(w) }),
        h(
          'td',
          { 'data-label': t('wg.status') },
          switchButton(w.enabled, t('wg.switchOf', { name }), (on) => this.toggle(w, on), `wg-switch-${w.id}`),
        ),
        h(
          'td',
          { class: 'wg-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': t('wg.editOf', { name }), text: t('wg.edit'), onClick: () => this.open(w.id) }),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'aria-label': t('wg.deleteOf', { name }), dataset: { fk: `wg-del-${w.id}` }, text: t('wg.delete'), onClick: (e) => this.confirmDelete(w, e.currentTarget) }),
        ),
      );
    });
    const table = this.widgets.length
      ? h(
          'div',
          { class: 'settings-card settings-card-flush' },
          h(
            'table',
            { class: 'settings-table wg-table' },
            h('caption', { class: 'sr-only', text: t('wg.caption') }),
            h('thead', null, h('tr', null, ['wg.order', 'wg.name', 'wg.inbox', 'wg.pages', 'wg.audience', 'wg.status', 'wg.actions'].map((k) => h('th', { scope: 'col', text: t(k) })))),
            h('tbody', null, rows),
          ),
        )
      : h('p', { class: 'muted', text: t('wg.empty') });
    return [
      h('div', { class: 'settings-actions' }, h('button', { type: 'button', class: 'btn btn-primary', dataset: { fk: 'wg-create' }, text: t('wg.create'), onClick: () => this.open('new') })),
      table,
      h('p', { id: orderHelp, class: 'muted small wg-order-help', text: t('wg.orderHelp') }),
    ];
  }

  audienceSummary(w) {
    const a = w.audience ?? {};
    const list = this.lists.find((l) => l.id === String(a.listId))?.name ?? '?';
    switch (a.mode) {
      case 'anonymous':
        return t('wz.aud.anonymous');
      case 'known':
        return t('wz.aud.known');
      case 'list':
        return t('wg.audList', { list });
      case 'notList':
        return t('wg.audNotList', { list });
      default:
        return t('wz.aud.everyone');
    }
  }

  async toggle(w, on) {
    const was = w.enabled;
    w.enabled = on; // shown at once
    this.settings.render();
    try {
      const res = await api.patchWidget(w.id, { enabled: on });
      Object.assign(w, res, { id: String(res.id) });
      this.settings.lists.state = 'idle';
      this.settings.say(t(on ? 'wg.turnedOn' : 'wg.turnedOff', { name: w.name }));
    } catch (err) {
      w.enabled = was;
      this.app.failed(err, 'wg.failed');
    }
    this.settings.render();
  }

  confirmDelete(w, opener) {
    const headId = uid('wg-del');
    const error = h('p', { class: 'form-alert', role: 'alert', hidden: true });
    const yes = h('button', {
      type: 'button',
      class: 'btn btn-danger',
      text: t('wg.deleteConfirm'),
      onClick: async () => {
        yes.disabled = true;
        try {
          await api.deleteWidget(w.id);
        } catch (err) {
          if (this.app.failed(err)) return;
          error.textContent = err.message || t('wg.failed');
          error.hidden = false;
          yes.disabled = false;
          return;
        }
        dlg.close();
        this.widgets = this.widgets.filter((x) => x.id !== w.id);
        this.settings.lists.state = 'idle';
        this.settings.render();
        this.settings.heading.focus();
        this.settings.say(t('wg.deleted', { name: w.name }));
        this.load();
      },
    });
    const dlg = dialog(
      headId,
      t('wg.deleteTitle', { name: w.name }),
      [
        h('p', { text: t('wg.deleteWarning') }),
        error,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', text: t('inbox.cancel'), onClick: () => dlg.close() }), yes),
      ],
      opener,
    );
    yes.focus();
  }

  // ----- tracking code -----

  codePanel() {
    const snippet = this.widgets[0]?.snippet ?? `<script async src="${BASE.origin}${BASE.pathname}embed.js"></script>`;
    const id = uid('wg-code');
    const box = h('textarea', { id, class: 'input wg-code', readonly: true, rows: '3', spellcheck: 'false', dataset: { fk: 'wg-code' }, onFocus: (e) => e.target.select() });
    box.value = snippet;
    const status = h('span', { class: 'muted small', role: 'status', text: this.copied });
    return [
      h(
        'div',
        { class: 'settings-card' },
        h('h3', { class: 'settings-h3', text: t('wg.codeTitle') }),
        h('p', { class: 'muted small', text: t('wg.codeHint') }),
        h('label', { for: id, class: 'wg-code-label', text: t('wg.codeLabel') }),
        box,
        h(
          'div',
          { class: 'settings-row' },
          h('button', {
            type: 'button',
            class: 'btn btn-primary',
            dataset: { fk: 'wg-copy' },
            text: t('wg.copy'),
            onClick: async () => {
              const ok = await copyText(snippet, box);
              this.copied = t(ok ? 'wg.copied' : 'wg.copyFailed');
              status.textContent = this.copied;
            },
          }),
          status,
        ),
        h('p', { class: 'muted small', text: t('wg.codeOrder') }),
      ),
    ];
  }
}
