// Settings → Lists: saved contact segments for widget audiences (FEATURES
// W1). A list has a name, criteria on contact properties (email, email
// domain, names, owner, custom properties) and whether all or any must hold.
// It speaks the lists API (docs/api.md).

import { confirmDelete } from './actions.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { api, fieldOf, findField } from './widgets.js';

const PROPS = ['email', 'emailDomain', 'firstName', 'lastName', 'owner'];
const OPS = ['is', 'isNot', 'contains', 'notContains', 'startsWith', 'endsWith', 'isKnown', 'isUnknown'];
const NO_VALUE = new Set(['isKnown', 'isUnknown']);

/** ListsSection is the lists section of the settings screen (settings.js). */
export class ListsSection {
  constructor(settings) {
    this.settings = settings;
    this.lists = null;
    this.widgets = [];
    this.state = 'idle';
    this.drafts = new Map(); // list id or "new" → { name, match, criteria }
    this.errors = new Map(); // list id or "new" → { field, message }
    this.open = new Set();
  }

  get app() {
    return this.settings.app;
  }

  async load() {
    this.state = 'loading';
    try {
      const [ls, ws] = await Promise.all([api.lists(), api.widgets()]);
      this.lists = (ls?.results ?? []).map((l) => ({ ...l, id: String(l.id) }));
      this.widgets = (ws?.results ?? []).map((w) => ({ ...w, id: String(w.id) }));
      this.state = 'ready';
    } catch (err) {
      if (this.app.failed(err)) return;
      this.state = this.lists ? 'ready' : 'error';
    }
    this.settings.render();
  }

  render() {
    if (this.state === 'idle') this.load();
    if (!this.lists) {
      return this.settings.notReady(this.state === 'error', () => this.load());
    }
    const lists = [...this.lists].sort((a, b) => a.name.localeCompare(b.name));
    return [
      this.settings.sectionHead('settings.lists', 'ls.hint'),
      h('div', { class: 'settings-card' }, h('h3', { class: 'settings-h3', text: t('ls.new') }), this.form(null)),
      lists.length
        ? h(
            'div',
            { class: 'group-list' },
            lists.map((l) =>
              h(
                'details',
                {
                  class: 'settings-card group-card',
                  open: this.open.has(l.id) || this.drafts.has(l.id) || null,
                  onToggle: (e) => (e.target.open ? this.open.add(l.id) : this.open.delete(l.id)),
                },
                h(
                  'summary',
                  null,
                  h('span', { class: 'group-name', dir: 'auto', text: l.name }),
                  h('span', { class: 'muted small', text: this.summary(l) }),
                ),
                this.form(l),
              ),
            ),
          )
        : h('p', { class: 'muted', text: t('ls.empty') }),
    ];
  }

  summary(l) {
    const n = l.criteria.length;
    const used = l.usedBy?.length ? t('ls.usedBy', { names: l.usedBy.map((id) => this.widgets.find((w) => w.id === String(id))?.name ?? id).join(', ') }) : t('ls.unused');
    return `${t(l.match === 'any' ? 'ls.matchAnyShort' : 'ls.matchAllShort', { n })} · ${used}`;
  }

