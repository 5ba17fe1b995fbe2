// The contact behind a conversation (I8, R5): its details (name editable),
// its company (set, changed, renamed or removed), its conversations, tickets
// and deals (with the forms to create them), its
// logged calls, emails and notes, blocking, and detaching it from a chat.
// ContactView draws all of that for the sidebar next to a conversation
// (sidebar.js) and for the full contact page (contactpage.js).

import { ApiError, BASE, request } from './api.js';
import { h, plainClick, uid } from './dom.js';
import { ago, fullDate, lang, t, visitorName } from './i18n.js';
import { channelOf, threadPath } from './model.js';

const enc = encodeURIComponent;

// ----- REST calls (docs/api.md, "Contacts") -----

export const getContact = (id) => request('GET', `api/v1/contacts/${enc(id)}`);
export const patchContact = (id, body) => request('PATCH', `api/v1/contacts/${enc(id)}`, body);
export const createRecord = (contactId, body) => request('POST', `api/v1/contacts/${enc(contactId)}/records`, body);
export const patchRecord = (id, body) => request('PATCH', `api/v1/records/${enc(id)}`, body);
export const threadRecords = (threadId) => request('GET', `api/v1/threads/${enc(threadId)}/records`);
export const createEngagement = (contactId, body) => request('POST', `api/v1/contacts/${enc(contactId)}/engagements`, body);
export const engagements = (contactId, after) =>
  request('GET', `api/v1/contacts/${enc(contactId)}/engagements?limit=50${after ? `&after=${enc(after)}` : ''}`);
export const disassociate = (threadId) => request('POST', `api/v1/threads/${enc(threadId)}/disassociate`, {});
export const contactConsents = (id) => request('GET', `api/v1/contacts/${enc(id)}/consents`);

// Companies, through the CRM API (docs/api.md, "CRM objects").
const COMPANIES = 'crm/v3/objects/companies';
export const companiesByDomain = (domain) =>
  request('POST', `${COMPANIES}/search`, { filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: domain }] }], limit: 1 });
export const createCompany = (properties) => request('POST', COMPANIES, { properties });
export const patchCompany = (id, properties) => request('PATCH', `${COMPANIES}/${enc(id)}`, { properties });
export const setCompany = (contactId, companyId) =>
  request('PUT', `crm/v4/objects/contacts/${enc(contactId)}/associations/default/companies/${enc(companyId)}`);
export const removeCompany = (contactId, companyId) =>
  request('DELETE', `crm/v4/objects/contacts/${enc(contactId)}/associations/companies/${enc(companyId)}`);

/** STAGES are the stages of each record kind, in order; the first is a new record's default. */
export const STAGES = {
  ticket: ['new', 'waiting', 'closed'],
  deal: ['appointment', 'qualified', 'presentation', 'decision', 'contract', 'won', 'lost'],
};
const ENGAGEMENT_KINDS = ['call', 'email', 'note'];

/** contactPath is the console URL of a contact's page; contactRoute is its inverse (null: not a contact page). */
export const contactPath = (id) => `${BASE.pathname}contacts/${encodeURIComponent(id)}`;

export function contactRoute(pathname = location.pathname) {
  if (!pathname.startsWith(BASE.pathname)) return null;
  const m = /^contacts\/([^/]+)\/?$/.exec(pathname.slice(BASE.pathname.length));
  return m ? decodeURIComponent(m[1]) : null;
}


const AMOUNT = /^[0-9]{1,15}(\.[0-9]{1,4})?$/;
const fmtAmount = new Intl.NumberFormat(lang, { maximumFractionDigits: 4 });

/** amountText formats a deal's decimal amount for reading; odd strings show as they are. */
export function amountText(a) {
  return AMOUNT.test(a) && Number.isFinite(Number(a)) ? fmtAmount.format(Number(a)) : a;
}

/**
 * renameInList gives the conversations of contact id that the console holds
 * their contact's new name, and redraws.
 */
export function renameInList(app, id, name) {
  if (!id || !name) return;
  let changed = false;
  for (const th of app.threads.values()) {
    if (String(th.associatedContactId) === String(id) && th.contactName !== name) {
      app.putThread({ ...th, contactName: name }, true);
      changed = true;
    }
  }
  if (changed) app.render();
}

