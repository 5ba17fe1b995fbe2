// An inbox's email settings in the admins' settings screen: its team email
// addresses (E1), who gets new email threads of each address (E3) and its
// outside notifications (M3). settings.js puts this
// form in each inbox's card; it saves through PATCH /api/v1/inboxes/{id}.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

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
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        checked: tk.on,
        dataset: { fk: `${key}-ticket` },
        onChange: (e) => {
          change({ on: e.target.checked });
          more.hidden = !e.target.checked;
        },
      }),
      h('span', { text: t('mail.ticketCreate') }),
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
    h('div', { class: 'settings-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-save` }, text: t('mail.save') })),
  );
}
