// Bots (I7, B1): the bot editor of the settings screen (section "bots") with
// its live preview, and the bot's part of the conversation view: the Bot
// badge, "Take over", and why Close and replies wait for a take-over.
//
// The preview runs each turn through POST /api/v1/bots/preview, the engine
// that answers visitors, on the flow as edited: it shows exactly what a
// visitor would meet, before anything is saved.

import { request } from './api.js';
import { h, onOff, uid } from './dom.js';
import { lang, t } from './i18n.js';

const enc = encodeURIComponent;
const KINDS = ['message', 'question', 'email', 'branch', 'handoff', 'close'];
const TARGETS = ['routing', 'team', 'user'];
const MAX_STEPS = 50;
const PREVIEW_DELAY = 300; // ms from an edit to the preview starting over

/** isBotOwned reports whether the bot answers thread th now (the Bots view). */
export const isBotOwned = (th) => th?.owner === 'bot';

/** isBotMessage reports whether message m comes from a bot (actor "B-…"). */
export const isBotMessage = (m) => String(m?.actorId || '').startsWith('B-');

// ----- the conversation view -----

/**
 * BotControls are the bot's parts of the conversation header: the Bot
 * badge, the "Take over" button (for a conversation the bot owns or has
 * handed off and that waits for an agent) and the line that says why the
 * conversation cannot be closed or answered yet.
 */
export class BotControls {
  constructor(app) {
    this.app = app;
    this.busy = false;
    this.hintId = uid('bot-hint');
    this.takeBtn = h('button', { type: 'button', class: 'btn btn-primary take-over-btn', text: t('bots.takeOver'), onClick: () => this.takeOver() });
    this.hint = h('p', { id: this.hintId, class: 'bot-hint', hidden: true, text: t('bots.ownsHint') });
  }

  /** chips are the badges of thread th: Bot while the bot owns it, Waiting once it handed it off. */
  chips(th) {
    if (isBotOwned(th)) return [h('span', { class: 'chip chip-bot', text: t('bots.badge') })];
    if (th?.owner === 'waiting') return [h('span', { class: 'chip chip-waiting', text: t('bots.badgeWaiting') })];
    return [];
  }

  /** render shows the controls for thread th and disables what the bot's owning forbids. */
  render(th, { statusBtn, assignMeBtn, assignSel }) {
    const bot = isBotOwned(th);
    // Handed off and waiting for an agent, it can be taken over too.
    const takeable = bot || th?.owner === 'waiting';
    this.takeBtn.hidden = !takeable;
    this.takeBtn.disabled = this.busy;
    if (takeable) assignMeBtn.hidden = true; // taking over assigns it to you
    this.hint.hidden = !bot;
    statusBtn.disabled = bot;
    if (bot) statusBtn.setAttribute('aria-describedby', this.hintId);
    else statusBtn.removeAttribute('aria-describedby');
    assignSel.disabled = bot;
  }

  /** blocksReply reports (and says) that a reply must wait for a take-over; notes are fine. */
  blocksReply(th, note) {
    if (note || !isBotOwned(th)) return false;
    this.app.shell.toast(t('bots.replyBlocked'));
    return true;
  }

  /** blocksStatus reports (and says) that a bot conversation is closed by the bot only (I7). */
  blocksStatus(th) {
    if (!isBotOwned(th)) return false;
    this.app.shell.toast(t('bots.closeBlocked'));
    return true;
  }

  async takeOver() {
    const app = this.app;
    const id = app.open?.id;
    if (!id || this.busy) return;
    this.busy = true;
    this.takeBtn.disabled = true;
    try {
      const raw = await request('POST', `api/v1/threads/${enc(id)}/takeover`);
      if (raw?.id) app.putThread(raw, true); // the log announces the recorded take-over
    } catch (err) {
      app.failed(err, 'bots.takeOverFailed');
    } finally {
      this.busy = false;
    }
    app.render();
    app.conv.focusReply();
  }
}

// ----- the editor -----

let stepCounter = 0;

