// The full contact page at /contacts/{id} (I8: "its name opens the full
// record"): everything about the contact in the conversation's place, with
// the list beside it. route() follows the URL; open() navigates to a contact.

import { dialog } from './actions.js';
import { BASE, request } from './api.js';
import { ContactView, contactPath, contactRoute } from './contact.js';
import { h, uid } from './dom.js';
import { t, visitorName } from './i18n.js';

/** ContactPage shows the contact the URL names, for one Console (app). */
export class ContactPage {
  constructor(app) {
    this.app = app;
    this.id = null;
    this.cameFrom = null; // the console path we came from, for Back
    this.view = new ContactView(app, 'page');
    this.view.onRender = () => {
      this.titleEl.textContent = this.view.data ? visitorName(this.view.data.name, this.view.data.id) : this.view.state === 'loading' ? '' : t('ct.page');
    };
    const titleId = uid('cp');
    this.titleEl = h('h2', { id: titleId, class: 'cp-title', dir: 'auto', tabindex: '-1' });
    // The page is the main landmark while shown, in the conversation's
    // place (route hides that one).
    this.el = h(
      'main',
      { class: 'contact-page', 'aria-labelledby': titleId, hidden: true },
      h(
        'div',
        { class: 'cp-head' },
        h(
          'button',
          { type: 'button', class: 'btn btn-icon cp-back', onClick: () => this.back() },
          h('span', { class: 'icon icon-back', 'aria-hidden': 'true' }),
          h('span', { class: 'sr-only', text: t('ct.back') }),
        ),
        h('div', { class: 'cp-heading' }, h('p', { class: 'cp-kicker', text: t('ct.page') }), this.titleEl),
        (this.exportLink = h('a', { class: 'btn cp-export', hidden: true, download: '', text: t('ct.export') })),
        (this.eraseBtn = h('button', { type: 'button', class: 'btn btn-danger cp-erase', hidden: true, text: t('ct.erase'), onClick: (e) => this.confirmErase(e.currentTarget) })),
      ),
      this.view.el,
    );
  }

  /** route shows or hides the page to match the URL; cheap when nothing changed. */
  route() {
    const id = contactRoute();
    if (id === this.id) return;
    this.id = id;
    this.app.shell?.el?.classList.toggle('contact-open', !!id);
    this.el.hidden = !id;
    if (this.app.conv) this.app.conv.el.hidden = !!id;
    this.view.show(id);
    // Admins export what Parley holds about the contact (GDPR Art. 15, 20).
    this.exportLink.hidden = !id || this.app.me.role !== 'admin';
    if (id) this.exportLink.href = new URL(`api/v1/contacts/${encodeURIComponent(id)}/export`, BASE).href;
    // and erase it for good (Art. 17).
    this.eraseBtn.hidden = this.exportLink.hidden;
    if (id) {
      this.titleEl.textContent = '';
      this.titleEl.focus({ preventScroll: true });
    } else {
      this.cameFrom = null;
    }
  }

  /**
   * confirmErase asks the admin to type the contact's email (or, without
   * one, its name), then erases the contact for good and goes back to the
   * list with a toast.
   */
  confirmErase(opener) {
    const d = this.view.data;
    if (!d) return;
    const name = visitorName(d.name, d.id);
    const word = d.email || name;
    const headId = uid('cp-erase');
    const inputId = uid('cp-erase-word');
    const error = h('p', { class: 'form-alert', role: 'alert', hidden: true });
    const input = h('input', { id: inputId, class: 'input', autocomplete: 'off', spellcheck: 'false', onInput: () => (confirm.disabled = input.value !== word) });
    const confirm = h('button', { type: 'submit', class: 'btn btn-danger', disabled: true, text: t('ct.eraseForGood') });
    const form = h(
      'form',
      {
        class: 'settings-form',
        onSubmit: async (e) => {
          e.preventDefault();
          if (input.value !== word) return;
          confirm.disabled = true;
          try {
            await request('POST', 'crm/v3/objects/contacts/gdpr-delete', { objectId: String(d.id) });
          } catch (err) {
            if (this.app.failed(err)) return;
            error.textContent = err.message || t('ct.eraseFailed');
            error.hidden = false;
            confirm.disabled = false;
            return;
          }
          dlg.close();
          this.cameFrom = null;
          this.back();
          this.app.shell.toast(t('ct.erased', { name }));
        },
      },
      h('p', { dir: 'auto', text: t('ct.eraseWarning', { name }) }),
      h('div', { class: 'field' }, h('label', { for: inputId, dir: 'auto', text: t('ct.eraseType', { word }) }), input),
      error,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', text: t('ct.cancel'), onClick: () => dlg.close() }), confirm),
    );
    const dlg = dialog(headId, t('ct.eraseTitle', { name }), [form], opener);
    input.focus();
  }

  /** open navigates to contact id's page. */
  open(id) {
    const path = contactPath(id);
    if (location.pathname !== path) {
      this.cameFrom = location.pathname;
      history.pushState(null, '', path);
    }
    this.app.showThread(null); // the page takes the conversation's place
    this.route();
  }

  back() {
    if (this.cameFrom) {
      history.back(); // popstate routes
      return;
    }
    this.app.navigate(null);
    this.route();
  }

  onEvent(ev) {
    this.view.onEvent(ev);
  }
}
