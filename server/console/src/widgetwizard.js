// The step-by-step editor of one chat widget (FEATURES W1–W7, C2, C3, C5,
// G): audience, targeting, message, routing, availability, appearance,
// options, then review and publish, each step a fieldset with a live
// preview of the widget beside it. The preview is the widget itself: the
// bundle visitors get, in a frame, drawn from the draft a moment after each
// edit (POST /api/v1/widgets/preview answers the draft's boot).

import { backLink, checkList, h, onOff, plainClick, uid } from './dom.js';
import { lang, t } from './i18n.js';
import { BASE, request } from './api.js';
import { api, chatPath, fieldOf, findField, targetingSummary } from './widgets.js';

/** STEPS are the editor's steps, in order. */
export const STEPS = ['audience', 'targeting', 'message', 'routing', 'availability', 'appearance', 'options', 'review'];

/** DAYS are the days of business hours, Monday first. */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const URL_OPS = ['all', 'is', 'isNot', 'contains', 'notContains', 'startsWith', 'notStartsWith'];
const DEFAULT_ACCENT = '#2563eb';
const HEX = /^#[0-9a-fA-F]{6}$/;

/** stepOf returns the step that shows a settings field. */
export function stepOf(field) {
  const top = field.split(/[.[]/)[0];
  return (
    {
      audience: 'audience',
      targeting: 'targeting',
      message: 'message',
      inboxId: 'routing',
      routing: 'routing',
      availability: 'availability',
      appearance: 'appearance',
      options: 'options',
      consent: 'options',
    }[top] ?? 'review'
  );
}

// ----- colour -----

function luminance(hex) {
  const ch = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
}

/** contrastRatio is the WCAG 2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** textOn picks the readable text colour on a background, as the widget does. */
export const textOn = (bg) => (contrastRatio(bg, '#ffffff') >= contrastRatio(bg, '#111111') ? '#ffffff' : '#111111');

// ----- business hours: per day in the editor, grouped ranges in the API -----

/** hoursByDay turns the API's ranges into each day's ranges. */
export function hoursByDay(hours) {
  const d = Object.fromEntries(DAYS.map((x) => [x, []]));
  for (const r of hours ?? []) for (const day of r.days ?? []) d[day]?.push({ from: r.from, to: r.to });
  for (const k of DAYS) d[k].sort((a, b) => a.from.localeCompare(b.from));
  return d;
}

/** dayHours groups each day's ranges into the API's ranges (days sharing a time range share an entry), with where each came from. */
export function dayHours(byDay) {
  const groups = new Map();
  for (const day of DAYS)
    byDay[day].forEach((r, i) => {
      const k = `${r.from}-${r.to}`;
      if (!groups.has(k)) groups.set(k, { days: [], from: r.from, to: r.to, refs: [] });
      groups.get(k).days.push(day);
      groups.get(k).refs.push({ day, i });
    });
  return [...groups.values()];
}

// ----- the draft -----

const clone = (v) => JSON.parse(JSON.stringify(v));

function defaults(inboxId) {
  return {
    name: '',
    inboxId,
    enabled: true,
    targeting: { rules: [] },
    availability: { mode: 'team', timezone: '', hours: [], awayMessage: '', hideLauncherWhenAway: false, typicalResponseTime: '' },
    message: {
      welcome: '',
      hideWelcome: false,
      openByDefault: false,
      heading: { mode: '', userIds: [], teamId: '', fallbackUserId: '', name: '', avatarUrl: '' },
      emailCapture: { when: 'after', message: '' },
      mobile: { welcomeAsPrompt: false, hideLauncher: false },
    },
    appearance: { accentColor: DEFAULT_ACCENT, position: 'right', launcherLabel: '', avatarUrl: '', fontSize: 'medium' },
    audience: { mode: 'everyone', listId: '' },
    routing: { mode: 'inbox', userIds: [], teamIds: [], fallbackUserId: '', maxOpenPerAgent: 0 },
    options: { transcripts: true, language: '' },
    consent: { process: '', processText: '', communicate: false, subscriptionType: '', communicateText: '' },
  };
}

/** fill returns base with the values of v laid over it, recursively (v's arrays win whole). */
function fill(base, v) {
  if (v === undefined || v === null) return base;
  if (typeof base !== 'object' || Array.isArray(base) || base === null) return v;
  const out = { ...base };
  for (const [k, val] of Object.entries(v)) out[k] = fill(base[k], val);
  return out;
}

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
function set(obj, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  let o = obj;
  for (const k of keys) o = o[k] ??= {};
  o[last] = value;
}

/**
 * WidgetWizard edits one widget (w) or a new one (w null) for the chat
 * section (widgets.js); el is its element. It keeps the admin's draft until
 * Publish, which creates the widget or saves the whole draft over it.
 */
export class WidgetWizard {
  constructor(section, w) {
    this.section = section;
    this.settings = section.settings;
    this.id = w ? w.id : 'new';
    this.isNew = !w;
    const data = this.settings.data;
    const base = defaults(data.inboxes[0]?.id ?? '');
    this.draft = w ? fill(base, clone(w)) : base;
    // The languages the widget speaks: every widget lists the same.
    this.languages = w?.languages ?? section.widgets?.[0]?.languages ?? ['en'];
    for (const k of ['id', 'snippet', 'warnings', 'languages', 'createdAt', 'updatedAt', 'bot']) delete this.draft[k];
    this.draft.inboxId = String(this.draft.inboxId ?? '');
    this.days = hoursByDay(this.draft.availability.hours);
    this.step = 0;
    this.error = null; // { field, message, step }
    this.groups = [];
    this.device = 'desktop'; // preview: desktop | mobile
    this.away = false; // preview: available | away
    this.busy = false;

    const headId = uid('wz');
    this.title = h('h2', { id: headId, class: 'settings-h2 wz-title', tabindex: '-1', dir: 'auto' });
    this.stepNav = h('ol', { class: 'wz-steps' });
    this.form = h('form', { class: 'wz-form', novalidate: true, onSubmit: (e) => (e.preventDefault(), this.next()) });
    this.status = h('p', { class: 'sr-only', role: 'status' });
    this.preview = new Preview(this);
    this.el = h(
      'section',
      { class: 'wz', 'aria-labelledby': headId },
      h(
        'div',
        { class: 'wz-head' },
        backLink(chatPath(), 'btn btn-ghost btn-sm settings-back', t('wz.backToList'), () => this.section.open(null)),
        this.title,
      ),
      h(
        'div',
        { class: 'wz-body' },
        h(
          'nav',
          {
            class: 'wz-nav',
            'aria-label': t('wz.stepsLabel'),
            onKeydown: (e) => {
              const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
              if (!step) return;
              const btns = [...this.stepNav.querySelectorAll('button')];
              const i = btns.indexOf(document.activeElement);
              if (i < 0) return;
              e.preventDefault();
              btns[(i + step + btns.length) % btns.length].focus();
            },
          },
          this.stepNav,
        ),
        this.form,
        this.preview.el,
      ),
      this.status,
    );
    this.render();
    queueMicrotask(() => this.title.focus());
  }

  get data() {
    return this.settings.data;
  }

  users() {
    return this.data.users.filter((u) => !u.deactivated).sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  inboxMembers() {
    const inbox = this.data.inboxes.find((i) => i.id === String(this.draft.inboxId));
    const ids = new Set(inbox?.memberIds ?? []);
    return this.users().filter((u) => ids.has(u.id));
  }

  userName(id) {
    const u = this.data.users.find((x) => x.id === String(id));
    return u ? u.name || u.email : '';
  }

  // ----- navigation -----

  go(i, focus = true) {
    this.step = Math.max(0, Math.min(STEPS.length - 1, i));
    this.render();
    if (focus) this.form.querySelector('legend')?.focus();
    this.status.textContent = t('wz.stepOf', { n: this.step + 1, total: STEPS.length, name: t(`wz.step.${STEPS[this.step]}`) });
  }

  next() {
    if (this.step === STEPS.length - 1) this.publish();
    else this.go(this.step + 1);
  }

  render() {
    const name = this.draft.name.trim();
    this.title.textContent = this.isNew ? t('wz.titleNew') : t('wz.titleEdit', { name: name || this.section.widgets.find((w) => w.id === this.id)?.name || '' });
    this.stepNav.replaceChildren(
      ...STEPS.map((s, i) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'wz-step',
              'aria-current': i === this.step ? 'step' : null,
              dataset: { fk: `wz-step-${s}` },
              onClick: () => this.go(i),
            },
            h('span', { class: 'wz-step-n', 'aria-hidden': 'true', text: String(i + 1) }),
            h('span', { text: t(`wz.step.${s}`) }),
            this.error?.step === s ? h('span', { class: 'wz-step-err', text: t('wz.stepHasError') }) : null,
          ),
        ),
      ),
    );
    this.renderStep();
    this.preview.update();
  }

  /** renderStep draws the current step again, keeping the focus on the same control. */
  renderStep() {
    const key = this.form.contains(document.activeElement) ? document.activeElement.dataset.fk : null;
    const s = STEPS[this.step];
    const legendId = uid('wz-legend');
    const body = this[`step_${s}`]();
    const fs = h('fieldset', { class: 'wz-fieldset', 'aria-describedby': null }, h('legend', { id: legendId, class: 'wz-legend', tabindex: '-1', text: t(`wz.step.${s}`) }), body);
    const last = this.step === STEPS.length - 1;
    const nav = h(
      'div',
      { class: 'wz-buttons' },
      this.step > 0 ? h('button', { type: 'button', class: 'btn', dataset: { fk: 'wz-back' }, text: t('wz.back'), onClick: () => this.go(this.step - 1) }) : null,
      h('button', {
        type: 'submit',
        class: 'btn btn-primary',
        disabled: this.busy,
        dataset: { fk: last ? 'wz-publish' : 'wz-next' },
        text: last ? t(this.isNew ? 'wz.publish' : 'wz.saveChanges') : t('wz.next'),
      }),
    );
    if (this.error) this.error.shown = false;
    this.showFieldError(fs);
    this.form.replaceChildren(...[fs, this.formError(), nav].filter(Boolean));
    if (key) this.form.querySelector(`[data-fk="${CSS.escape(key)}"]`)?.focus();
  }

  formError() {
    if (!this.error || this.error.shown) return null;
    return h('p', { class: 'form-alert', role: 'alert', text: this.error.message });
  }

  /** showFieldError puts the API's error next to the field it names, on that field's step. */
  showFieldError(root) {
    const e = this.error;
    if (!e || e.step !== STEPS[this.step]) return;
    const el = findField(root, this.fieldInForm(e.field));
    if (!el) return;
    e.shown = true;
    const id = uid('wz-err');
    const msg = h('p', { id, class: 'wz-err', role: 'alert', text: e.message });
    (el.closest('.wz-field, .wz-row, .wz-check, .wz-range, fieldset') ?? el).after(msg);
    if (el.matches('input, select, textarea')) {
      el.setAttribute('aria-invalid', 'true');
      el.setAttribute('aria-describedby', id);
    }
  }

  /** fieldInForm maps an API field to the editor's: business hours are edited per day. */
  fieldInForm(field) {
    const m = /^availability\.hours\[(\d+)\](.*)$/.exec(field);
    if (!m) return field;
    const ref = this.groups[Number(m[1])]?.refs[0];
    return ref ? `availability.day.${ref.day}.${ref.i}${m[2].startsWith('.to') ? '.to' : '.from'}` : 'availability.hours';
  }

  /** changed records an edit: the error goes, the preview follows; structural edits redraw the step. */
  changed(structural) {
    if (this.error) {
      this.error = null;
      this.render();
      return;
    }
    if (structural) this.renderStep();
    this.preview.update();
  }

  // ----- controls -----

  field(labelKey, control, opts = {}) {
    // A wrapped control (an input with its datalist) is labelled itself, not its wrapper.
    const target = control.matches('input, select, textarea') ? control : (control.querySelector('input, select, textarea') ?? control);
    target.id ||= uid('wz-f');
    if (opts.field) target.dataset.field = opts.field;
    const hintId = opts.hint ? uid('wz-h') : null;
    if (hintId) target.setAttribute('aria-describedby', hintId);
    return h(
      'div',
      { class: `wz-field${opts.inline ? ' wz-inline' : ''}` },
      h('label', { for: target.id, text: t(labelKey) }),
      control,
      opts.hint ? h('p', { id: hintId, class: 'muted small', text: opts.hint }) : null,
    );
  }

  input(path, attrs = {}, structural = false) {
    const el = h('input', { class: 'input', type: 'text', autocomplete: 'off', dataset: { fk: `wz-${path}` }, ...attrs });
    el.value = get(this.draft, path) ?? '';
    el.addEventListener('input', () => {
      set(this.draft, path, attrs.type === 'number' ? Number(el.value || 0) : el.value);
      this.changed(structural);
    });
    return el;
  }

  textarea(path, attrs = {}) {
    const el = h('textarea', { class: 'input', rows: '3', dir: 'auto', dataset: { fk: `wz-${path}` }, ...attrs });
    el.value = get(this.draft, path) ?? '';
    el.addEventListener('input', () => {
      set(this.draft, path, el.value);
      this.changed(false);
    });
    return el;
  }

  checkbox(labelKey, path, { invert = false, structural = false, hint } = {}) {
    const el = h('input', { type: 'checkbox', dataset: { fk: `wz-${path}`, field: path } });
    el.checked = invert ? !get(this.draft, path) : !!get(this.draft, path);
    el.addEventListener('change', () => {
      set(this.draft, path, invert ? !el.checked : el.checked);
      this.changed(structural);
    });
    return h('div', { class: 'wz-check' }, onOff(el, t(labelKey)), hint ? h('p', { class: 'muted small', text: hint }) : null);
  }

  select(path, options, structural = false, attrs = {}) {
    const cur = String(get(this.draft, path) ?? '');
    const el = h(
      'select',
      { class: 'select', dataset: { fk: `wz-${path}` }, ...attrs },
      options.map((o) => h('option', { value: o.value, selected: String(o.value) === cur, text: o.label })),
    );
    el.addEventListener('change', () => {
      set(this.draft, path, el.value);
      this.changed(structural);
    });
    return el;
  }

  radios(legendKey, path, options, { hint } = {}) {
    const name = uid('wz-r');
    const cur = String(get(this.draft, path) ?? '');
    return h(
      'fieldset',
      { class: 'wz-radios', dataset: { field: path } },
      h('legend', { text: t(legendKey) }),
      hint ? h('p', { class: 'muted small', text: hint }) : null,
      options.map((o) =>
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'radio',
            name,
            value: o.value,
            checked: o.value === cur,
            dataset: { fk: `wz-${path}-${o.value}` },
            onChange: () => {
              set(this.draft, path, o.value);
              o.onPick?.();
              this.changed(true);
            },
          }),
          h('span', { text: o.label }),
        ),
      ),
    );
  }

  /** idChecks is a checkbox per item for the list of ids at path of the draft. */
  idChecks(legendKey, path, items, hint) {
    return checkList({
      cls: 'check-list wz-checks',
      field: path,
      legend: t(legendKey),
      hint: hint ? h('p', { class: 'muted small wz-wide', text: hint }) : null,
      items,
      checked: (get(this.draft, path) ?? []).map(String),
      fk: `wz-${path}`,
      empty: t('settings.none'),
      onChange: (ids) => {
        set(this.draft, path, ids);
        this.changed(false);
      },
    });
  }

  userOptions(users, noneKey) {
    return [...(noneKey ? [{ value: '', label: t(noneKey) }] : []), ...users.map((u) => ({ value: u.id, label: u.name || u.email }))];
  }

  // ----- steps -----

  step_audience() {
    const a = this.draft.audience;
    const lists = this.section.lists;
    const needList = a.mode === 'list' || a.mode === 'notList';
    return [
      h('p', { class: 'muted small', text: t('wz.aud.hint') }),
      this.radios('wz.aud.legend', 'audience.mode', ['everyone', 'anonymous', 'known', 'list', 'notList'].map((m) => ({ value: m, label: t(`wz.aud.${m}`) }))),
      needList
        ? lists.length
          ? this.field('wz.aud.list', this.select('audience.listId', [{ value: '', label: t('wz.aud.pickList') }, ...lists.map((l) => ({ value: l.id, label: l.name }))]), { field: 'audience.listId' })
          : h('p', { class: 'muted', dataset: { field: 'audience.listId' }, text: t('wz.aud.noLists') })
        : null,
      needList
        ? h('p', { class: 'small' }, h('a', { href: chatPath().replace(/chat$/, 'lists'), text: t('wz.aud.manageLists'), onClick: (e) => plainClick(e) && (e.preventDefault(), this.settings.open('lists')) }))
        : null,
    ];
  }

  step_targeting() {
    const rules = this.draft.targeting.rules;
    const rows = rules.map((r, i) => {
      const n = i + 1;
      const path = `targeting.rules.${i}`;
      const kind = h(
        'select',
        {
          class: 'select',
          'aria-label': t('wz.tg.kindOf', { n }),
          dataset: { fk: `wz-rule-${i}-kind` },
          onChange: (e) => {
            rules[i] = e.target.value === 'query' ? { kind: 'query', name: '', value: '' } : { kind: 'url', op: 'is', value: '' };
            this.changed(true);
          },
        },
        h('option', { value: 'url', selected: r.kind !== 'query', text: t('wz.tg.kindUrl') }),
        h('option', { value: 'query', selected: r.kind === 'query', text: t('wz.tg.kindQuery') }),
      );
      const controls =
        r.kind === 'query'
          ? [
              this.input(`${path}.name`, { 'aria-label': t('wz.tg.paramOf', { n }), placeholder: 'utm_campaign', maxlength: '2000' }),
              this.input(`${path}.value`, { 'aria-label': t('wz.tg.paramValueOf', { n }), placeholder: t('wz.tg.anyValue'), maxlength: '2000' }),
            ]
          : [
              this.select(`${path}.op`, URL_OPS.map((op) => ({ value: op, label: t(`wz.op.${op}`) })), true, { 'aria-label': t('wz.tg.opOf', { n }) }),
              r.op === 'all' ? null : this.input(`${path}.value`, { 'aria-label': t('wz.tg.urlOf', { n }), placeholder: t('wz.tg.urlPlaceholder'), maxlength: '2000', spellcheck: 'false' }),
            ];
      return h(
        'li',
        { class: 'wz-row wz-rule', dataset: { field: `targeting.rules[${i}]` } },
        h('span', { class: 'wz-rule-n', 'aria-hidden': 'true', text: i ? t('wz.tg.or') : t('wz.tg.if') }),
        kind,
        controls,
        h('button', {
          type: 'button',
          class: 'btn btn-sm btn-ghost',
          'aria-label': t('wz.tg.deleteOf', { n }),
          text: t('wz.tg.delete'),
          dataset: { fk: `wz-rule-${i}-del` },
          onClick: () => {
            rules.splice(i, 1);
            this.changed(true);
            this.form.querySelector(`[data-fk="wz-rule-${Math.min(i, rules.length - 1)}-kind"]`)?.focus() ?? this.form.querySelector('[data-fk="wz-add-url"]')?.focus();
          },
        }),
      );
    });
    const add = (rule, fk) =>
      h('button', {
        type: 'button',
        class: 'btn btn-sm',
        dataset: { fk },
        text: t(fk === 'wz-add-url' ? 'wz.tg.addUrl' : 'wz.tg.addQuery'),
        onClick: () => {
          rules.push(rule);
          this.changed(true);
          this.form.querySelector(`[data-fk="wz-rule-${rules.length - 1}-${rule.kind === 'url' ? 'kind' : 'kind'}"]`)?.focus();
        },
      });
    return [
      h('p', { class: 'muted small', text: t('wz.tg.hint') }),
      rules.length ? h('ol', { class: 'wz-rules', dataset: { field: 'targeting' } }, rows) : h('p', { class: 'muted', dataset: { field: 'targeting' }, text: t('wz.tg.none') }),
      h('div', { class: 'settings-actions' }, add({ kind: 'url', op: 'is', value: '' }, 'wz-add-url'), add({ kind: 'query', name: '', value: '' }, 'wz-add-query')),
    ];
  }

  step_message() {
    const m = this.draft.message;
    const hd = m.heading;
    const users = this.users();
    let headingControls = null;
    switch (hd.mode) {
      case 'user': {
        const sel = this.select('message.heading.userIds', this.userOptions(users, 'wz.msg.pickUser'));
        sel.value = String(hd.userIds?.[0] ?? '');
        sel.addEventListener('change', () => set(this.draft, 'message.heading.userIds', sel.value ? [sel.value] : []));
        headingControls = this.field('wz.msg.user', sel, { field: 'message.heading.userIds' });
        break;
      }
      case 'users':
        headingControls = this.idChecks('wz.msg.users', 'message.heading.userIds', users.map((u) => ({ id: u.id, label: u.name || u.email })), t('wz.msg.usersHint'));
        break;
      case 'team':
        headingControls = this.field('wz.msg.team', this.select('message.heading.teamId', [{ value: '', label: t('wz.msg.pickTeam') }, ...this.data.teams.map((x) => ({ value: x.id, label: x.name }))]), { field: 'message.heading.teamId' });
        break;
      case 'owner':
        headingControls = this.field('wz.msg.fallback', this.select('message.heading.fallbackUserId', this.userOptions(users, 'wz.msg.pickUser')), { field: 'message.heading.fallbackUserId', hint: t('wz.msg.fallbackHint') });
        break;
      case 'custom':
        headingControls = h(
          'div',
          { class: 'settings-row' },
          this.field('wz.msg.customName', this.input('message.heading.name', { maxlength: '256' }), { field: 'message.heading.name' }),
          this.field('wz.msg.customAvatar', this.input('message.heading.avatarUrl', { type: 'url', maxlength: '2048', placeholder: 'https://…/avatar.png' }), { field: 'message.heading.avatarUrl' }),
        );
        break;
    }
    return [
      this.field('wz.msg.language', this.select('options.language', this.languageOptions()), { field: 'options.language', hint: t('wz.msg.languageHint') }),
      this.checkbox('wz.msg.showWelcome', 'message.hideWelcome', { invert: true, structural: true }),
      m.hideWelcome
        ? null
        : this.field('wz.msg.welcome', this.textarea('message.welcome', { maxlength: '1000', placeholder: t('wz.defaultWelcome') }), { field: 'message.welcome', hint: t('wz.msg.defaultHint') }),
      m.hideWelcome ? null : this.checkbox('wz.msg.openByDefault', 'message.openByDefault'),
      this.field(
        'wz.msg.heading',
        this.select('message.heading.mode', ['', 'user', 'users', 'team', 'owner', 'custom'].map((v) => ({ value: v, label: t(`wz.msg.heading.${v || 'name'}`) })), true),
        { field: 'message.heading.mode' },
      ),
      headingControls,
      this.field('wz.msg.emailWhen', this.select('message.emailCapture.when', ['never', 'before', 'after'].map((v) => ({ value: v, label: t(`wz.msg.email.${v}`) })), true), { field: 'message.emailCapture.when' }),
      m.emailCapture.when === 'never' ? null : this.field('wz.msg.emailMessage', this.textarea('message.emailCapture.message', { maxlength: '1000', placeholder: t('wz.defaultEmailAsk') }), { field: 'message.emailCapture.message', hint: t('wz.msg.defaultHint') }),
      h(
        'fieldset',
        { class: 'wz-sub' },
        h('legend', { text: t('wz.msg.mobile') }),
        this.checkbox('wz.msg.welcomeAsPrompt', 'message.mobile.welcomeAsPrompt'),
        this.checkbox('wz.msg.showLauncher', 'message.mobile.hideLauncher', { invert: true }),
      ),
    ];
  }

  step_routing() {
    const r = this.draft.routing;
    const members = this.inboxMembers();
    let picks = null;
    if (r.mode === 'users') picks = this.idChecks('wz.rt.users', 'routing.userIds', members.map((u) => ({ id: u.id, label: u.routingSeat ? u.name || u.email : t('wz.rt.noSeat', { name: u.name || u.email }) })), t('wz.rt.usersHint'));
    if (r.mode === 'teams') picks = this.idChecks('wz.rt.teams', 'routing.teamIds', this.data.teams.map((x) => ({ id: x.id, label: x.name })));
    if (r.mode === 'owner') picks = this.field('wz.rt.fallback', this.select('routing.fallbackUserId', this.userOptions(members, 'wz.rt.noFallback')), { field: 'routing.fallbackUserId', hint: t('wz.rt.fallbackHint') });
    return [
      this.field(
        'wz.rt.inbox',
        this.select('inboxId', this.data.inboxes.map((i) => ({ value: i.id, label: i.name })), true),
        { field: 'inboxId', hint: t('wz.rt.inboxHint') },
      ),
      this.radios('wz.rt.legend', 'routing.mode', ['inbox', 'users', 'teams', 'owner', 'none'].map((m) => ({ value: m, label: t(`wz.rt.mode.${m}`) }))),
      picks,
      r.mode === 'none'
        ? null
        : this.field('wz.rt.maxOpen', this.input('routing.maxOpenPerAgent', { type: 'number', min: '0', max: '1000', step: '1', inputmode: 'numeric' }), { field: 'routing.maxOpenPerAgent', hint: t('wz.rt.maxOpenHint'), inline: true }),
    ];
  }

  step_availability() {
    const a = this.draft.availability;
    const out = [
      this.radios('wz.av.legend', 'availability.mode', ['always', 'team', 'hours'].map((m) => ({
        value: m,
        label: t(`wz.av.mode.${m}`),
        onPick: () => {
          if (m === 'hours' && !a.timezone) a.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
          if (m === 'hours' && DAYS.every((d) => !this.days[d].length)) for (const d of DAYS.slice(0, 5)) this.days[d] = [{ from: '09:00', to: '17:00' }];
        },
      }))),
    ];
    if (a.mode === 'hours') {
      let zones = [];
      try {
        zones = Intl.supportedValuesOf('timeZone');
      } catch {
        zones = [];
      }
      if (!zones.includes('UTC')) zones = ['UTC', ...zones];
      if (a.timezone && !zones.includes(a.timezone)) zones = [a.timezone, ...zones];
      out.push(this.field('wz.av.timezone', this.select('availability.timezone', zones.map((z) => ({ value: z, label: z.replaceAll('_', ' ') }))), { field: 'availability.timezone' }));
      out.push(
        h(
          'fieldset',
          { class: 'wz-sub wz-days', dataset: { field: 'availability.hours' } },
          h('legend', { text: t('wz.av.hours') }),
          DAYS.map((day) => this.dayRow(day)),
        ),
      );
    }
    out.push(
      this.field('wz.av.responseTime', this.responseTime(), { field: 'availability.typicalResponseTime', hint: t('wz.av.responseTimeHint') }),
      a.mode === 'always' ? null : this.field('wz.av.away', this.textarea('availability.awayMessage', { maxlength: '1000', placeholder: t('wz.defaultAway') }), { field: 'availability.awayMessage', hint: `${t(a.mode === 'hours' ? 'wz.av.awayHoursHint' : 'wz.av.awayHint')} ${t('wz.msg.defaultHint')}` }),
      a.mode === 'always' ? null : this.checkbox('wz.av.hideLauncher', 'availability.hideLauncherWhenAway'),
    );
    return out;
  }

  /** languageOptions are the choices of options.language: the page's, the visitor's browser's, or one the widget speaks (the widget's languages). */
  languageOptions() {
    let names = null;
    try {
      names = new Intl.DisplayNames([lang], { type: 'language' });
    } catch {
      names = null;
    }
    return [
      { value: '', label: t('wz.lang.page') },
      { value: 'visitor', label: t('wz.lang.visitor') },
      ...this.languages.map((l) => ({ value: l, label: names?.of(l) ?? l })),
    ];
  }

  responseTime() {
    const listId = uid('wz-rt');
    const el = this.input('availability.typicalResponseTime', { list: listId, maxlength: '256' });
    return h('span', { class: 'wz-combo' }, el, h('datalist', { id: listId }, ['minutes', 'hour', 'hours', 'day'].map((k) => h('option', { value: t(`wz.av.rt.${k}`) }))));
  }

  dayRow(day) {
    const ranges = this.days[day];
    const dayName = t(`wz.day.${day}`);
    return h(
      'div',
      { class: 'wz-day', role: 'group', 'aria-label': dayName },
      h('span', { class: 'wz-day-name', 'aria-hidden': 'true', text: dayName }),
      h(
        'div',
        { class: 'wz-day-ranges' },
        ranges.length ? null : h('span', { class: 'muted small', text: t('wz.av.closed') }),
        ranges.map((r, i) => {
          const time = (k) => {
            const el = h('input', {
              type: 'time',
              class: 'input wz-time',
              'aria-label': t(k === 'from' ? 'wz.av.fromOf' : 'wz.av.toOf', { day: dayName, n: i + 1 }),
              dataset: { fk: `wz-${day}-${i}-${k}`, field: `availability.day.${day}.${i}.${k}` },
            });
            el.value = r[k];
            el.addEventListener('input', () => {
              r[k] = el.value;
              this.changed(false);
            });
            return el;
          };
          return h(
            'span',
            { class: 'wz-range' },
            time('from'),
            h('span', { 'aria-hidden': 'true', text: '–' }),
            time('to'),
            h('button', {
              type: 'button',
              class: 'btn btn-sm btn-ghost',
              'aria-label': t('wz.av.removeOf', { day: dayName, n: i + 1 }),
              text: '×',
              onClick: () => {
                ranges.splice(i, 1);
                this.changed(true);
                this.form.querySelector(`[data-fk="wz-${day}-add"]`)?.focus();
              },
            }),
          );
        }),
        h('button', {
          type: 'button',
          class: 'btn btn-sm',
          'aria-label': t('wz.av.addOf', { day: dayName }),
          dataset: { fk: `wz-${day}-add` },
          text: t('wz.av.add'),
          onClick: () => {
            const last = ranges.at(-1);
            ranges.push(last ? { from: last.to < '23:00' ? last.to : '22:00', to: last.to < '23:00' ? '23:00' : '23:59' } : { from: '09:00', to: '17:00' });
            this.changed(true);
            this.form.querySelector(`[data-fk="wz-${day}-${ranges.length - 1}-from"]`)?.focus();
          },
        }),
      ),
    );
  }

  step_appearance() {
    const ap = this.draft.appearance;
    const color = h('input', { type: 'color', class: 'wz-color', dataset: { fk: 'wz-color' } });
    const hex = h('input', { type: 'text', class: 'input wz-hex', maxlength: '7', spellcheck: 'false', autocomplete: 'off', dataset: { fk: 'wz-hex' } });
    color.value = HEX.test(ap.accentColor) ? ap.accentColor.toLowerCase() : DEFAULT_ACCENT;
    hex.value = ap.accentColor;
    const warn = h('p', { class: 'wz-contrast', role: 'status' });
    const sync = (v, from) => {
      ap.accentColor = v;
      if (from !== 'color' && HEX.test(v)) color.value = v.toLowerCase();
      if (from !== 'hex') hex.value = v;
      this.contrastNote(warn);
      this.changed(false);
    };
    color.addEventListener('input', () => sync(color.value, 'color'));
    hex.addEventListener('input', () => sync(hex.value.trim(), 'hex'));
    this.contrastNote(warn);
    const colorId = uid('wz-color');
    color.id = colorId;
    hex.dataset.field = 'appearance.accentColor';
    return [
      h(
        'div',
        { class: 'wz-field' },
        h('label', { for: colorId, text: t('wz.ap.accent') }),
        h('div', { class: 'settings-row' }, color, h('label', { class: 'sr-only', for: (hex.id = uid('wz-hex')), text: t('wz.ap.accentHex') }), hex),
        warn,
      ),
      this.radios('wz.ap.position', 'appearance.position', ['right', 'left'].map((p) => ({ value: p, label: t(`wz.ap.${p}`) }))),
      this.field('wz.ap.label', this.input('appearance.launcherLabel', { maxlength: '40' }), { field: 'appearance.launcherLabel', hint: t('wz.ap.labelHint') }),
      this.field('wz.ap.avatar', this.input('appearance.avatarUrl', { type: 'url', maxlength: '2048', placeholder: 'https://…/logo.png' }), { field: 'appearance.avatarUrl', hint: t('wz.ap.avatarHint') }),
      this.field('wz.ap.fontSize', this.select('appearance.fontSize', ['small', 'medium', 'large'].map((s) => ({ value: s, label: t(`wz.ap.font.${s}`) }))), { field: 'appearance.fontSize', inline: true }),
    ];
  }

  /** contrastNote says whether white text on the accent colour is readable (WCAG AA, 4.5:1). */
  contrastNote(el) {
    const c = this.draft.appearance.accentColor;
    if (!HEX.test(c)) {
      el.className = 'wz-contrast is-bad';
      el.textContent = t('wz.ap.badColor');
      return;
    }
    const ratio = contrastRatio(c, '#ffffff');
    const low = ratio < 4.5;
    el.className = `wz-contrast${low ? ' is-bad' : ''}`;
    el.textContent = t(low ? 'wz.ap.lowContrast' : 'wz.ap.okContrast', { ratio: ratio.toFixed(2) });
  }

  step_options() {
    const c = this.draft.consent;
    return [
      this.checkbox('wz.opt.transcripts', 'options.transcripts', { hint: t('wz.opt.transcriptsHint') }),
      this.checkbox('wz.opt.files', 'options.disableAttachment', { invert: true, hint: t('wz.opt.filesHint') }),
      this.radios('wz.opt.consent', 'consent.process', ['', 'explicit', 'legitimate'].map((v) => ({ value: v, label: t(`wz.opt.consent.${v || 'none'}`) })), { hint: t('wz.opt.consentHint') }),
      c.process ? this.field('wz.opt.consentText', this.textarea('consent.processText', { maxlength: '1000' }), { field: 'consent.processText' }) : null,
      this.checkbox('wz.opt.communicate', 'consent.communicate', { structural: true, hint: t('wz.opt.communicateHint') }),
      c.communicate
        ? h(
            'div',
            { class: 'wz-sub-fields' },
            this.field('wz.opt.subscription', this.input('consent.subscriptionType', { maxlength: '256', placeholder: t('wz.opt.subscriptionPlaceholder') }), { field: 'consent.subscriptionType' }),
            this.field('wz.opt.communicateText', this.textarea('consent.communicateText', { maxlength: '1000' }), { field: 'consent.communicateText' }),
          )
        : null,
    ];
  }

  step_review() {
    const d = this.draft;
    const inbox = this.data.inboxes.find((i) => i.id === String(d.inboxId))?.name ?? '—';
    const list = this.section.lists.find((l) => l.id === String(d.audience.listId))?.name ?? '';
    const aud = t(`wz.aud.${d.audience.mode || 'everyone'}`) + (list && (d.audience.mode === 'list' || d.audience.mode === 'notList') ? `: ${list}` : '');
    const rows = [
      ['wz.step.audience', aud],
      ['wz.step.targeting', targetingSummary({ targeting: d.targeting })],
      ['wz.rv.heading', this.preview.headingName()],
      ['wz.rv.inbox', inbox],
      ['wz.step.routing', t(`wz.rt.mode.${d.routing.mode || 'inbox'}`)],
      ['wz.step.availability', t(`wz.av.mode.${d.availability.mode}`) + (d.availability.mode === 'hours' ? ` (${d.availability.timezone})` : '')],
      ['wz.ap.accent', d.appearance.accentColor],
      ['wz.opt.transcripts', t(d.options.transcripts ? 'wg.on' : 'wg.off')],
      ['wz.opt.files', t(d.options.disableAttachment ? 'wg.off' : 'wg.on')],
      ['wz.opt.consent', t(`wz.opt.consent.${d.consent.process || 'none'}`)],
    ];
    return [
      this.field('wz.rv.name', this.input('name', { maxlength: '256', required: true }), { field: 'name', hint: t('wz.rv.nameHint') }),
      this.checkbox('wz.rv.enabled', 'enabled'),
      h('dl', { class: 'wz-summary' }, rows.map(([k, v]) => [h('dt', { text: t(k) }), h('dd', { dir: 'auto', text: v })])),
    ];
  }

  // ----- publish -----

  body() {
    const d = clone(this.draft);
    d.name = d.name.trim();
    this.groups = d.availability.mode === 'hours' ? dayHours(this.days) : [];
    d.availability.hours = this.groups.map(({ days, from, to }) => ({ days, from, to }));
    if (d.message.heading.mode !== 'user' && d.message.heading.mode !== 'users') d.message.heading.userIds = [];
    d.routing.maxOpenPerAgent = Number(d.routing.maxOpenPerAgent) || 0;
    return d;
  }

  async publish() {
    if (this.busy) return;
    const body = this.body();
    if (!body.name) {
      this.fail({ message: t('wz.rv.nameRequired') }, 'name');
      return;
    }
    this.busy = true;
    this.renderStep();
    try {
      const w = this.isNew ? await api.createWidget(body) : await api.patchWidget(this.id, body);
      this.busy = false;
      await this.section.saved(w, this.isNew);
    } catch (err) {
      this.busy = false;
      if (this.section.app.failed(err)) return;
      this.fail(err, fieldOf(err.message));
    }
  }

  /** fail shows an error on the step of the field it names, next to that field. */
  fail(err, field) {
    const step = field ? stepOf(field) : STEPS[this.step];
    this.error = { field: field || '', message: err.message || t('wg.failed'), step };
    this.go(STEPS.indexOf(step), false);
    const bad = this.form.querySelector('[aria-invalid="true"]');
    (bad ?? this.form.querySelector('.form-alert, .wz-err'))?.focus?.();
    if (!bad) this.form.querySelector('legend')?.focus();
  }
}