  /** form creates (l null) or edits a list. */
  form(l) {
    const key = l ? l.id : 'new';
    const draft = this.drafts.get(key) ?? { name: l?.name ?? '', match: l?.match ?? 'all', criteria: (l?.criteria ?? [{ property: 'emailDomain', op: 'is', value: '' }]).map((c) => ({ ...c })) };
    const keep = () => this.drafts.set(key, draft);
    const redraw = () => {
      keep();
      this.errors.delete(key);
      this.settings.render();
    };
    const nameId = uid('ls-name');
    const name = h('input', { id: nameId, class: 'input', maxlength: '256', required: true, dataset: { fk: `ls-${key}-name`, field: 'name' }, value: draft.name, onInput: (e) => ((draft.name = e.target.value), keep()) });
    const radio = uid('ls-match');
    const match = h(
      'fieldset',
      { class: 'wz-radios', dataset: { field: 'match' } },
      h('legend', { text: t('ls.match') }),
      ['all', 'any'].map((m) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'radio', name: radio, value: m, checked: draft.match === m, dataset: { fk: `ls-${key}-match-${m}` }, onChange: () => ((draft.match = m), keep()) }),
          h('span', { text: t(m === 'all' ? 'ls.matchAll' : 'ls.matchAny') }),
        ),
      ),
    );
    const users = this.settings.data.users.filter((u) => !u.deactivated);
    const rows = draft.criteria.map((c, i) => {
      const n = i + 1;
      const builtin = PROPS.includes(c.property);
      const prop = h(
        'select',
        {
          class: 'select',
          'aria-label': t('ls.propertyOf', { n }),
          dataset: { fk: `ls-${key}-${i}-prop` },
          onChange: (e) => {
            c.property = e.target.value === 'custom' ? '' : e.target.value;
            c.value = '';
            redraw();
          },
        },
        [...PROPS, 'custom'].map((p) => h('option', { value: p, selected: builtin ? c.property === p : p === 'custom', text: t(`ls.prop.${p}`) })),
      );
      const custom = builtin
        ? null
        : h('input', {
            class: 'input ls-custom',
            'aria-label': t('ls.customOf', { n }),
            placeholder: t('ls.customPlaceholder'),
            maxlength: '64',
            spellcheck: 'false',
            value: c.property,
            dataset: { fk: `ls-${key}-${i}-custom`, field: `criteria[${i}].property` },
            onInput: (e) => ((c.property = e.target.value.trim()), keep()),
          });
      const op = h(
        'select',
        { class: 'select', 'aria-label': t('ls.opOf', { n }), dataset: { fk: `ls-${key}-${i}-op`, field: `criteria[${i}].op` }, onChange: (e) => ((c.op = e.target.value), NO_VALUE.has(c.op) && (c.value = ''), redraw()) },
        OPS.map((o) => h('option', { value: o, selected: c.op === o, text: t(`ls.op.${o}`) })),
      );
      let value = null;
      if (!NO_VALUE.has(c.op)) {
        value =
          c.property === 'owner'
            ? h(
                'select',
                { class: 'select', 'aria-label': t('ls.valueOf', { n }), dataset: { fk: `ls-${key}-${i}-value`, field: `criteria[${i}].value` }, onChange: (e) => ((c.value = e.target.value), keep()) },
                h('option', { value: '', text: t('ls.pickUser') }),
                users.map((u) => h('option', { value: u.id, selected: String(c.value).replace(/^A-/, '') === u.id, text: u.name || u.email })),
              )
            : h('input', {
                class: 'input',
                'aria-label': t('ls.valueOf', { n }),
                maxlength: '1000',
                value: c.value ?? '',
                dataset: { fk: `ls-${key}-${i}-value`, field: `criteria[${i}].value` },
                onInput: (e) => ((c.value = e.target.value), keep()),
              });
      }
      return h(
        'li',
        { class: 'wz-row', dataset: { field: `criteria[${i}]` } },
        prop,
        custom,
        op,
        value,
        h('button', {
          type: 'button',
          class: 'btn btn-sm btn-ghost',
          'aria-label': t('ls.removeOf', { n }),
          text: t('ls.remove'),
          disabled: draft.criteria.length === 1,
          onClick: () => {
            draft.criteria.splice(i, 1);
            redraw();
            this.settings.main.querySelector(`[data-fk="ls-${key}-add"]`)?.focus();
          },
        }),
      );
    });
    const error = this.errors.get(key);
    const form = h(
      'form',
      {
        class: 'settings-form',
        novalidate: true,
        onSubmit: async (e) => {
          e.preventDefault();
          const body = { name: draft.name.trim(), match: draft.match, criteria: draft.criteria.map((c) => ({ property: c.property, op: c.op, value: NO_VALUE.has(c.op) ? '' : c.value })) };
          try {
            const saved = l ? await api.patchList(l.id, body) : await api.createList(body);
            this.drafts.delete(key);
            this.errors.delete(key);
            this.settings.chat.state = 'idle'; // the audience pickers list lists
            this.settings.say(t(l ? 'ls.saved' : 'ls.created', { name: saved.name }));
            await this.load();
          } catch (err) {
            if (this.app.failed(err)) return;
            keep();
            this.errors.set(key, { field: fieldOf(err.message), message: err.message || t('ls.failed') });
            this.settings.render();
            const bad = this.settings.main.querySelector('[aria-invalid="true"]');
            bad?.focus();
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: nameId, text: t('ls.name') }), name),
      match,
      h('fieldset', { class: 'wz-sub' }, h('legend', { text: t('ls.criteria') }), h('ol', { class: 'wz-rules' }, rows)),
      h(
        'div',
        { class: 'settings-actions' },
        h('button', {
          type: 'button',
          class: 'btn btn-sm',
          dataset: { fk: `ls-${key}-add` },
          text: t('ls.add'),
          onClick: () => {
            draft.criteria.push({ property: 'email', op: 'contains', value: '' });
            redraw();
            this.settings.main.querySelector(`[data-fk="ls-${key}-${draft.criteria.length - 1}-prop"]`)?.focus();
          },
        }),
      ),
      h(
        'div',
        { class: 'settings-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `ls-${key}-save` }, text: t(l ? 'settings.save' : 'ls.create') }),
        l ? h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('ls.deleteOf', { name: l.name }), text: t('ls.delete'), onClick: (e) => this.confirmDelete(l, e.currentTarget) }) : null,
      ),
    );
    if (error) {
      const el = findField(form, error.field);
      const id = uid('ls-err');
      const msg = h('p', { id, class: 'wz-err', role: 'alert', text: error.message });
      if (el && el !== form) {
        (el.closest('.field, .wz-row, fieldset') ?? el).after(msg);
        if (el.matches('input, select')) {
          el.setAttribute('aria-invalid', 'true');
          el.setAttribute('aria-describedby', id);
        }
      } else form.querySelector('.settings-actions:last-child').before(msg);
    }
    return form;
  }

  confirmDelete(l, opener) {
    confirmDelete(
      this.app,
      {
        title: t('ls.deleteTitle', { name: l.name }),
        warning: t('ls.deleteWarning'),
        confirm: t('ls.deleteConfirm'),
        failKey: 'ls.failed',
        remove: () => api.deleteList(l.id),
        done: () => {
          this.drafts.delete(l.id);
          this.settings.chat.state = 'idle';
          this.settings.heading.focus();
          this.settings.say(t('ls.deleted', { name: l.name }));
          this.load();
        },
      },
      opener,
    );
  }
}
