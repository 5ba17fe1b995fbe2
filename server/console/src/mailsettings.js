// An inbox's email settings in the admins' settings screen: its team email
// addresses (E1), who gets new email threads of each address (E3) and its
// outside notifications (M3), and the connection of each address to an
// existing mailbox (E1). settings.js puts this
// form in each inbox's card; it saves through PATCH /api/v1/inboxes/{id}.

import { request } from './api.js';
import { h, onOff, uid } from './dom.js';
import { t } from './i18n.js';
import { htmlOf, textOf } from './richeditor.js';

const byName = (a, b) => String(a.label).localeCompare(String(b.label));

/** addressList splits what the admin typed into addresses: one per line, or separated by commas or spaces. */
export function addressList(text) {
  return String(text)
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** MAIL_ROUTING_MODES are the routings of an address, the default first. */
export const MAIL_ROUTING_MODES = ['none', 'owner', 'users', 'teams'];

/**
 * mailRoutingBody is what PATCH takes as one address's routing r (a draft):
 * only what its mode uses.
 */
export function mailRoutingBody(r) {
  const mode = MAIL_ROUTING_MODES.includes(r.mode) ? r.mode : 'none';
  const out = { mode };
  if (mode === 'users') out.userIds = r.userIds ?? [];
  if (mode === 'teams') out.teamIds = r.teamIds ?? [];
  if (mode === 'owner' && r.fallbackUserId) out.fallbackUserId = r.fallbackUserId;
  if (mode !== 'none') out.maxOpenPerAgent = Math.max(0, Math.trunc(Number(r.maxOpenPerAgent) || 0));
  out.createTicket = ticketBody(r.ticket);
  return out;
}

/** TICKET_STAGES and TICKET_OWNERS are what a ticket for new email may start with. */
const TICKET_STAGES = ['new', 'waiting', 'closed'];
const TICKET_OWNERS = ['none', 'assignee'];

/** ticketDraft reads an address's createTicket (absent: off) as a draft. */
function ticketDraft(ct) {
  if (!ct) return { on: false, stage: 'new', owner: 'none' };
  return { on: true, stage: TICKET_STAGES.includes(ct.stage) ? ct.stage : 'new', owner: ct.owner === 'user' ? String(ct.ownerId ?? '') : ct.owner === 'assignee' ? 'assignee' : 'none' };
}

/** ticketBody is createTicket as PATCH takes it: null when off; owner a user id picks that member. */
function ticketBody(tk) {
  if (!tk?.on) return null;
  const stage = TICKET_STAGES.includes(tk.stage) ? tk.stage : 'new';
  if (TICKET_OWNERS.includes(tk.owner) || !tk.owner) return { stage, owner: tk.owner || 'none' };
  return { stage, owner: 'user', ownerId: tk.owner };
}

/**
 * ticketFields is the "Create a ticket for every new email" box of one
 * address and, while it is checked, the stage and owner of those tickets.
 */
function ticketFields(key, members, draft, onChange) {
  let tk = { ...draft };
  const change = (patch) => {
    tk = { ...tk, ...patch };
    onChange(tk);
  };
  const stageId = uid(`${key}-ticket-stage`);
  const ownerId = uid(`${key}-ticket-owner`);
  const owner = tk.owner && !TICKET_OWNERS.includes(tk.owner) && !members.some((m) => m.id === tk.owner) ? 'none' : tk.owner;
  const more = h(
    'div',
    { class: 'mail-ticket-fields', hidden: !tk.on },
    h(
      'div',
      { class: 'field' },
      h('label', { for: stageId, text: t('mail.ticketStage') }),
      h('select', { id: stageId, class: 'input', dataset: { fk: `${key}-ticket-stage` }, onChange: (e) => change({ stage: e.target.value }) }, TICKET_STAGES.map((s) => h('option', { value: s, text: t(`ct.stage.${s}`), selected: s === tk.stage }))),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: ownerId, text: t('mail.ticketOwner') }),
      h(
        'select',
        { id: ownerId, class: 'input', dataset: { fk: `${key}-ticket-owner` }, onChange: (e) => change({ owner: e.target.value }) },
        h('option', { value: 'none', text: t('mail.ticketOwnerNone'), selected: owner === 'none' }),
        h('option', { value: 'assignee', text: t('mail.ticketOwnerAssignee'), selected: owner === 'assignee' }),
        members.map((m) => h('option', { value: m.id, text: m.label, selected: m.id === owner })),
      ),
    ),
  );
  return h(
    'div',
    { class: 'mail-ticket' },
    onOff(
      h('input', {
        type: 'checkbox',
        checked: tk.on,
        dataset: { fk: `${key}-ticket` },
        onChange: (e) => {
          change({ on: e.target.checked });
          more.hidden = !e.target.checked;
        },
      }),
      t('mail.ticketCreate'),
    ),
    more,
  );
}