/**
 * Preview is the live mock of the widget beside every step: the launcher on
 * the chosen side in the accent colour with its label, and the open panel
 * with heading, availability, welcome, consent and email capture. Built from
 * elements and text nodes only; update() follows the draft.
 */
class Preview {
  constructor(wz) {
    this.wz = wz;
    const headId = uid('wzp');
    const toggle = (key, on, pick) =>
      h('button', {
        type: 'button',
        class: 'btn btn-sm wzp-toggle',
        'aria-pressed': on() ? 'true' : 'false',
        text: t(key),
        onClick: () => {
          pick();
          this.update();
        },
      });
    this.toggles = [
      toggle('wzp.desktop', () => wz.device === 'desktop', () => (wz.device = 'desktop')),
      toggle('wzp.mobile', () => wz.device === 'mobile', () => (wz.device = 'mobile')),
      toggle('wzp.available', () => !wz.away, () => (wz.away = false)),
      toggle('wzp.away', () => wz.away, () => (wz.away = true)),
    ];
    this.states = [() => wz.device === 'desktop', () => wz.device === 'mobile', () => !wz.away, () => wz.away];
    this.seq = 0;
    this.timer = 0;
    this.boot = null; // the last boot answer, shown once the page has loaded
    // The real widget: the loader and chat bundle visitors get, on a page of
    // Parley's own (/widget/v1/preview), drawn from the draft's boot answer.
    this.frame = h('iframe', { class: 'wzp-frame', title: t('wzp.frameTitle'), src: `${BASE.pathname}widget/v1/preview` });
    this.frame.addEventListener('load', () => this.show());
    this.stage = h('div', { class: 'wzp-stage' }, this.frame);
    new ResizeObserver(() => this.fit()).observe(this.stage);
    this.note = h('p', { class: 'muted small wzp-caption' });
    this.error = h('p', { class: 'form-alert small', role: 'alert', hidden: true });
    this.el = h(
      'aside',
      { class: 'wz-preview', 'aria-labelledby': headId },
      h('h3', { id: headId, class: 'settings-h3', text: t('wzp.title') }),
      h('div', { class: 'wzp-toggles', role: 'group', 'aria-label': t('wzp.show') }, this.toggles),
      this.stage,
      this.error,
      this.note,
    );
  }