/** newStep returns an empty step of kind with an id no step of steps has. */
function newStep(kind, steps) {
  let id;
  do {
    stepCounter += 1;
    id = `s${stepCounter}`;
  } while (steps.some((s) => s.id === id));
  const st = { id, kind, text: '', next: '' };
  if (kind === 'question') Object.assign(st, { options: [], freeText: false, property: '' });
  if (kind === 'branch') Object.assign(st, { on: '', cases: [] });
  if (kind === 'handoff') Object.assign(st, { to: 'routing', teamId: '', userId: '' });
  return st;
}

/** normStep fills the fields the editor works with from a stored step. */
function normStep(raw) {
  return {
    id: String(raw.id || ''),
    kind: KINDS.includes(raw.kind) ? raw.kind : 'message',
    text: raw.text || '',
    next: raw.next || '',
    options: Array.isArray(raw.options) ? raw.options.map(String) : [],
    freeText: !!raw.freeText,
    property: raw.property || '',
    retryText: raw.retryText || '',
    on: raw.on || '',
    cases: Array.isArray(raw.cases) ? raw.cases.map((c) => ({ value: String(c.value || ''), goto: String(c.goto || '') })) : [],
    to: TARGETS.includes(raw.to) ? raw.to : 'routing',
    teamId: raw.teamId ? String(raw.teamId) : '',
    userId: raw.userId ? String(raw.userId) : '',
  };
}

/** wireStep is a step as the API takes it: only its kind's fields. */
function wireStep(st) {
  const out = { id: st.id, kind: st.kind };
  if (st.text.trim() || !['handoff', 'close'].includes(st.kind)) out.text = st.text;
  if (st.next) out.next = st.next;
  switch (st.kind) {
    case 'question':
      out.options = st.options.map((o) => o.trim()).filter(Boolean);
      if (st.freeText) out.freeText = true;
      if (st.property.trim()) out.property = st.property.trim();
      if (st.retryText) out.retryText = st.retryText;
      break;
    case 'email':
      if (st.retryText) out.retryText = st.retryText;
      break;
    case 'branch':
      out.on = st.on;
      out.cases = st.cases.map((c) => ({ value: c.value.trim(), goto: c.goto }));
      break;
    case 'handoff':
      out.to = st.to;
      if (st.to === 'team') out.teamId = st.teamId;
      if (st.to === 'user') out.userId = st.userId;
      break;
  }
  return out;
}

/**
 * botProblem reads the server's refusal of a flow, whose message names the
 * step and field first (parley.BotFlow.Validate: "bot.steps[1].text: text
 * is empty"), and returns where it belongs and a sentence for people in the
 * console's language: { step (index, -1 for the flow), field (the control's
 * data-fk suffix), text }.
 */
export function botProblem(message) {
  const msg = String(message ?? '');
  const m = /^bot\.steps\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?)?/.exec(msg);
  if (!m) return { step: -1, field: '', text: /no steps/.test(msg) ? t('bots.err.noSteps') : t('bots.err.flow') };
  const step = Number(m[1]);
  const names = { teamId: 'team', userId: 'user', id: 'kind' };
  let field = names[m[2]] ?? m[2] ?? 'kind';
  if (m[2] === 'cases') field = `case-${m[3]}-${m[4] === 'goto' ? 'goto' : 'value'}`;
  let key = 'bots.err.invalid';
  if (!m[2] && /loop/.test(msg)) key = 'bots.err.loop';
  else if (/is empty|is required/.test(msg)) key = 'bots.err.missing';
  else if (/does not exist/.test(msg)) key = 'bots.err.gone';
  else if (/earlier/.test(msg)) key = 'bots.err.earlier';
  else if (/twice/.test(msg)) key = 'bots.err.twice';
  else if (/longer than|at most/.test(msg)) key = 'bots.err.long';
  return { step, field, text: t(key, { n: step + 1 }) };
}

/**
 * BotEditor is the "Bots" section of the settings screen: pick a widget,
 * switch its bot on, edit the ordered steps, watch the preview, save.
 */
