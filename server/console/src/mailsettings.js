// An inbox's email settings in the admins' settings screen: its team email
// addresses (E1) and its outside notifications (M3). settings.js puts this
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
    const body = {
      emailAddresses: addressList(cur.addresses),
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
    st.checkList(t('mail.notifyNew'), `${key}-new`, members, d.newConversation, (ids) => save({ newConversation: ids })),
    st.checkList(t('mail.notifyAssigned'), `${key}-assigned`, members, d.assignedMessage, (ids) => save({ assignedMessage: ids })),
    h('div', { class: 'settings-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-save` }, text: t('mail.save') })),
  );
}