  /** headingName is whom the chat heading shows, as the visitor will see it. */
  headingName() {
    const d = this.wz.draft;
    const hd = d.message.heading;
    const name = (id) => this.wz.userName(id);
    switch (hd.mode) {
      case 'user':
        return name(hd.userIds?.[0]) || t('wzp.someone');
      case 'users': {
        const names = (hd.userIds ?? []).map(name).filter(Boolean);
        return names.length > 1 ? t('wzp.oneOf', { names: names.join(', ') }) : names[0] || t('wzp.someone');
      }
      case 'team':
        return this.wz.data.teams.find((x) => x.id === String(hd.teamId))?.name || t('wzp.someone');
      case 'owner':
        return t('wzp.owner', { fallback: name(hd.fallbackUserId) || '—' });
      case 'custom':
        return hd.name || t('wzp.someone');
      default:
        return t('wzp.chatWithUs');
    }
  }

  /** fit scales the page, a desktop's or a phone's width, to the column. */
  fit() {
    const mobile = this.wz.device === 'mobile';
    const w = mobile ? 390 : 560;
    const hgt = 720;
    const scale = Math.min(1, this.stage.clientWidth / w);
    this.frame.style.width = `${w}px`;
    this.frame.style.height = `${hgt}px`;
    this.frame.style.transform = `scale(${scale})`;
    this.stage.style.height = `${Math.round(hgt * scale)}px`;
  }