/**
 * routingFields is the routing of one saved address of inbox g: a select
 * of the mode and, shown for the mode that uses them, the users, the teams,
 * the fallback user and the cap. r is its draft; change saves a new one.
 */
function routingFields(st, key, address, members, r, change) {
  const ticket = ticketFields(key, members, r.ticket ?? ticketDraft(null), (tk) => change({ ticket: tk }));
  const modeId = uid(`${key}-mode`);
  const fallbackId = uid(`${key}-fallback`);
  const capId = uid(`${key}-cap`);
  const teams = [...(st.data.teams ?? [])].map((x) => ({ id: x.id, label: x.name })).sort(byName);
  const users = h('div', { hidden: r.mode !== 'users' }, st.checkList(t('mail.routeUsers'), `${key}-users`, members, r.userIds, (ids) => change({ userIds: ids })));
  const teamBox = h('div', { hidden: r.mode !== 'teams' }, st.checkList(t('mail.routeTeams'), `${key}-teams`, teams, r.teamIds, (ids) => change({ teamIds: ids })));
  const fallback = h(
    'div',
    { class: 'field', hidden: r.mode !== 'owner' },
    h('label', { for: fallbackId, text: t('mail.routeFallback') }),
    h(
      'select',
      { id: fallbackId, class: 'input', dataset: { fk: `${key}-fallback` }, onChange: (e) => change({ fallbackUserId: e.target.value }) },
      h('option', { value: '', text: t('mail.routeNoFallback'), selected: !r.fallbackUserId }),
      members.map((m) => h('option', { value: m.id, text: m.label, selected: m.id === r.fallbackUserId })),
    ),
  );
  const cap = h(
    'div',
    { class: 'field', hidden: r.mode === 'none' },
    h('label', { for: capId, text: t('mail.routeCap') }),
    h('input', {
      id: capId,
      class: 'input',
      type: 'number',
      min: '0',
      max: '1000',
      step: '1',
      inputmode: 'numeric',
      dataset: { fk: `${key}-cap` },
      value: String(r.maxOpenPerAgent ?? 0),
      onInput: (e) => change({ maxOpenPerAgent: e.target.value }),
    }),
  );
  const show = (mode) => {
    users.hidden = mode !== 'users';
    teamBox.hidden = mode !== 'teams';
    fallback.hidden = mode !== 'owner';
    cap.hidden = mode === 'none';
  };
  return h(
    'fieldset',
    { class: 'mail-routing', dataset: { address } },
    h('legend', { text: t('mail.routeLegend', { address }) }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: modeId, text: t('mail.routeModeLabel') }),
      h(
        'select',
        {
          id: modeId,
          class: 'input',
          dataset: { fk: `${key}-mode` },
          onChange: (e) => {
            change({ mode: e.target.value });
            show(e.target.value);
          },
        },
        MAIL_ROUTING_MODES.map((m) => h('option', { value: m, text: t(`mail.routeMode.${m}`), selected: m === r.mode })),
      ),
    ),
    users,
    teamBox,
    fallback,
    cap,
    ticket,
  );
}

/**
 * inboxMailForm is the email part of inbox g's card in Settings st: the
 * addresses, who is emailed about new conversations, and who about new
 * messages in conversations assigned to them. Unsaved input stays in st's
 * drafts across reloads of its data.
 */