export class BotEditor {
  constructor(settings) {
    this.settings = settings;
    this.app = settings.app;
    this.state = 'idle'; // idle | loading | ready | error
    this.widgets = [];
    this.widgetId = '';
    this.flow = null; // { enabled, name, steps } as edited
    this.saved = ''; // JSON of the flow as last loaded or saved
    this.message = null; // { text, error } after a save
    this.problem = null; // botProblem of the last refused save, shown by its field
    this.root = h('div', { class: 'bots-editor' });
    this.pv = { state: null, items: [], done: false, error: '', busy: false, gen: 0 };
    this.pvTimer = 0;
  }

  /** render returns the section's content; the editor keeps its own nodes between renders. */
  render() {
    if (this.state === 'idle') this.load();
    return [this.settings.sectionHead('settings.bots', 'bots.hint'), this.root];
  }

  // ----- data -----

  async load() {
    this.state = 'loading';
    this.draw();
    try {
      const res = await request('GET', 'api/v1/widgets');
      this.widgets = (res?.results ?? []).map((w) => ({ ...w, id: String(w.id) }));
      if (!this.widgets.some((w) => w.id === this.widgetId)) this.widgetId = this.widgets[0]?.id ?? '';
      if (this.widgetId) await this.loadBot(this.widgetId);
      this.state = 'ready';
    } catch (err) {
      if (this.app.failed(err)) return;
      this.state = 'error';
    }
    this.draw();
    this.restartPreview(true);
  }

  async loadBot(id) {
    const raw = await request('GET', `api/v1/widgets/${enc(id)}/bot`);
    this.flow = { enabled: !!raw?.enabled, name: raw?.name || '', steps: (raw?.steps ?? []).map(normStep) };
    this.saved = JSON.stringify(this.wireFlow());
    this.message = null;
  }

  async pickWidget(id) {
    if (id === this.widgetId) return;
    if (this.dirty() && !window.confirm(t('bots.discard'))) {
      this.draw();
      return;
    }
    this.widgetId = id;
    try {
      await this.loadBot(id);
    } catch (err) {
      if (this.app.failed(err, 'bots.loadFailed')) return;
    }
    this.draw();
    this.restartPreview(true);
  }

  wireFlow() {
    const f = this.flow;
    const out = { enabled: f.enabled, steps: f.steps.map(wireStep) };
    if (f.name.trim()) out.name = f.name.trim();
    return out;
  }

  dirty() {
    return !!this.flow && JSON.stringify(this.wireFlow()) !== this.saved;
  }

  async save() {
    try {
      const raw = await request('PUT', `api/v1/widgets/${enc(this.widgetId)}/bot`, this.wireFlow());
      this.flow = { enabled: !!raw?.enabled, name: raw?.name || '', steps: (raw?.steps ?? []).map(normStep) };
      this.saved = JSON.stringify(this.wireFlow());
      this.message = { text: t('bots.saved'), error: false };
    } catch (err) {
      if (this.app.failed(err)) return;
      this.problem = err.status === 400 || err.status === 413 ? botProblem(err.message) : null;
      this.message = { text: this.problem ? t('bots.saveRefused', { problem: this.problem.text }) : t('bots.saveFailed', { reason: err.message || '' }).trim(), error: true };
    }
    this.draw();
    (this.problemControl() ?? this.root.querySelector('.bots-message'))?.focus();
  }

  // ----- editing -----

  /** change applies an edit; structural edits draw again, text edits only refresh the preview. */
  change(fn, redraw = false) {
    fn(this.flow);
    this.message = null;
    if (this.problem) {
      this.problem = null;
      redraw = true;
    }
    if (redraw) this.draw();
    else this.drawStatus();
    this.restartPreview();
  }

  addStep(kind) {
    if (this.flow.steps.length >= MAX_STEPS) return;
    const st = newStep(kind, this.flow.steps);
    this.change((f) => f.steps.push(st), true);
    this.root.querySelector(`[data-fk="${CSS.escape(`step-${st.id}-kind`)}"]`)?.focus();
  }