  /** update asks the server for the draft's boot answer, a moment after the last edit. */
  update() {
    const wz = this.wz;
    this.toggles.forEach((b, i) => b.setAttribute('aria-pressed', this.states[i]() ? 'true' : 'false'));
    this.fit();
    const d = wz.draft;
    const notes = [];
    if (d.message.heading.mode === 'users') notes.push(t('wzp.randomNote'));
    if (d.message.openByDefault) notes.push(t('wzp.opensNote'));
    this.note.textContent = notes.join(' ');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), this.boot ? 250 : 0);
  }

  async fetch() {
    const seq = ++this.seq;
    const body = this.wz.body();
    // Only what the visitor sees; the rest is no concern of a preview.
    const widget = { message: body.message, availability: body.availability, appearance: body.appearance, consent: body.consent, options: body.options };
    try {
      const boot = await request('POST', 'api/v1/widgets/preview', { widget, lang, away: this.wz.away });
      if (seq !== this.seq) return;
      this.error.hidden = true;
      this.boot = boot;
      this.show();
    } catch (err) {
      if (seq !== this.seq) return;
      this.error.textContent = err.message;
      this.error.hidden = false;
    }
  }

  /** show draws the last boot answer in the page, open as it was (a phone with the welcome as a prompt starts closed). */
  show() {
    const win = this.frame.contentWindow;
    if (!this.boot || !win?.ParleyPreview) return;
    const root = win.document.querySelector('#parley-chat')?.shadowRoot;
    const panel = root?.querySelector('.p');
    const wasOpen = !root || !panel || !panel.hidden;
    const wg = this.boot.widget;
    const prompt = this.wz.device === 'mobile' && wg.mobile?.welcomeAsPrompt && wg.welcome;
    win.ParleyPreview.show(this.boot);
    if ((wasOpen && !prompt) || wg.openByDefault) win.HubSpotConversations.widget.open();
  }
}