export function inboxMailForm(st, g) {
  const key = `inboxmail-${g.id}`;
  const notify = g.notify ?? {};
  const d = st.draft(key, {
    addresses: (g.emailAddresses ?? []).join('\n'),
    signature: textOf(g.signature),
    newConversation: (notify.newConversation ?? []).map(String),
    assignedMessage: (notify.assignedMessage ?? []).map(String),
    routing: Object.fromEntries(
      (g.mailboxes ?? []).map((mb) => {
        const r = mb.routing ?? {};
        return [
          mb.address,
          {
            mode: MAIL_ROUTING_MODES.includes(r.mode) ? r.mode : 'none',
            userIds: (r.userIds ?? []).map(String),
            teamIds: (r.teamIds ?? []).map(String),
            fallbackUserId: r.fallbackUserId ? String(r.fallbackUserId) : '',
            maxOpenPerAgent: r.maxOpenPerAgent ?? 0,
            ticket: ticketDraft(r.createTicket),
          },
        ];
      }),
    ),
  });
  const save = (patch) => st.drafts.set(key, { ...st.draft(key, d), ...patch });
  const addrId = uid(key);
  const hintId = uid(`${key}-hint`);
  const sigId = uid(`${key}-sig`);
  const members = st.data.users
    .filter((u) => g.memberIds.includes(u.id) && !u.deactivated)
    .map((u) => ({ id: u.id, label: u.name || u.email }))
    .sort(byName);
  const onlyMembers = (ids) => ids.filter((id) => members.some((m) => m.id === id));
  const submit = () => {
    const cur = st.draft(key, d);
    const addresses = addressList(cur.addresses);
    const kept = (a) => addresses.some((x) => x.toLowerCase() === a.toLowerCase());
    const mailRouting = {};
    for (const [a, r] of Object.entries(cur.routing ?? {})) {
      if (!kept(a)) continue;
      const b = mailRoutingBody(r);
      if (b.userIds) b.userIds = onlyMembers(b.userIds);
      mailRouting[a] = b;
    }
    const body = {
      emailAddresses: addresses,
      mailRouting,
      notify: { newConversation: onlyMembers(cur.newConversation), assignedMessage: onlyMembers(cur.assignedMessage) },
    };
    // Sent only when changed here: a signature with formatting, set
    // through the API, stays as it is.
    if ((cur.signature ?? '') !== textOf(g.signature)) body.signature = htmlOf(cur.signature ?? '');
    st.act(() => request('PATCH', `api/v1/inboxes/${encodeURIComponent(g.id)}`, body), 'mail.failed', () => {
      st.drafts.delete(key);
      st.say(t('mail.saved', { name: g.name }));
    });
  };
  return h(
    'form',
    {
      class: 'settings-form inbox-mail',
      'aria-label': t('mail.formOf', { name: g.name }),
      onSubmit: (e) => {
        e.preventDefault();
        submit();
      },
    },
    h('h4', { class: 'settings-h3', text: t('mail.heading') }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: addrId, text: t('mail.addresses') }),
      h('textarea', {
        id: addrId,
        class: 'input',
        rows: '2',
        spellcheck: 'false',
        autocomplete: 'off',
        placeholder: t('mail.addressesPlaceholder'),
        'aria-describedby': hintId,
        dataset: { fk: `${key}-addresses` },
        value: d.addresses,
        onInput: (e) => save({ addresses: e.target.value }),
      }),
      h('p', { id: hintId, class: 'muted small', text: t('mail.addressesHint') }),
    ),
    Object.keys(d.routing ?? {}).length > 0 ? h('h5', { class: 'settings-h4', text: t('mail.routeHeading') }) : null,
    Object.entries(d.routing ?? {}).map(([address, r], i) =>
      routingFields(st, `${key}-route-${i}`, address, members, r, (patch) => {
        const cur = st.draft(key, d);
        save({ routing: { ...cur.routing, [address]: { ...cur.routing[address], ...patch } } });
      }),
    ),
    st.checkList(t('mail.notifyNew'), `${key}-new`, members, d.newConversation, (ids) => save({ newConversation: ids })),
    st.checkList(t('mail.notifyAssigned'), `${key}-assigned`, members, d.assignedMessage, (ids) => save({ assignedMessage: ids })),
    h(
      'div',
      { class: 'field' },
      h('label', { for: sigId, text: t('mail.signature') }),
      h('textarea', {
        id: sigId,
        class: 'input',
        rows: '3',
        dir: 'auto',
        maxlength: '4000',
        'aria-describedby': `${sigId}-hint`,
        dataset: { fk: `${key}-signature` },
        value: d.signature ?? '',
        onInput: (e) => save({ signature: e.target.value }),
      }),
      h('p', { id: `${sigId}-hint`, class: 'muted small', text: t('mail.signatureHint') }),
    ),
    h('div', { class: 'settings-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-save` }, text: t('mail.save') })),
  );
}

