// Settings → Templates: the team's email templates (R4). Admins keep them
// here (a name, a subject and a rich body with placeholders for the contact
// and the agent); every agent inserts them from the email reply's Format
// editor. It speaks the templates API (docs/api.md).

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { RichBox } from './richeditor.js';

/** PLACEHOLDERS are the placeholders a template may hold, as parley.TemplatePlaceholders lists them. */
const PLACEHOLDERS = ['contact.firstName', 'contact.lastName', 'contact.email', 'agent.firstName', 'agent.name', 'agent.email', 'inbox.name'];

const enc = encodeURIComponent;

/** TemplatesSection is the templates section of the settings screen (settings.js). */
export class TemplatesSection {
  constructor(settings) {
    this.settings = settings;
    this.templates = null;
    this.state = 'idle';
    this.editing = null; // { id: template id or "new", name, subject, box, error }
    this.armed = null; // the template whose Delete was pressed once
  }

  get app() {
    return this.settings.app;
  }

  async load() {
    this.state = 'loading';
    try {
      const res = await request('GET', 'api/v1/templates');
      this.templates = (res?.results ?? []).map((x) => ({ ...x, id: String(x.id) }));
      this.state = 'ready';
    } catch (err) {
      if (this.app.failed(err)) return;
      this.state = this.templates ? 'ready' : 'error';
    }
    this.settings.render();
  }

  render() {
    if (this.state === 'idle') this.load();
    if (!this.templates) {
      return this.settings.notReady(this.state === 'error', () => this.load());
    }
    const out = [this.settings.sectionHead('settings.templates', 'tpl.hint')];
    if (this.editing) return [...out, this.form()];
    out.push(h('div', { class: 'settings-actions' }, h('button', { type: 'button', class: 'btn btn-primary', dataset: { fk: 'tpl-new' }, text: t('tpl.new'), onClick: () => this.edit(null) })));
    if (!this.templates.length) {
      out.push(h('p', { class: 'muted', text: t('tpl.empty') }));
      return out;
    }
    out.push(
      h(
        'ul',
        { class: 'group-list tpl-list' },
        this.templates.map((x) =>
          h(
            'li',
            { class: 'settings-card tpl-row' },
            h('div', { class: 'tpl-row-text' }, h('span', { class: 'group-name', dir: 'auto', text: x.name }), h('span', { class: 'muted small', dir: 'auto', text: x.subject || t('tpl.noSubject') })),
            h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': t('tpl.editOf', { name: x.name }), dataset: { fk: `tpl-${x.id}-edit` }, text: t('tpl.edit'), onClick: () => this.edit(x) }),
            h('button', {
              type: 'button',
              class: `btn btn-sm${this.armed === x.id ? ' btn-danger' : ''}`,
              'aria-label': t(this.armed === x.id ? 'tpl.confirmDeleteOf' : 'tpl.deleteOf', { name: x.name }),
              dataset: { fk: `tpl-${x.id}-delete` },
              text: t(this.armed === x.id ? 'tpl.confirmDelete' : 'tpl.delete'),
              onClick: () => this.remove(x),
            }),
          ),
        ),
      ),
    );
    return out;
  }

  /** edit opens the form for template x, or for a new one when x is null. */
  edit(x) {
    const placeholder = h(
      'select',
      {
        class: 'select select-sm',
        'aria-label': t('tpl.insertPlaceholder'),
        onChange: (e) => {
          const name = e.target.value;
          e.target.value = '';
          if (name) this.editing.box.insertText(`{{${name}}}`);
        },
      },
      h('option', { value: '', text: t('tpl.insertPlaceholder') }),
      PLACEHOLDERS.map((p) => h('option', { value: p, text: t(`tpl.ph.${p}`) })),
    );
    const box = new RichBox(t('tpl.body'), (err) => this.app.failed(err), [placeholder]);
    box.setHTML(x?.body ?? '');
    this.armed = null;
    this.editing = { id: x ? x.id : 'new', name: x?.name ?? '', subject: x?.subject ?? '', box, error: '' };
    this.settings.render();
    this.settings.main.querySelector('[data-fk="tpl-name"]')?.focus();
  }

  form() {
    const e = this.editing;
    const nameId = uid('tpl-name');
    const subjectId = uid('tpl-subject');
    const bodyLabel = uid('tpl-body');
    e.box.editor.setAttribute('aria-labelledby', bodyLabel);
    const errorId = uid('tpl-err');
    return h(
      'form',
      {
        class: 'settings-card settings-form tpl-form',
        'aria-label': e.id === 'new' ? t('tpl.new') : t('tpl.editOf', { name: e.name }),
        novalidate: true,
        onSubmit: (ev) => {
          ev.preventDefault();
          this.save();
        },
      },
      h('div', { class: 'field' }, h('label', { for: nameId, text: t('tpl.name') }), h('input', { id: nameId, class: 'input', maxlength: '256', required: true, dir: 'auto', dataset: { fk: 'tpl-name' }, value: e.name, onInput: (ev) => (e.name = ev.target.value) })),
      h('div', { class: 'field' }, h('label', { for: subjectId, text: t('tpl.subject') }), h('input', { id: subjectId, class: 'input', maxlength: '256', dir: 'auto', dataset: { fk: 'tpl-subject' }, value: e.subject, onInput: (ev) => (e.subject = ev.target.value) })),
      h('div', { class: 'field' }, h('span', { id: bodyLabel, class: 'label', text: t('tpl.body') }), e.box.toolbar, e.box.editor, h('p', { class: 'muted small', text: t('tpl.bodyHint') })),
      e.error ? h('p', { id: errorId, class: 'form-alert', role: 'alert', text: e.error }) : null,
      h(
        'div',
        { class: 'settings-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: 'tpl-save' }, text: t('tpl.save') }),
        h('button', {
          type: 'button',
          class: 'btn',
          text: t('tpl.cancel'),
          onClick: () => {
            this.editing = null;
            this.settings.render();
            this.settings.main.querySelector('[data-fk="tpl-new"]')?.focus();
          },
        }),
      ),
    );
  }

  async save() {
    const e = this.editing;
    const body = { name: e.name.trim(), subject: e.subject.trim(), body: e.box.html() };
    try {
      if (e.id === 'new') await request('POST', 'api/v1/templates', body);
      else await request('PATCH', `api/v1/templates/${enc(e.id)}`, body);
    } catch (err) {
      if (this.app.failed(err)) return;
      e.error = err.message || t('tpl.failed');
      this.settings.render();
      return;
    }
    this.editing = null;
    this.settings.say(t('tpl.saved', { name: body.name }));
    await this.load();
    this.settings.main.querySelector('[data-fk="tpl-new"]')?.focus();
  }

  /** remove deletes template x on the second press; the first arms the button. */
  async remove(x) {
    if (this.armed !== x.id) {
      this.armed = x.id;
      this.settings.render();
      return;
    }
    this.armed = null;
    try {
      await request('DELETE', `api/v1/templates/${enc(x.id)}`);
      this.settings.say(t('tpl.deleted', { name: x.name }));
    } catch (err) {
      this.app.failed(err, 'tpl.failed');
    }
    await this.load();
    this.settings.main.querySelector('[data-fk="tpl-new"]')?.focus();
  }
}
