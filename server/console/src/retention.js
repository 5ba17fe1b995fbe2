// The retention form of an inbox's settings: how many days the inbox keeps
// a conversation that is closed or in the trash, with a dry run that says
// how many conversations that would delete now.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

/** wouldDelete says how many conversations a retention of days would delete now. */
const wouldDelete = (n, days) => t(n === 1 ? 'retention.wouldDeleteOne' : 'retention.wouldDelete', { n, days });

/** inboxRetentionForm is the retention form of inbox g in settings st. */
export function inboxRetentionForm(st, g) {
  const key = `retention-${g.id}`;
  const d = st.draft(key, { days: String(g.retentionDays ?? 0), count: null });
  const save = (patch) => st.drafts.set(key, { ...st.draft(key, d), ...patch });
  const daysId = uid(key);
  const path = `api/v1/inboxes/${encodeURIComponent(g.id)}`;
  const days = () => Math.trunc(Number(st.draft(key, d).days) || 0);
  const check = async () => {
    if (days() < 1) {
      save({ count: null });
      st.say(t('retention.keepAll'));
      return;
    }
    try {
      const res = await request('GET', `${path}/retention?days=${days()}`);
      save({ count: res.count });
      st.say(wouldDelete(res.count, days()));
    } catch (err) {
      st.app.failed(err, 'retention.failed');
    }
  };
  const submit = () => {
    const n = days();
    st.act(() => request('PATCH', path, { retentionDays: n }), 'retention.failed', () => {
      st.drafts.delete(key);
      st.say(n > 0 ? t('retention.saved', { name: g.name, days: n }) : t('retention.savedKeep', { name: g.name }));
    });
  };
  return h(
    'form',
    {
      class: 'settings-form inbox-retention',
      'aria-label': t('retention.formOf', { name: g.name }),
      onSubmit: (e) => {
        e.preventDefault();
        submit();
      },
    },
    h('h4', { class: 'settings-h3', text: t('retention.heading') }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: daysId, text: t('retention.days') }),
      h('input', {
        id: daysId,
        class: 'input',
        type: 'number',
        min: '0',
        max: '36500',
        step: '1',
        inputmode: 'numeric',
        'aria-describedby': `${daysId}-hint`,
        dataset: { fk: `${key}-days` },
        value: d.days,
        onInput: (e) => save({ days: e.target.value, count: null }),
      }),
      h('p', { id: `${daysId}-hint`, class: 'muted small', text: t('retention.hint') }),
    ),
    d.count === null ? null : h('p', { class: 'muted', text: wouldDelete(d.count, days()) }),
    h(
      'div',
      { class: 'settings-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-save` }, text: t('retention.save') }),
      h('button', { type: 'button', class: 'btn', dataset: { fk: `${key}-check` }, text: t('retention.check'), onClick: check }),
    ),
  );
}
