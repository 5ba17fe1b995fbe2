// The contact sidebar next to the open conversation (I8, R5): a ContactView
// of the conversation's contact, collapsible (below the conversation in a
// narrow window). It follows app.open and the thread's contact, which a
// disassociation changes.

import { ContactView, renameInList } from './contact.js';
import { h, uid } from './dom.js';
import { contactName, t } from './i18n.js';
import { pref, setPref } from './model.js';

/** ContactSidebar is the aside beside app.conv for one Console (app). */
export class ContactSidebar {
  constructor(app) {
    this.app = app;
    this.view = new ContactView(app, 'side');
    const bodyId = uid('side');
    this.nameEl = h('span', { class: 'cs-toggle-name', dir: 'auto' });
    this.toggle = h(
      'button',
      { type: 'button', class: 'cs-toggle', 'aria-controls': bodyId, onClick: () => this.setCollapsed(!this.collapsed, true) },
      h('span', { class: 'cs-chevron', 'aria-hidden': 'true' }),
      h('span', { class: 'cs-toggle-label', text: t('ct.sidebar') }),
      this.nameEl,
    );
    this.bodyEl = h('div', { id: bodyId, class: 'cs-body' }, this.view.el);
    this.el = h('aside', { class: 'contact-side', 'aria-label': t('ct.sidebar') }, h('div', { class: 'cs-head' }, this.toggle), this.bodyEl);
    this.blocked = null;
    // Each layout keeps its own choice: a wide window shows the sidebar as a
    // column, open unless folded; a narrower one below the conversation,
    // folded unless opened.
    this.wide = window.matchMedia('(min-width: 1280px)');
    this.wide.addEventListener('change', () => this.el.isConnected && this.setCollapsed(this.savedCollapsed()));
    this.setCollapsed(this.savedCollapsed());
  }

  layout() {
    return this.wide.matches ? 'wide' : 'stacked';
  }

  savedCollapsed() {
    const saved = pref(`contactSidebar.${this.layout()}`);
    return saved ? saved === 'closed' : this.layout() !== 'wide';
  }

  setCollapsed(collapsed, save = false) {
    this.collapsed = collapsed;
    this.toggle.setAttribute('aria-expanded', String(!collapsed));
    this.toggle.title = collapsed ? t('ct.expand') : t('ct.collapse');
    this.bodyEl.hidden = collapsed;
    this.el.classList.toggle('is-collapsed', collapsed);
    this.app.shell?.el?.classList.toggle('side-collapsed', collapsed);
    if (save) setPref(`contactSidebar.${this.layout()}`, collapsed ? 'closed' : 'open');
  }

  /** render follows the open thread: called whenever the console redraws. */
  render() {
    const app = this.app;
    app.shell?.el?.classList.toggle('side-collapsed', this.collapsed);
    const o = app.open;
    const th = o ? app.threads.get(o.id) : null;
    this.el.hidden = !o;
    const contactId = th?.associatedContactId ?? null;
    this.nameEl.textContent = th?.contactName ? contactName(th) : '';
    if (!o) {
      this.view.show(null);
      return;
    }
    if (o.state === 'notfound') {
      this.view.show(null);
      return;
    }
    if (!th) return; // loading: keep what is shown until the thread is known
    const changed = this.view.contactId !== (contactId && contactId !== '0' ? String(contactId) : null) || this.view.threadId !== o.id;
    this.view.show(contactId, o.id);
    // Blocking is the actions' (thread.updated): the button and the
    // contact's badge follow.
    if (!changed && this.blocked !== null && this.blocked !== !!th.blocked) this.view.reload();
    else if (!changed && this.users !== app.users.size && this.view.state === 'ready') this.view.render(); // names of owners and authors
    this.blocked = !!th.blocked;
    this.users = app.users.size;
  }

  onEvent(ev) {
    if (ev.type === 'contact.updated' && ev.contactId && ev.name) renameInList(this.app, ev.contactId, ev.name);
    this.view.onEvent(ev);
  }
}
