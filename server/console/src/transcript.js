// Sending a closed chat's transcript by hand (R3): the "Send transcript"
// dialog. The server offers the contact's addresses (the verified email,
// and the one the visitor only typed, marked "not verified": sending there
// is the agent's deliberate choice) and the subject in the chat's language.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { dialog } from './actions.js';

const CHANNEL_CHAT = '1000';
const enc = encodeURIComponent;

/** transcriptAllowed reports whether thread th may have its transcript sent by hand. */
export function transcriptAllowed(th) {
  return !!th && th.status === 'CLOSED' && String(th.originalChannelId) === CHANNEL_CHAT && th.owner !== 'bot' && !th.blocked && !th.spam && !th.archived;
}

/** openTranscript opens the dialog for thread th; focus returns to opener. */
export async function openTranscript(app, th, opener) {
  const headId = uid('tr');
  const toId = uid('tr-to');
  const subjId = uid('tr-subj');
  const note = h('p', { class: 'muted', role: 'status', text: t('tr.loading') });
  const to = h('select', { id: toId, class: 'select', required: true });
  const subject = h('input', { id: subjId, class: 'input', type: 'text', maxlength: '250', required: true });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', text: t('tr.send'), disabled: true });
  const cancel = h('button', { type: 'button', class: 'btn', text: t('tr.cancel'), onClick: () => dlg.close() });
  const form = h(
    'form',
    { class: 'tr-form', hidden: true, onSubmit: (e) => (e.preventDefault(), submit()) },
    h('div', { class: 'field' }, h('label', { for: toId, text: t('tr.to') }), to),
    h('div', { class: 'field' }, h('label', { for: subjId, text: t('tr.subject') }), subject),
    h('div', { class: 'dialog-actions' }, send, cancel),
  );
  const dlg = dialog(headId, t('tr.title'), [note, form], opener);
  let busy = false;
  async function submit() {
    if (busy || !to.value || !subject.value.trim()) return;
    busy = true;
    send.disabled = true;
    note.textContent = t('tr.sending');
    try {
      await request('POST', `api/v1/threads/${enc(th.id)}/transcript`, { to: to.value, subject: subject.value });
      dlg.close();
      app.notifier?.info(t('tr.sent', { to: to.value }));
    } catch (err) {
      if (app.failed(err)) return;
      note.textContent = err?.status === 0 ? t('err.network') : `${t('tr.failed')} ${err?.message ?? ''}`.trim();
      note.setAttribute('role', 'alert');
    } finally {
      busy = false;
      send.disabled = false;
    }
  }
  try {
    const d = await request('GET', `api/v1/threads/${enc(th.id)}/transcript`);
    if (!dlg.open) return;
    const addrs = Array.isArray(d?.to) ? d.to : [];
    if (!addrs.length) {
      note.textContent = t('tr.noAddress');
      return;
    }
    to.replaceChildren(...addrs.map((a) => h('option', { value: a.email, text: a.verified ? a.email : t('tr.unverified', { email: a.email }) })));
    subject.value = d.subject ?? '';
    note.textContent = '';
    form.hidden = false;
    send.disabled = false;
    to.focus();
  } catch (err) {
    if (app.failed(err)) return;
    note.textContent = err?.status === 0 ? t('err.network') : `${t('tr.failed')} ${err?.message ?? ''}`.trim();
    note.setAttribute('role', 'alert');
  }
}

/** transcriptState says how sending a transcript goes, from its delivery { status, error }. */
export function transcriptState(d) {
  if (d.status === 'SENT') return t('msg.deliverySent');
  if (d.status === 'FAILED') return d.error ? t('msg.deliveryFailed', { reason: d.error }) : t('msg.deliveryFailedPlain');
  return d.error ? t('msg.deliveryRetrying', { reason: d.error }) : t('msg.deliveryPending');
}