/** MAIL_TLS_MODES are a mail server's security modes, the default first. */
export const MAIL_TLS_MODES = ['tls', 'starttls', 'none'];

/**
 * connectionBody is what PUT …/connection and its test take from draft c:
 * the servers (a password only when typed: empty keeps the stored one) and
 * the folders.
 */
export function connectionBody(c) {
  const server = (s) => {
    const out = { host: String(s.host ?? '').trim(), tls: MAIL_TLS_MODES.includes(s.tls) ? s.tls : 'tls', username: String(s.username ?? '').trim() };
    const port = Math.trunc(Number(s.port) || 0);
    if (port > 0) out.port = port;
    if (s.password) out.password = s.password;
    return out;
  };
  const body = { imap: server(c.imap ?? {}), smtp: server(c.smtp ?? {}) };
  if (String(c.sentFolder ?? '').trim()) body.sentFolder = String(c.sentFolder).trim();
  return body;
}

/** connectionStatus is the sentence that says how connection c is doing. */
export function connectionStatus(c) {
  if (!c) return t('mailbox.state.none');
  const s = c.state ?? {};
  if (s.status === 'connected') return t(s.idle ? 'mailbox.state.connectedIdle' : 'mailbox.state.connectedPoll');
  if (s.status === 'error') return t('mailbox.state.error', { error: s.error ?? '' });
  return t('mailbox.state.connecting');
}

/** serverFields are one server's inputs of a connection form. */
function serverFields(key, which, s, saved, change) {
  const id = (f) => uid(`${key}-${which}-${f}`);
  const ids = { host: id('host'), port: id('port'), tls: id('tls'), user: id('user'), pass: id('pass'), passHint: id('passhint') };
  const input = (f, inputId, label, props) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: inputId, text: label }),
      h('input', { id: inputId, class: 'input', dataset: { fk: `${key}-${which}-${f}` }, onInput: (e) => change({ [f]: e.target.value }), ...props }),
    );
  return h(
    'fieldset',
    { class: 'mail-server' },
    h('legend', { text: t(`mailbox.${which}Legend`) }),
    input('host', ids.host, t('mailbox.host'), { type: 'text', autocomplete: 'off', spellcheck: 'false', value: s.host ?? '', required: true }),
    input('port', ids.port, t('mailbox.port'), { type: 'number', min: '1', max: '65535', inputmode: 'numeric', value: s.port ? String(s.port) : '', placeholder: t(`mailbox.${which}PortHint`) }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: ids.tls, text: t('mailbox.tls') }),
      h(
        'select',
        { id: ids.tls, class: 'input', dataset: { fk: `${key}-${which}-tls` }, onChange: (e) => change({ tls: e.target.value }) },
        MAIL_TLS_MODES.map((m) => h('option', { value: m, text: t(`mailbox.tlsMode.${m}`), selected: m === (s.tls || 'tls') })),
      ),
    ),
    input('username', ids.user, t('mailbox.username'), { type: 'text', autocomplete: 'off', spellcheck: 'false', value: s.username ?? '', required: true }),
    input('password', ids.pass, t('mailbox.password'), {
      type: 'password',
      autocomplete: 'new-password',
      value: s.password ?? '',
      'aria-describedby': saved?.passwordSet ? ids.passHint : null,
    }),
    saved?.passwordSet ? h('p', { id: ids.passHint, class: 'muted small', text: t('mailbox.passwordKept') }) : null,
  );
}

/**
 * mailboxConnectionForm is the form that connects saved address mb of inbox
 * g to an existing mail account (E1): its IMAP and SMTP servers, a test of
 * both, connect and disconnect, and how the connection is doing.
 */