  moveStep(i, d) {
    const steps = this.flow.steps;
    const j = i + d;
    if (j < 0 || j >= steps.length) return;
    const id = steps[i].id;
    this.change((f) => ([f.steps[i], f.steps[j]] = [f.steps[j], f.steps[i]]), true);
    const btn = this.root.querySelector(`[data-fk="${CSS.escape(`step-${id}-${d < 0 ? 'up' : 'down'}`)}"]`);
    (btn && !btn.disabled ? btn : this.root.querySelector(`[data-fk="${CSS.escape(`step-${id}-kind`)}"]`))?.focus();
    this.settings.say(t('bots.moved', { n: j + 1 }));
  }

  removeStep(i) {
    const id = this.flow.steps[i].id;
    this.change((f) => {
      f.steps.splice(i, 1);
      // What named the step now goes on as if it were not there.
      for (const s of f.steps) {
        if (s.next === id) s.next = '';
        if (s.on === id) s.on = '';
        s.cases = s.cases.filter((c) => c.goto !== id);
      }
    }, true);
    const steps = this.flow.steps;
    const focus = steps[Math.min(i, steps.length - 1)];
    (focus ? this.root.querySelector(`[data-fk="${CSS.escape(`step-${focus.id}-kind`)}"]`) : this.root.querySelector('[data-fk="bots-add-kind"]'))?.focus();
    this.settings.say(t('bots.removed', { n: i + 1 }));
  }

  // ----- drawing -----

  draw() {
    const active = this.root.contains(document.activeElement) ? document.activeElement.dataset.fk : null;
    let body;
    if (this.state === 'loading' || this.state === 'idle') body = [h('p', { class: 'muted', role: 'status', text: t('settings.loading') })];
    else if (this.state === 'error') body = [h('p', { class: 'form-alert', role: 'alert', text: t('bots.loadFailed') }), h('button', { type: 'button', class: 'btn', text: t('list.retry'), onClick: () => this.load() })];
    else if (!this.widgets.length) body = [h('p', { class: 'muted', text: t('bots.noWidgets') })];
    else body = [this.widgetCard(), h('div', { class: 'bots-layout' }, this.stepsCard(), this.previewCard())];
    this.root.replaceChildren(...body);
    this.showProblem();
    if (active) this.root.querySelector(`[data-fk="${CSS.escape(active)}"]`)?.focus();
  }

  /** problemControl is the control the refused save's problem is about (its step's kind when the field has none), or null. */
  problemControl() {
    const p = this.problem;
    const st = p && this.flow?.steps[p.step];
    if (!st) return null;
    const q = (name) => this.root.querySelector(`[data-fk="${CSS.escape(`step-${st.id}-${name}`)}"]`);
    return q(p.field) ?? q('kind');
  }

  /** showProblem puts the refused save's sentence next to the control it is about. */
  showProblem() {
    const control = this.problemControl();
    if (!control) return;
    const id = uid('bot-err');
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', id);
    control.after(h('p', { id, class: 'field-error', text: this.problem.text }));
  }