/** errorText is the message to show for a failed call. */
function errorText(err, key) {
  if (err?.status === 0) return t('err.network');
  return err instanceof ApiError && err.status < 500 && err.message ? err.message : t(key);
}

/**
 * ContactView shows one contact for a Console (app). mode 'side' is the
 * compact sidebar next to conversation threadId; mode 'page' is the full
 * page. It loads over REST and again whenever contact.updated or
 * records.updated concerns what it shows.
 */
/** propertyLines writes custom properties as "name=value" lines, by name. */
function propertyLines(props) {
  return Object.entries(props ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

export class ContactView {
  constructor(app, mode) {
    this.app = app;
    this.mode = mode;
    this.contactId = null;
    this.threadId = null;
    this.state = 'empty'; // empty | loading | ready | notfound | error
    this.data = null; // GET /contacts/{id}
    this.onThread = []; // records of threadId
    this.moreEngagements = null; // paging cursor of the engagements beyond data.engagements
    this.olderEngagements = [];
    this.form = null; // { key, el, opener }: the open form, kept across renders
    this.gen = 0;
    this.reloadTimer = 0;
    this.live = h('p', { class: 'sr-only', role: 'status' });
    this.body = h('div', { class: 'cv-body' });
    this.el = h('div', { class: `cv cv-${mode}` }, this.body, this.live);
  }

  /** show loads contact id (null: nothing), for conversation threadId in the sidebar. */
  show(contactId, threadId = null) {
    contactId = contactId && contactId !== '0' ? String(contactId) : null;
    threadId = threadId ? String(threadId) : null;
    if (contactId === this.contactId && threadId === this.threadId) return;
    const sameContact = contactId === this.contactId;
    this.gen++; // an answer still on its way is for what was shown before
    this.contactId = contactId;
    this.threadId = threadId;
    if (!sameContact) {
      this.form = null;
      this.data = null;
      this.olderEngagements = [];
      this.moreEngagements = null;
    }
    this.onThread = [];
    this.state = contactId ? 'loading' : 'empty';
    this.render();
    if (contactId) this.load();
  }

  /** reload fetches again soon, coalescing bursts of events. */
  reload() {
    if (!this.contactId || this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = 0;
      this.load();
    }, 60);
  }

  async load() {
    const gen = ++this.gen;
    const { contactId, threadId } = this;
    try {
      const [data, recs, cons] = await Promise.all([
        getContact(contactId),
        threadId ? threadRecords(threadId) : null,
        contactConsents(contactId).catch(() => null), // the list shows without them
      ]);
      if (gen !== this.gen) return;
      this.data = data;
      this.consents = cons?.results ?? [];
      this.onThread = recs?.results ?? [];
      this.moreEngagements = this.olderEngagements.length ? this.moreEngagements : (data?.engagementsPaging?.next?.after ?? null);
      this.state = 'ready';
    } catch (err) {
      if (gen !== this.gen || this.app.failed(err)) return;
      this.state = err.status === 404 ? 'notfound' : 'error';
    }
    this.render();
  }

  /** onEvent reloads when a live event concerns what is shown. */
  onEvent(ev) {
    if (!this.contactId) return;
    if (ev.type === 'ready') return this.reload(); // events may have been missed
    const contact = String(ev.contactId ?? '');
    if ((ev.type === 'contact.updated' || ev.type === 'records.updated') && contact === this.contactId) this.reload();
    else if (ev.type === 'records.updated' && this.threadId && String(ev.threadId) === this.threadId) this.reload();
  }

  say(text) {
    this.live.textContent = '';
    requestAnimationFrame(() => (this.live.textContent = text));
  }

  // ----- drawing -----

  render() {
    // Focus survives a redraw: inside an open form (the same elements come
    // back), or on a control with a data-key (drawn anew).
    const active = document.activeElement;
    const inForm = this.form?.el.contains(active) ? active : null;
    const sel = inForm && typeof inForm.selectionStart === 'number' ? [inForm.selectionStart, inForm.selectionEnd] : null;
    const focusKey = !inForm && this.el.contains(active) ? active.dataset.key : null;
    const d = this.data;
    let parts;
    if (this.state === 'empty') parts = [h('p', { class: 'muted cv-note', text: t('ct.none') })];
    else if (!d && this.state === 'loading') parts = [h('p', { class: 'muted cv-note', text: t('ct.loading') })];
    else if (this.state === 'notfound') parts = [h('p', { class: 'cv-note', role: 'alert', text: t('ct.notFound') })];
    else if (!d) parts = [h('p', { class: 'cv-note', role: 'alert', text: t('ct.failed') }), h('button', { type: 'button', class: 'btn btn-sm', text: t('list.retry'), onClick: () => this.load() })];
    else parts = this.mode === 'page' ? this.pageParts(d) : this.sideParts(d);
    this.body.replaceChildren(...parts.filter(Boolean));
    if (inForm?.isConnected) {
      inForm.focus({ preventScroll: true });
      if (sel) inForm.setSelectionRange(sel[0], sel[1]);
    } else if (focusKey) this.body.querySelector(`[data-key="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
    this.onRender?.();
  }

  sideParts(d) {
    const th = this.app.threads.get(this.threadId);
    const onThread = new Set(this.onThread.map((r) => r.id));
    const others = d.records.filter((r) => !onThread.has(r.id));
    const past = d.threads.filter((x) => String(x.id) !== this.threadId);
    return [
      this.detailsCard(d),
      this.card('ct.records', [
        this.companyPart(d),
        h('h4', { class: 'cv-sub', text: t('ct.ticketsDeals') }),
        this.recordList(this.onThread, 'ct.noRecordsHere'),
        this.createButtons(),
        others.length ? h('h4', { class: 'cv-sub', text: t('ct.otherRecords') }) : null,
        others.length ? this.recordList(others) : null,
      ]),
      this.card('ct.past', [this.threadList(past, 'ct.noPast')]),
      this.card('ct.activity', [this.activityButton(), this.engagementList(d.engagements.slice(0, 5))]),
      this.consentCard(),
      this.actionsCard(d, th),
    ];
  }

  pageParts(d) {
    const eng = [...d.engagements, ...this.olderEngagements];
    return [
      this.detailsCard(d),
      this.card('ct.conversations', [this.threadList(d.threads, 'ct.noConversations')]),
      this.card('ct.records', [this.companyPart(d), h('h4', { class: 'cv-sub', text: t('ct.ticketsDeals') }), this.recordList(d.records, 'ct.noRecords'), this.createButtons()]),
      this.card('ct.activity', [
        this.activityButton(),
        this.engagementList(eng),
        this.moreEngagements ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', dataset: { key: 'more' }, text: t('ct.moreActivity'), onClick: () => this.loadOlder() }) : null,
      ]),
      this.consentCard(),
    ];
  }

  /** consentCard lists the consents the contact gave in chat widgets (G1, G2), newest first. */
  consentCard() {
    const list = this.consents ?? [];
    return this.card('vis.consents', [
      list.length
        ? h(
            'ul',
            { class: 'cv-list' },
            list.map((c) =>
              h(
                'li',
                { class: 'cv-consent' },
                h(
                  'div',
                  { class: 'cv-record-top' },
                  h('span', { class: 'chip', text: c.kind === 'communicate' ? t('vis.kind.communicate', { type: c.subscriptionType || '—' }) : t(`vis.kind.process.${c.mode === 'explicit' ? 'explicit' : 'legitimate'}`) }),
                  h('time', { class: 'cv-when', datetime: c.at, title: fullDate(c.at), text: ago(c.at) }),
                ),
                h('p', { class: 'muted small', text: t('vis.where', { widget: c.widgetName || c.widgetId, version: c.version }) }),
                c.pageUrl ? h('p', { class: 'small cv-consent-page', dir: 'auto', text: c.pageUrl, title: c.pageUrl }) : null,
                h('details', null, h('summary', { class: 'small', text: t('vis.text') }), h('p', { class: 'small', dir: 'auto', text: c.text })),
              ),
            ),
          )
        : h('p', { class: 'muted small', text: t('vis.noConsents') }),
    ]);
  }

  card(titleKey, children) {
    const id = uid('cv');
    return h('section', { class: 'cv-card', 'aria-labelledby': id }, h('h3', { id, class: 'cv-title', text: t(titleKey) }), children);
  }

  // ----- details -----

  detailsCard(d) {
    const id = uid('cv');
    const head =
      this.mode === 'side'
        ? h('h3', { id, class: 'cv-name', dir: 'auto' }, h('a', { href: contactPath(d.id), dataset: { key: 'name' }, text: visitorName(d.name, d.id), title: t('ct.openPage'), onClick: (e) => this.openPage(e, d.id) }))
        : null;
    const facts = h(
      'dl',
      { class: 'cv-facts' },
      h('dt', { text: t('ct.email') }),
      h('dd', { dir: 'auto', text: d.email || t('ct.noEmail'), class: d.email ? '' : 'muted' }),
      ...(d.unverifiedEmail
        ? [
            h('dt', { text: t('ct.unverifiedEmail') }),
            h('dd', { dir: 'auto', title: t('ct.unverifiedHint') }, d.unverifiedEmail, ' ', h('span', { class: 'cv-unverified', text: t('ct.unverified') })),
          ]
        : []),
      h('dt', { text: t('ct.since') }),
      h('dd', { title: fullDate(d.createdAt), text: ago(d.createdAt) }),
      h('dt', { text: t('ct.owner') }),
      h('dd', { dir: 'auto', class: d.ownerId ? '' : 'muted', text: d.ownerId ? this.app.users.get(`A-${d.ownerId}`)?.name ?? `A-${d.ownerId}` : t('ct.noOwner') }),
      h('dt', { text: t('ctw.properties') }),
      h('dd', { dir: 'auto', class: Object.keys(d.properties ?? {}).length ? 'cv-props' : 'muted', text: propertyLines(d.properties) || t('ctw.noProperties') }),
    );
    const editing = this.form?.key === 'edit';
    return h(
      'section',
      { class: 'cv-card cv-details', 'aria-labelledby': head ? id : null, 'aria-label': head ? null : t('ct.details') },
      head,
      d.blocked ? h('p', null, h('span', { class: 'chip chip-blocked', text: t('ct.blocked') })) : null,
      editing ? this.form.el : facts,
      editing ? null : h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'edit' }, text: t('ct.edit'), onClick: (e) => this.openForm('edit', e.currentTarget) }),
    );
  }

  openPage(e, id) {
    if (!plainClick(e)) return;
    e.preventDefault();
    this.app.contactPage?.open(id);
  }

  // ----- company -----

  /** companyPart shows the contact's company among its records, with the buttons that change it. */
  companyPart(d) {
    const co = d.company;
    const open = this.form?.key === 'company' || this.form?.key === 'rename';
    const buttons = open
      ? this.form.el
      : h(
          'div',
          { class: 'cv-buttons' },
          h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'company' }, text: t(co ? 'ct.changeCompany' : 'ct.setCompany'), onClick: (e) => this.openForm('company', e.currentTarget) }),
          co ? h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'rename-company' }, text: t('ct.renameCompany'), onClick: (e) => this.openForm('rename', e.currentTarget) }) : null,
          co ? h('button', { type: 'button', class: 'btn btn-sm btn-ghost', dataset: { key: 'remove-company' }, text: t('ct.removeCompany'), onClick: (e) => this.dropCompany(co, e.currentTarget) }) : null,
        );
    const id = uid('cvc');
    return h(
      'div',
      { class: 'cv-company', role: 'group', 'aria-labelledby': id },
      h('h4', { id, class: 'cv-sub', text: t('ct.company') }),
      co
        ? h(
            'dl',
            { class: 'cv-facts' },
            h('dt', { text: t('ct.companyName') }),
            h('dd', { dir: 'auto', class: 'cv-company-name', text: co.name }),
            h('dt', { text: t('ct.companyDomain') }),
            h('dd', { dir: 'auto', class: co.domain ? 'cv-company-domain' : 'muted', text: co.domain || t('ct.noDomain') }),
          )
        : h('p', { class: 'muted small', text: t('ct.noCompany') }),
      buttons,
    );
  }

  /** companyForm sets or changes the company: the one of a domain, made if none has it. */
  companyForm() {
    const domain = h('input', { type: 'text', class: 'cv-input', maxlength: '253', autocomplete: 'off', spellcheck: 'false', placeholder: 'example.com' });
    const name = h('input', { type: 'text', class: 'cv-input', maxlength: '256', autocomplete: 'off' });
    const fields = [this.field('ct.companyDomain', domain, t('ct.companyHint')), this.field('ct.companyName', name)];
    return this.formShell(this.data?.company ? 'ct.changeCompany' : 'ct.setCompany', 'ct.save', fields, async (form, error) => {
      const d = domain.value.trim();
      const n = name.value.trim();
      if (!d && !n) {
        error.textContent = t('ct.companyRequired');
        domain.focus();
        return;
      }
      let co = d ? (await companiesByDomain(d))?.results?.[0] : null;
      if (!co) {
        const properties = {};
        if (n) properties.name = n;
        if (d) properties.domain = d;
        co = await createCompany(properties);
      }
      await setCompany(this.contactId, co.id);
      const p = co.properties ?? {};
      if (this.data) this.data.company = { id: co.id, name: p.name ?? '', domain: p.domain ?? '' };
      this.closeForm(t('ct.companySet', { name: p.name ?? '' }));
      this.reload();
    });
  }

  renameForm() {
    const co = this.data.company;
    const name = h('input', { type: 'text', class: 'cv-input', maxlength: '256', autocomplete: 'off', value: co.name });
    return this.formShell('ct.renameCompany', 'ct.save', [this.field('ct.companyName', name)], async (form, error) => {
      if (!name.value.trim()) {
        error.textContent = t('ct.nameRequired');
        name.focus();
        return;
      }
      const got = await patchCompany(co.id, { name: name.value.trim() });
      if (this.data?.company?.id === co.id) this.data.company = { ...co, name: got.properties.name };
      this.closeForm(t('ct.companyRenamed', { name: got.properties.name }));
      this.reload();
    });
  }

  async dropCompany(co, button) {
    button.disabled = true;
    try {
      await removeCompany(this.contactId, co.id);
      if (this.data) this.data.company = null;
      this.render();
      this.body.querySelector('[data-key="company"]')?.focus();
      this.say(t('ct.companyRemoved', { name: co.name }));
    } catch (err) {
      button.disabled = false;
      if (!this.app.failed(err)) this.app.shell.toast(errorText(err, 'ct.saveFailed'));
    }
  }

  // ----- lists -----

  recordList(list, emptyKey) {
    if (!list.length) return emptyKey ? h('p', { class: 'muted small', text: t(emptyKey) }) : null;
    return h('ul', { class: 'cv-list' }, list.map((r) => this.recordItem(r)));
  }

  recordItem(r) {
    const owner = r.ownerId ? (this.app.users.get(`A-${r.ownerId}`)?.name ?? '') : '';
    const selId = uid('stage');
    const stage = h(
      'select',
      { id: selId, class: 'select select-sm', dataset: { key: `stage-${r.id}` }, onChange: (e) => this.setStage(r, e.target) },
      (STAGES[r.kind] ?? [r.stage]).map((s) => h('option', { value: s, selected: s === r.stage, text: t(`ct.stage.${s}`) })),
    );
    const threads = this.mode === 'page' ? (r.threadIds ?? []) : [];
    return h(
      'li',
      { class: 'cv-record' },
      h('div', { class: 'cv-record-top' }, h('span', { class: `chip chip-${r.kind}`, text: t(`ct.kind.${r.kind}`) }), h('span', { class: 'cv-record-name', dir: 'auto', text: r.name })),
      h(
        'div',
        { class: 'cv-record-meta' },
        h('label', { for: selId, class: 'sr-only', text: t('ct.stageOf', { name: r.name }) }),
        stage,
        r.amount ? h('span', { class: 'cv-amount', text: amountText(r.amount) }) : null,
        owner ? h('span', { class: 'muted', text: t('ct.ownedBy', { name: owner }) }) : null,
        threads.map((id) => h('a', { href: threadPath(id), class: 'small', text: t('ct.onConversation', { id }), onClick: (e) => this.openThread(e, id) })),
      ),
    );
  }

  async setStage(r, sel) {
    sel.disabled = true;
    try {
      await patchRecord(r.id, { stage: sel.value });
      r.stage = sel.value;
      this.say(t('ct.stageChanged', { name: r.name, stage: t(`ct.stage.${sel.value}`) }));
    } catch (err) {
      sel.value = r.stage;
      if (!this.app.failed(err)) this.app.shell.toast(errorText(err, 'ct.saveFailed'));
    } finally {
      sel.disabled = false;
    }
  }

  threadList(list, emptyKey) {
    if (!list.length) return h('p', { class: 'muted small', text: t(emptyKey) });
    return h(
      'ul',
      { class: 'cv-list' },
      list.map((x) => {
        const id = String(x.id);
        const channel = channelOf(x);
        const when = x.latestMessageTimestamp || x.createdAt;
        return h(
          'li',
          null,
          h(
            'a',
            { class: 'cv-thread', href: threadPath(id), dataset: { key: `thread-${id}` }, onClick: (e) => this.openThread(e, id) },
            h(
              'span',
              { class: 'cv-thread-top' },
              h('span', { class: `chip chip-${channel}`, text: t(`channel.${channel}`) }),
              h('span', { class: `chip chip-${x.status === 'CLOSED' ? 'closed' : 'open'}`, text: t(`status.${x.status === 'CLOSED' ? 'CLOSED' : 'OPEN'}`) }),
              x.archived ? h('span', { class: 'chip chip-closed', text: t('ct.trashed') }) : null,
              h('time', { class: 'cv-when', datetime: when, title: fullDate(when), text: ago(when) }),
            ),
            h('span', { class: 'cv-thread-text', dir: 'auto', text: x.subject || x.preview || t('list.noPreview') }),
          ),
        );
      }),
    );
  }

  openThread(e, id) {
    if (!plainClick(e)) return;
    e.preventDefault();
    this.app.navigate(id);
    this.app.contactPage?.route();
  }

  engagementList(list) {
    if (!list.length) return h('p', { class: 'muted small', text: t('ct.noActivity') });
    return h(
      'ul',
      { class: 'cv-list' },
      list.map((g) => {
        const who = this.app.users.get(g.createdBy)?.name || '';
        return h(
          'li',
          { class: 'cv-eng' },
          h(
            'div',
            { class: 'cv-eng-top' },
            h('span', { class: 'cv-eng-kind', text: t(`ct.eng.${g.kind}`) }),
            who ? h('span', { class: 'muted small', text: who }) : null,
            h('time', { class: 'cv-when', datetime: g.createdAt, title: fullDate(g.createdAt), text: ago(g.createdAt) }),
          ),
          h('p', { class: 'cv-eng-body', dir: 'auto', text: g.body }),
        );
      }),
    );
  }

  async loadOlder() {
    const after = this.moreEngagements;
    if (!after) return;
    try {
      const res = await engagements(this.contactId, after);
      if (after !== this.moreEngagements) return;
      this.olderEngagements.push(...(res?.results ?? []));
      this.moreEngagements = res?.paging?.next?.after ?? null;
    } catch (err) {
      if (!this.app.failed(err)) this.app.shell.toast(errorText(err, 'ct.loadFailed'));
    }
    this.render();
  }

  // ----- forms -----

  createButtons() {
    if (this.form && (this.form.key === 'ticket' || this.form.key === 'deal')) return this.form.el;
    return h(
      'div',
      { class: 'cv-buttons' },
      h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'new-ticket' }, text: t('ct.createTicket'), onClick: (e) => this.openForm('ticket', e.currentTarget) }),
      h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'new-deal' }, text: t('ct.createDeal'), onClick: (e) => this.openForm('deal', e.currentTarget) }),
    );
  }

  activityButton() {
    if (this.form?.key === 'activity') return this.form.el;
    return h('div', { class: 'cv-buttons' }, h('button', { type: 'button', class: 'btn btn-sm', dataset: { key: 'new-activity' }, text: t('ct.logActivity'), onClick: (e) => this.openForm('activity', e.currentTarget) }));
  }

  openForm(key, opener) {
    const build = {
      ticket: () => this.recordForm('ticket'),
      deal: () => this.recordForm('deal'),
      activity: () => this.activityForm(),
      edit: () => this.editForm(),
      company: () => this.companyForm(),
      rename: () => this.renameForm(),
    }[key];
    this.form = { key, el: build(), opener: opener?.dataset?.key };
    this.render();
    this.form?.el.querySelector('input, select, textarea')?.focus();
  }

  closeForm(said) {
    const back = this.form?.opener;
    this.form = null;
    this.render();
    if (back) this.body.querySelector(`[data-key="${back}"]`)?.focus();
    if (said) this.say(said);
  }

  /** field is a labelled control in a form. */
  field(labelKey, control, hint) {
    control.id ||= uid('f');
    return h('div', { class: 'cv-field' }, h('label', { for: control.id, text: t(labelKey) }), control, hint ? h('p', { class: 'muted small', text: hint }) : null);
  }

  /** formShell wraps fields in a form with an error line, submit and Cancel; submit(form, error) does the work. */
  formShell(labelKey, submitKey, fields, submit) {
    const error = h('p', { class: 'cv-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', text: t(submitKey) });
    const form = h(
      'form',
      {
        class: 'cv-form',
        'aria-label': t(labelKey),
        novalidate: true,
        onKeydown: (e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            this.closeForm();
          }
        },
        onSubmit: async (e) => {
          e.preventDefault();
          error.textContent = '';
          save.disabled = true;
          try {
            await submit(form, error);
          } catch (err) {
            if (!this.app.failed(err)) error.textContent = errorText(err, 'ct.saveFailed');
          } finally {
            save.disabled = false;
          }
        },
      },
      fields,
      error,
      h('div', { class: 'cv-buttons' }, save, h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('ct.cancel'), onClick: () => this.closeForm() })),
    );
    return form;
  }

  recordForm(kind) {
    const name = h('input', { type: 'text', class: 'cv-input', maxlength: '256', autocomplete: 'off', required: true });
    const stage = h('select', { class: 'select' }, STAGES[kind].map((s) => h('option', { value: s, text: t(`ct.stage.${s}`) })));
    const amount = kind === 'deal' ? h('input', { type: 'text', class: 'cv-input', inputmode: 'decimal', autocomplete: 'off', placeholder: '1200.00' }) : null;
    const users = [...this.app.users.values()].filter((u) => !u.deactivated).sort((a, b) => a.name.localeCompare(b.name));
    const owner = h(
      'select',
      { class: 'select' },
      h('option', { value: '', text: t('ct.noOwner') }),
      users.map((u) => h('option', { value: u.id, selected: u.id === this.app.me.id, text: u.id === this.app.me.id ? t('conv.you', { name: u.name }) : u.name })),
    );
    const fields = [this.field('ct.name', name), this.field('ct.stage', stage), amount ? this.field('ct.amount', amount) : null, this.field('ct.owner', owner)];
    return this.formShell(kind === 'ticket' ? 'ct.createTicket' : 'ct.createDeal', kind === 'ticket' ? 'ct.createTicket' : 'ct.createDeal', fields, async (form, error) => {
      const body = { kind, name: name.value.trim(), stage: stage.value, ownerId: owner.value };
      if (!body.name) {
        error.textContent = t('ct.nameRequired');
        name.focus();
        return;
      }
      if (amount && amount.value.trim()) {
        body.amount = amount.value.trim().replace(',', '.');
        if (!AMOUNT.test(body.amount)) {
          error.textContent = t('ct.amountInvalid');
          amount.focus();
          return;
        }
      }
      if (this.threadId) body.threadId = this.threadId;
      const rec = await createRecord(this.contactId, body);
      // Shown at once; the event brings the others' copy.
      if (this.data) this.data.records = [rec, ...this.data.records.filter((r) => r.id !== rec.id)];
      if (this.threadId) this.onThread = [rec, ...this.onThread.filter((r) => r.id !== rec.id)];
      this.closeForm(t(kind === 'ticket' ? 'ct.ticketCreated' : 'ct.dealCreated', { name: rec.name }));
      this.reload();
    });
  }

  activityForm() {
    const kind = h('select', { class: 'select' }, ENGAGEMENT_KINDS.map((k) => h('option', { value: k, text: t(`ct.eng.${k}`) })));
    const body = h('textarea', { class: 'cv-input', rows: '3', dir: 'auto' });
    return this.formShell('ct.logActivity', 'ct.log', [this.field('ct.kind', kind), this.field('ct.what', body)], async (form, error) => {
      if (!body.value.trim()) {
        error.textContent = t('ct.bodyRequired');
        body.focus();
        return;
      }
      const req = { kind: kind.value, body: body.value };
      if (this.threadId) req.threadId = this.threadId;
      const g = await createEngagement(this.contactId, req);
      if (this.data) this.data.engagements = [g, ...this.data.engagements.filter((x) => x.id !== g.id)];
      this.closeForm(t('ct.logged', { kind: t(`ct.eng.${g.kind}`) }));
      this.reload();
    });
  }

  editForm() {
    const d = this.data;
    const first = h('input', { type: 'text', class: 'cv-input', maxlength: '256', autocomplete: 'off', value: d.firstName || '' });
    const last = h('input', { type: 'text', class: 'cv-input', maxlength: '256', autocomplete: 'off', value: d.lastName || '' });
    const email = h('input', { type: 'email', class: 'cv-input', maxlength: '256', autocomplete: 'off', value: d.email || '' });
    const users = [...this.app.users.values()].filter((u) => !u.deactivated || String(u.id) === String(d.ownerId)).sort((a, b) => a.name.localeCompare(b.name));
    const owner = h('select', { class: 'select' }, h('option', { value: '', text: t('ct.noOwner') }), users.map((u) => h('option', { value: u.id, selected: String(u.id) === String(d.ownerId ?? ''), text: u.name })));
    const props = h('textarea', { class: 'cv-input', rows: '3', dir: 'auto', spellcheck: 'false' });
    props.value = propertyLines(d.properties);
    const fields = [
      this.field('ct.firstName', first),
      this.field('ct.lastName', last),
      this.field('ct.email', email),
      this.field('ct.owner', owner),
      this.field('ctw.properties', props, t('ctw.propertiesHint')),
    ];
    return this.formShell('ct.edit', 'ct.save', fields, async (form, error) => {
      // Lines "name=value" replace the custom properties: names left out are removed.
      const next = {};
      const lines = props.value.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (!line) continue;
        const eq = line.indexOf('=');
        if (eq < 1) {
          error.textContent = t('ctw.propertyLine', { n: i + 1 });
          props.focus();
          return;
        }
        next[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      }
      const properties = { ...next };
      for (const k of Object.keys(d.properties ?? {})) if (!(k in next)) properties[k] = null;
      const c = await patchContact(this.contactId, { firstName: first.value, lastName: last.value, email: email.value, ownerId: owner.value, properties });
      if (this.data) Object.assign(this.data, c);
      renameInList(this.app, this.contactId, c.name);
      this.closeForm(t('ct.saved'));
    });
  }

  // ----- actions (sidebar) -----

  actionsCard(d, th) {
    if (!th) return null;
    const chat = channelOf(th) === 'chat';
    const acts = this.app.actions;
    const block =
      typeof acts?.run === 'function'
        ? h('button', {
            type: 'button',
            class: 'btn btn-sm',
            dataset: { key: 'block' },
            text: th.blocked ? t('ct.unblock') : t('ct.block'),
            onClick: async () => {
              await acts.run(th.blocked ? 'unblock' : 'block', th.id);
              this.reload();
            },
          })
        : null;
    const remove = chat ? h('button', { type: 'button', class: 'btn btn-sm btn-danger', dataset: { key: 'remove' }, text: t('ct.remove'), onClick: (e) => this.confirmRemove(d, th, e.currentTarget) }) : null;
    if (!block && !remove) return null;
    return h('section', { class: 'cv-card cv-actions', 'aria-label': t('ct.actions') }, h('div', { class: 'cv-buttons' }, block, remove));
  }

  confirmRemove(d, th, opener) {
    const headId = uid('cvd');
    const yes = h('button', { type: 'button', class: 'btn btn-danger', text: t('ct.removeConfirm') });
    const no = h('button', { type: 'button', class: 'btn', text: t('ct.cancel'), onClick: () => dlg.close() });
    const error = h('p', { class: 'cv-error', role: 'alert' });
    const dlg = h(
      'dialog',
      { class: 'cv-dialog', 'aria-labelledby': headId, onKeydown: (e) => e.stopPropagation() },
      h('h2', { id: headId, class: 'cv-dialog-title', dir: 'auto', text: t('ct.removeTitle', { name: visitorName(d.name, d.id) }) }),
      h('p', { text: t('ct.removeHint') }),
      error,
      h('div', { class: 'cv-buttons' }, yes, no),
    );
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        const raw = await disassociate(th.id);
        if (raw?.id) this.app.putThread(raw, true);
        dlg.close();
        this.app.render();
        this.say(t('ct.removed'));
      } catch (err) {
        if (!this.app.failed(err)) error.textContent = errorText(err, 'ct.removeFailed');
        yes.disabled = false;
      }
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener?.isConnected) opener.focus();
      else this.body.querySelector('[data-key="name"]')?.focus();
    });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  }
}