function mailboxConnectionForm(st, g, mb) {
  const key = `mailconn-${g.id}-${mb.id}`;
  const saved = mb.connection;
  const server = (s) => ({ host: s?.host ?? '', port: s?.port ?? '', tls: s?.tls ?? 'tls', username: s?.username ?? mb.address, password: '' });
  const d = st.draft(key, { imap: server(saved?.imap), smtp: server(saved?.smtp), sentFolder: saved?.sentFolder ?? '' });
  const save = (patch) => st.drafts.set(key, { ...st.draft(key, d), ...patch });
  const result = h('div', { class: 'mailbox-test', role: 'status', 'aria-live': 'polite' });
  const path = `api/v1/inboxes/${encodeURIComponent(g.id)}/mailboxes/${encodeURIComponent(mb.id)}/connection`;
  const sentId = uid(`${key}-sent`);
  const test = async () => {
    result.replaceChildren(h('p', { class: 'muted small', text: t('mailbox.testing') }));
    try {
      const res = await request('POST', `${path}/test`, connectionBody(st.draft(key, d)));
      const line = (which, c) =>
        h('li', { dataset: { server: which, ok: String(!!c?.ok) }, text: c?.ok ? t(`mailbox.${which}Ok`) : t(`mailbox.${which}Failed`, { error: c?.error ?? '' }) });
      result.replaceChildren(h('ul', { class: 'mailbox-checks' }, line('imap', res.imap), line('smtp', res.smtp)));
    } catch (err) {
      result.replaceChildren();
      st.app.failed(err, 'mailbox.testFailed');
    }
  };
  const connect = () =>
    st.act(() => request('PUT', path, connectionBody(st.draft(key, d))), 'mailbox.failed', () => {
      st.drafts.delete(key);
      st.say(t('mailbox.connected', { address: mb.address }));
    });
  const disconnect = () =>
    st.act(() => request('DELETE', path), 'mailbox.failed', () => {
      st.drafts.delete(key);
      st.say(t('mailbox.disconnected', { address: mb.address }));
    });
  const status = saved?.state?.status;
  if (saved && status !== 'connected') {
    // The state changes on its own: look again shortly.
    clearTimeout(st.mailboxTimer);
    st.mailboxTimer = setTimeout(() => st.visible && st.changed(), 2000);
  }
  return h(
    'form',
    {
      class: 'settings-form mailbox-connection',
      'aria-label': t('mailbox.formOf', { address: mb.address }),
      onSubmit: (e) => {
        e.preventDefault();
        connect();
      },
    },
    h('h5', { class: 'settings-h4', text: t('mailbox.heading', { address: mb.address }) }),
    h('p', { class: 'muted small', text: t('mailbox.intro') }),
    h('p', { class: `mailbox-state${status === 'error' ? ' form-alert' : ''}`, dataset: { state: status ?? 'none' }, text: connectionStatus(saved) }),
    serverFields(key, 'imap', d.imap, saved?.imap, (patch) => save({ imap: { ...st.draft(key, d).imap, ...patch } })),
    serverFields(key, 'smtp', d.smtp, saved?.smtp, (patch) => save({ smtp: { ...st.draft(key, d).smtp, ...patch } })),
    h(
      'div',
      { class: 'field' },
      h('label', { for: sentId, text: t('mailbox.sentFolder') }),
      h('input', {
        id: sentId,
        class: 'input',
        type: 'text',
        autocomplete: 'off',
        placeholder: t('mailbox.sentFolderHint'),
        dataset: { fk: `${key}-sent` },
        value: d.sentFolder,
        onInput: (e) => save({ sentFolder: e.target.value }),
      }),
    ),
    result,
    h(
      'div',
      { class: 'settings-actions' },
      h('button', { type: 'button', class: 'btn', dataset: { fk: `${key}-test` }, text: t('mailbox.test'), onClick: test }),
      h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-connect` }, text: t(saved ? 'mailbox.save' : 'mailbox.connect') }),
      saved ? h('button', { type: 'button', class: 'btn', dataset: { fk: `${key}-disconnect` }, text: t('mailbox.disconnect'), onClick: disconnect }) : null,
    ),
  );
}

/** inboxMailboxForms are the connection forms of inbox g's saved addresses. */
export function inboxMailboxForms(st, g) {
  return (g.mailboxes ?? []).map((mb) => mailboxConnectionForm(st, g, mb));
}