  widgetCard() {
    const f = this.flow;
    const selId = uid('bot-widget');
    const nameId = uid('bot-name');
    const select = h(
      'select',
      { id: selId, class: 'select', dataset: { fk: 'bots-widget' }, onChange: (e) => this.pickWidget(e.target.value) },
      this.widgets.map((w) => h('option', { value: w.id, selected: w.id === this.widgetId, text: w.name })),
    );
    this.saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: 'bots-save' }, text: t('bots.save') });
    this.statusEl = h('p', { class: `bots-message${this.message?.error ? ' form-alert' : ' muted'}`, role: this.message?.error ? 'alert' : 'status', tabindex: '-1', text: this.message?.text || '' });
    this.drawStatus();
    return h(
      'form',
      {
        class: 'settings-card settings-form',
        onSubmit: (e) => {
          e.preventDefault();
          this.save();
        },
      },
      h(
        'div',
        { class: 'settings-row' },
        h('div', { class: 'field grow' }, h('label', { for: selId, text: t('bots.widget') }), select),
        h(
          'div',
          { class: 'field grow' },
          h('label', { for: nameId, text: t('bots.name') }),
          h('input', { id: nameId, class: 'input', maxlength: '256', placeholder: t('bots.namePlaceholder'), value: f.name, dataset: { fk: 'bots-name' }, onInput: (e) => this.change((fl) => (fl.name = e.target.value)) }),
        ),
      ),
      h(
        'label',
        { class: 'switch' },
        h('input', { type: 'checkbox', role: 'switch', checked: f.enabled, dataset: { fk: 'bots-enabled' }, onChange: (e) => this.change((fl) => (fl.enabled = e.target.checked)) }),
        h('span', { class: 'switch-track', 'aria-hidden': 'true' }),
        h('span', { class: 'switch-label', text: t('bots.enabled') }),
      ),
      h('p', { class: 'muted small', text: t('bots.enabledHint') }),
      h('div', { class: 'settings-actions' }, this.saveBtn, this.statusEl),
    );
  }

  /** drawStatus refreshes the save button and the unsaved-changes line without drawing the rest. */
  drawStatus() {
    if (!this.statusEl) return;
    const dirty = this.dirty();
    this.saveBtn.disabled = !dirty;
    if (!this.message) this.statusEl.textContent = dirty ? t('bots.unsaved') : '';
  }

  stepsCard() {
    const steps = this.flow.steps;
    const addId = uid('bot-add');
    const kind = h('select', { id: addId, class: 'select', dataset: { fk: 'bots-add-kind' } }, KINDS.map((k) => h('option', { value: k, text: t(`bots.kind.${k}`) })));
    return h(
      'section',
      { class: 'settings-card bots-steps', 'aria-label': t('bots.steps') },
      h('h3', { class: 'settings-h3', text: t('bots.steps') }),
      steps.length ? h('ol', { class: 'bots-step-list' }, steps.map((st, i) => this.stepEl(st, i))) : h('p', { class: 'muted', text: t('bots.noSteps') }),
      h(
        'div',
        { class: 'settings-row' },
        h('div', { class: 'field' }, h('label', { for: addId, text: t('bots.addKind') }), kind),
        h('button', { type: 'button', class: 'btn', disabled: steps.length >= MAX_STEPS, dataset: { fk: 'bots-add' }, text: t('bots.add'), onClick: () => this.addStep(kind.value) }),
      ),
    );
  }

  /** label names step st (at index i) in selects and for screen readers. */
  label(st, i) {
    const text = st.text.trim().replace(/\s+/g, ' ');
    const kind = t(`bots.kind.${st.kind}`);
    return text ? `${i + 1}. ${kind}: ${text.length > 32 ? text.slice(0, 31) + '…' : text}` : `${i + 1}. ${kind}`;
  }

  stepEl(st, i) {
    const steps = this.flow.steps;
    const fk = (name) => `step-${st.id}-${name}`;
    const n = i + 1;
    const field = (label, control, extra) => {
      control.id = control.id || uid('bot-f');
      return h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control, extra);
    };
    const text = (key, prop, required) =>
      field(
        t(key),
        h('textarea', { class: 'input', rows: '2', required: required || null, value: st[prop], dataset: { fk: fk(prop) }, onInput: (e) => this.change(() => (st[prop] = e.target.value)) }),
      );
    const stepSelect = (prop, options, noneLabel, onChange) =>
      h(
        'select',
        { class: 'select', dataset: { fk: fk(prop) }, onChange },
        h('option', { value: '', text: noneLabel }),
        options.map((o) => h('option', { value: o.id, selected: o.id === st[prop], text: this.label(o, steps.indexOf(o)) })),
      );
    const kind = h(
      'select',
      {
        class: 'select',
        dataset: { fk: fk('kind') },
        onChange: (e) =>
          this.change(() => {
            const fresh = newStep(e.target.value, []);
            Object.assign(st, { ...fresh, id: st.id, text: st.text, next: st.next });
          }, true),
      },
      KINDS.map((k) => h('option', { value: k, selected: k === st.kind, text: t(`bots.kind.${k}`) })),
    );
    const others = steps.filter((o) => o !== st);
    const fields = [field(t('bots.kind'), kind)];
    switch (st.kind) {
      case 'message':
        fields.push(text('bots.text.message', 'text', true));
        break;
      case 'question':
        fields.push(
          text('bots.text.question', 'text', true),
          field(
            t('bots.options'),
            h('textarea', {
              class: 'input',
              rows: '3',
              value: st.options.join('\n'),
              dataset: { fk: fk('options') },
              onInput: (e) => this.change(() => (st.options = e.target.value.split('\n'))),
            }),
            h('p', { class: 'muted small', text: t('bots.optionsHint') }),
          ),
          onOff(
            h('input', { type: 'checkbox', checked: st.freeText, dataset: { fk: fk('free') }, onChange: (e) => this.change(() => (st.freeText = e.target.checked)) }),
            t('bots.freeText'),
          ),
          field(
            t('bots.property'),
            h('input', { class: 'input', maxlength: '64', pattern: '[a-zA-Z][a-zA-Z0-9_]{0,63}', spellcheck: 'false', value: st.property, dataset: { fk: fk('property') }, onInput: (e) => this.change(() => (st.property = e.target.value)) }),
            h('p', { class: 'muted small', text: t('bots.propertyHint') }),
          ),
        );
        break;
      case 'email':
        fields.push(text('bots.text.email', 'text', true));
        break;
      case 'branch': {
        const earlier = steps.slice(0, i).filter((o) => o.kind === 'question' || o.kind === 'email');
        fields.push(field(t('bots.on'), stepSelect('on', earlier, t('bots.pick'), (e) => this.change(() => (st.on = e.target.value)))));
        const cases = st.cases.map((c, j) => {
          const valueId = uid('bot-case');
          const gotoId = uid('bot-goto');
          return h(
            'li',
            { class: 'bots-case' },
            h('div', { class: 'field' }, h('label', { for: valueId, text: t('bots.caseValue', { n: j + 1 }) }), h('input', { id: valueId, class: 'input', value: c.value, dataset: { fk: fk(`case-${j}-value`) }, onInput: (e) => this.change(() => (c.value = e.target.value)) })),
            h(
              'div',
              { class: 'field' },
              h('label', { for: gotoId, text: t('bots.caseGoto') }),
              h(
                'select',
                { id: gotoId, class: 'select', dataset: { fk: fk(`case-${j}-goto`) }, onChange: (e) => this.change(() => (c.goto = e.target.value)) },
                h('option', { value: '', text: t('bots.pick') }),
                others.map((o) => h('option', { value: o.id, selected: o.id === c.goto, text: this.label(o, steps.indexOf(o)) })),
              ),
            ),
            h('button', {
              type: 'button',
              class: 'btn btn-sm',
              text: t('bots.caseRemove'),
              'aria-label': t('bots.caseRemoveOf', { n: j + 1 }),
              onClick: () => this.change(() => st.cases.splice(j, 1), true),
            }),
          );
        });
        fields.push(
          h('fieldset', { class: 'bots-cases' }, h('legend', { text: t('bots.cases') }), cases.length ? h('ol', null, cases) : null, h('button', { type: 'button', class: 'btn btn-sm', dataset: { fk: fk('case-add') }, text: t('bots.caseAdd'), onClick: () => this.change(() => st.cases.push({ value: '', goto: '' }), true) })),
        );
        break;
      }
      case 'handoff': {
        const to = h(
          'select',
          { class: 'select', dataset: { fk: fk('to') }, onChange: (e) => this.change(() => (st.to = e.target.value), true) },
          TARGETS.map((k) => h('option', { value: k, selected: k === st.to, text: t(`bots.to.${k}`) })),
        );
        fields.push(field(t('bots.to'), to));
        const data = this.settings.data;
        if (st.to === 'team') {
          const teams = [...(data?.teams ?? [])].sort((a, b) => a.name.localeCompare(b.name));
          fields.push(field(t('bots.team'), h('select', { class: 'select', dataset: { fk: fk('team') }, onChange: (e) => this.change(() => (st.teamId = e.target.value)) }, h('option', { value: '', text: t('bots.pick') }), teams.map((x) => h('option', { value: x.id, selected: x.id === st.teamId, text: x.name })))));
        } else if (st.to === 'user') {
          const users = [...(data?.users ?? [])].filter((u) => !u.deactivated).sort((a, b) => String(a.name).localeCompare(String(b.name)));
          fields.push(field(t('bots.user'), h('select', { class: 'select', dataset: { fk: fk('user') }, onChange: (e) => this.change(() => (st.userId = e.target.value)) }, h('option', { value: '', text: t('bots.pick') }), users.map((x) => h('option', { value: x.id, selected: x.id === st.userId, text: x.name || x.email })))));
        }
        fields.push(text('bots.text.handoff', 'text', false));
        break;
      }
      case 'close':
        fields.push(text('bots.text.close', 'text', false));
        break;
    }
    if (st.kind !== 'handoff' && st.kind !== 'close') {
      fields.push(field(st.kind === 'branch' ? t('bots.otherwise') : t('bots.next'), stepSelect('next', others, t('bots.nextDefault'), (e) => this.change(() => (st.next = e.target.value)))));
    }
    const tools = h(
      'div',
      { class: 'bots-step-tools', role: 'group', 'aria-label': t('bots.stepTools', { n }) },
      h('button', { type: 'button', class: 'btn btn-sm', disabled: i === 0, 'aria-label': t('bots.upOf', { n }), dataset: { fk: fk('up') }, text: t('bots.up'), onClick: () => this.moveStep(i, -1) }),
      h('button', { type: 'button', class: 'btn btn-sm', disabled: i === steps.length - 1, 'aria-label': t('bots.downOf', { n }), dataset: { fk: fk('down') }, text: t('bots.down'), onClick: () => this.moveStep(i, 1) }),
      h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'aria-label': t('bots.removeOf', { n }), dataset: { fk: fk('remove') }, text: t('bots.remove'), onClick: () => this.removeStep(i) }),
    );
    return h('li', { class: `bots-step bots-step-${st.kind}` }, h('fieldset', null, h('legend', { text: t('bots.stepN', { n, kind: t(`bots.kind.${st.kind}`) }) }), fields, tools));
  }

  // ----- preview -----

  previewCard() {
    // The log holds a list: a list element may not be a log itself.
    this.pvList = h('ol', { class: 'bots-pv-list' });
    this.pvLog = h('div', { class: 'bots-pv-log', role: 'log', 'aria-live': 'polite', 'aria-label': t('bots.preview') }, this.pvList);
    this.pvReplies = h('div', { class: 'bots-pv-replies', role: 'group', 'aria-label': t('bots.pvReplies') });
    this.pvStatus = h('p', { class: 'muted small', role: 'status' });
    const inputId = uid('bot-pv');
    this.pvInput = h('input', { id: inputId, class: 'input', autocomplete: 'off', placeholder: t('bots.pvPlaceholder'), dataset: { fk: 'bots-pv-input' } });
    const form = h(
      'form',
      {
        class: 'bots-pv-form',
        onSubmit: (e) => {
          e.preventDefault();
          const v = this.pvInput.value.trim();
          if (!v) return;
          this.pvInput.value = '';
          this.previewTurn(v);
        },
      },
      h('label', { for: inputId, class: 'sr-only', text: t('bots.pvMessage') }),
      this.pvInput,
      (this.pvSend = h('button', { type: 'submit', class: 'btn', dataset: { fk: 'bots-pv-send' }, text: t('bots.pvSend') })),
    );
    const card = h(
      'section',
      { class: 'settings-card bots-preview', 'aria-label': t('bots.preview') },
      h('div', { class: 'bots-pv-head' }, h('h3', { class: 'settings-h3', text: t('bots.preview') }), h('button', { type: 'button', class: 'btn btn-sm', dataset: { fk: 'bots-pv-restart' }, text: t('bots.pvRestart'), onClick: () => this.restartPreview(true) })),
      h('p', { class: 'muted small', text: t('bots.pvHint') }),
      this.pvLog,
      this.pvReplies,
      form,
      this.pvStatus,
    );
    this.drawPreview();
    return card;
  }

  /** restartPreview starts the conversation over, at once or after the edits pause. */
  restartPreview(now = false) {
    clearTimeout(this.pvTimer);
    if (!this.flow) return;
    const run = () => {
      // The visitor's first message starts the bot; what it says is not an answer.
      this.pv = { state: null, items: [{ who: 'visitor', text: t('bots.pvFirst') }], done: false, error: '', busy: false, gen: this.pv.gen + 1 };
      this.previewTurn(null);
    };
    if (now) run();
    else this.pvTimer = setTimeout(run, PREVIEW_DELAY);
  }

  /** previewTurn sends the visitor's text (null to start) through the engine and shows what the bot does. */
  async previewTurn(text) {
    const pv = this.pv;
    const gen = pv.gen;
    if (!this.flow.steps.length) {
      pv.hint = t('bots.pvEmpty'); // what to do, not something wrong
      this.drawPreview();
      return;
    }
    pv.hint = '';
    if (text !== null) pv.items.push({ who: 'visitor', text });
    pv.busy = true;
    this.drawPreview();
    const flow = { ...this.wireFlow(), enabled: true };
    try {
      const res = await request('POST', 'api/v1/bots/preview', { bot: flow, state: pv.state, input: { text: text ?? '', lang } });
      if (gen !== this.pv.gen) return;
      for (const a of res?.actions ?? []) pv.items.push(this.previewItem(a));
      pv.state = res?.state ?? null;
      pv.done = !!pv.state?.done;
      pv.error = '';
    } catch (err) {
      if (gen !== this.pv.gen || this.app.failed(err)) return;
      pv.error = t('bots.pvInvalid', { reason: err.status === 400 || err.status === 413 ? botProblem(err.message).text : err.message || '' });
    }
    pv.busy = false;
    this.drawPreview();
  }

  previewItem(a) {
    switch (a.kind) {
      case 'say':
      case 'askEmail':
        return { who: 'bot', text: a.text };
      case 'ask':
        return { who: 'bot', text: a.text, options: a.options ?? [] };
      case 'save':
        return { note: t('bots.pvSaved', { property: a.property, value: a.value }) };
      case 'saveEmail':
        return { note: t('bots.pvSavedEmail', { value: a.value }) };
      case 'handoff':
        return { note: t(`bots.pvHandoff.${TARGETS.includes(a.to) ? a.to : 'routing'}`, { name: this.targetName(a) }) };
      case 'close':
        return { note: t('bots.pvClosed') };
      default:
        return { note: a.kind };
    }
  }

  targetName(a) {
    const data = this.settings.data;
    if (a.to === 'team') return data?.teams?.find((x) => x.id === String(a.teamId))?.name ?? String(a.teamId);
    if (a.to === 'user') return data?.users?.find((x) => x.id === String(a.userId))?.name ?? String(a.userId);
    return '';
  }

  drawPreview() {
    if (!this.pvLog) return;
    const pv = this.pv;
    const name = this.flow?.name.trim() || t('bots.defaultName');
    this.pvList.replaceChildren(
      ...pv.items.map((it) =>
        it.note
          ? h('li', { class: 'bots-pv-note', text: it.note })
          : h('li', { class: `bots-pv-msg bots-pv-${it.who}` }, h('span', { class: 'bots-pv-who', text: it.who === 'bot' ? name : t('bots.pvVisitor') }), h('p', { class: 'bots-pv-text', dir: 'auto', text: it.text })),
      ),
    );
    const last = pv.items[pv.items.length - 1];
    const options = !pv.done && !pv.busy && last?.options?.length ? last.options : [];
    this.pvReplies.replaceChildren(...options.map((o) => h('button', { type: 'button', class: 'btn btn-sm bots-pv-reply', text: o, onClick: () => this.previewTurn(o) })));
    this.pvReplies.hidden = !options.length;
    this.pvInput.disabled = this.pvSend.disabled = pv.done || pv.busy || !!pv.error || !!pv.hint;
    this.pvStatus.textContent = pv.error || pv.hint || (pv.done ? t('bots.pvDone') : '');
    this.pvStatus.classList.toggle('form-alert', !!pv.error);
    this.pvLog.scrollTop = this.pvLog.scrollHeight;
  }
}
