// The frame around the list and the conversation: the header (who is signed
// in and their presence, away mode, settings, and the profile menu with
// one's own settings and sign out), the sidebar (inbox, views, team: only
// navigation), the "Reconnecting…" banner and toasts.

import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { reassignSwitch, renderTeam } from './presence.js';
import { viewItems } from './views.js';

const STATE_KEY = { online: 'presence.online', away: 'presence.away', offline: 'presence.offline', connecting: 'presence.connecting' };

/** Shell builds and updates the console's layout for one Console (app). */
export class Shell {
  constructor(app) {
    this.app = app;
    this.navOpen = false;
    // The page's h1 names the inbox, at the top of the conversation list
    // (list.js) inside its landmark; the panes have h2s.
    this.heading = h('h1', { class: 'sr-only', text: t('nav.inbox') });
  }

  mount(root) {
    const app = this.app;
    const navId = uid('nav');
    this.menuBtn = h(
      'button',
      { type: 'button', class: 'btn btn-icon menu-btn', 'aria-expanded': 'false', 'aria-controls': navId, onClick: () => this.toggleNav(!this.navOpen) },
      h('span', { class: 'icon icon-menu', 'aria-hidden': 'true' }),
      h('span', { class: 'sr-only', text: t('header.menu') }),
    );
    this.banner = h('div', { class: 'conn-banner', role: 'status' });
    this.meDot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    this.meName = h('span', { class: 'me-name' });
    this.meState = h('span', { class: 'me-state' });
    this.awayBox = h('input', { type: 'checkbox', role: 'switch', onChange: (e) => app.setAway(e.target.checked) });
    // The profile menu: the signed-in agent's own settings (reassign while
    // away, max. open chats) and sign out, behind their name.
    const menuId = uid('profile');
    this.meBtn = h(
      'button',
      { type: 'button', class: 'me', 'aria-expanded': 'false', 'aria-controls': menuId, onClick: () => this.toggleProfile(!this.profileOpen) },
      this.meDot,
      h('span', { class: 'me-text' }, this.meName, this.meState),
      h('span', { class: 'sr-only', text: t('profile.open') }),
      h('span', { class: 'me-caret', 'aria-hidden': 'true' }),
    );
    this.profileOpen = false;
    this.profile = h(
      'div',
      {
        id: menuId,
        class: 'profile-menu',
        role: 'group',
        'aria-label': t('profile.title'),
        hidden: true,
        onKeydown: (e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            this.toggleProfile(false, true);
          }
        },
      },
      h('h2', { class: 'profile-head', text: t('profile.title') }),
      (this.reassign = reassignSwitch(app)).el,
      h('div', { class: 'profile-foot' }, h('button', { type: 'button', class: 'btn btn-ghost', text: t('header.signOut'), onClick: () => app.signOut() })),
    );
    document.addEventListener('pointerdown', (e) => {
      if (this.profileOpen && !this.profile.contains(e.target) && !this.meBtn.contains(e.target)) this.toggleProfile(false);
    });
    this.header = h(
      'header',
      { class: 'topbar' },
      this.menuBtn,
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { class: 'brand-name', text: 'Parley' })),
      h('div', { class: 'spacer' }),
      this.banner,
      h('label', { class: 'switch' }, this.awayBox, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text: t('header.away') })),
      app.settings?.link,
      h('div', { class: 'profile' }, this.meBtn, this.profile),
    );

    this.inboxBox = h('div', { class: 'nav-inbox' });
    this.viewList = h('ul', { class: 'nav-list' });
    this.teamList = h('ul', { class: 'team-list' });
    const viewsHead = uid('views');
    const teamHead = uid('team');
    this.nav = h(
      'nav',
      { id: navId, class: 'nav', 'aria-label': t('nav.label') },
      this.inboxBox,
      h('h2', { id: viewsHead, class: 'nav-head', text: t('nav.views') }),
      h('div', { role: 'group', 'aria-labelledby': viewsHead }, this.viewList),
      h('h2', { id: teamHead, class: 'nav-head', text: t('nav.team') }),
      h('div', { role: 'group', 'aria-labelledby': teamHead }, this.teamList),
    );
    this.scrim = h('div', { class: 'scrim', 'aria-hidden': 'true', onClick: () => this.toggleNav(false) });
    this.toasts = h('div', { class: 'toasts' });
    this.el = h(
      'div',
      { class: 'shell' },
      this.header,
      h('div', { class: 'workspace' }, this.nav, this.scrim, app.list.el, app.conv.el, app.sidebar?.el, app.contactPage?.el),
      app.settings?.el,
      this.toasts,
    );
    root.replaceChildren(this.el);
    this.render();
    this.renderConn();
  }

  render() {
    if (!this.el) return;
    this.renderInbox();
    this.renderViews();
    this.renderTeam();
    this.renderMe();
  }

  renderInbox() {
    const { inboxes, inboxId } = this.app;
    const current = inboxes?.find((i) => i.id === inboxId) ?? inboxes?.[0];
    this.heading.textContent = current ? t('shell.heading', { inbox: current.name || current.id }) : t('nav.inbox');
    if (!inboxes || inboxes.length === 0) {
      this.inboxBox.replaceChildren();
      return;
    }
    if (inboxes.length === 1) {
      this.inboxBox.replaceChildren(h('div', { class: 'nav-head', text: t('nav.inbox') }), h('div', { class: 'inbox-name', text: inboxes[0].name || inboxes[0].id }));
      return;
    }
    const id = uid('inbox');
    const sel = h(
      'select',
      { id, class: 'select', onChange: (e) => this.app.setInbox(e.target.value) },
      inboxes.map((i) => h('option', { value: i.id, selected: i.id === inboxId, text: i.name || i.id })),
    );
    this.inboxBox.replaceChildren(h('label', { for: id, class: 'nav-head', text: t('nav.inbox') }), sel);
  }

  renderViews() {
    if (!this.el) return;
    const app = this.app;
    const focused = this.viewList.contains(document.activeElement) ? document.activeElement.dataset.view : null;
    this.viewList.replaceChildren(...viewItems(app)); // with live counts (views.js)
    if (focused) this.viewList.querySelector(`[data-view="${focused}"]`)?.focus();
  }

  renderTeam() {
    if (!this.el) return;
    renderTeam(this.app, this.teamList); // presence.js
  }

  renderMe() {
    if (!this.el) return;
    const app = this.app;
    const state = app.myState();
    this.meBtn.className = `me state-${state}`;
    this.meName.textContent = app.me.name;
    this.meState.textContent = t(STATE_KEY[state]);
    this.awayBox.checked = !!app.me.away;
    this.reassign.update();
    app.settings?.renderLink();
  }

  /** renderConn shows the banner once the connection has been down a moment (no flash on a quick reconnect). */
  renderConn() {
    const s = this.app.conn;
    const text = s === 'reconnecting' ? t('banner.reconnecting') : s === 'stopped' ? t('banner.stopped') : '';
    clearTimeout(this.bannerTimer);
    if (!text) {
      this.banner.classList.remove('show');
      this.banner.textContent = '';
      return;
    }
    const show = () => {
      this.banner.textContent = text;
      this.banner.classList.add('show');
    };
    if (this.banner.classList.contains('show') || s === 'stopped') show();
    else this.bannerTimer = setTimeout(show, 800);
  }

  /** toggleProfile opens or closes the profile menu; closing by keyboard returns focus to its button. */
  toggleProfile(open, returnFocus = false) {
    this.profileOpen = open;
    this.profile.hidden = !open;
    this.meBtn.setAttribute('aria-expanded', String(open));
    if (open) this.profile.querySelector('input, button')?.focus();
    else if (returnFocus) this.meBtn.focus();
  }

  setThreadOpen(open) {
    if (this.el) this.el.classList.toggle('thread-open', open);
  }

  toggleNav(open, returnFocus = false) {
    this.navOpen = open;
    this.el.classList.toggle('nav-open', open);
    this.menuBtn.setAttribute('aria-expanded', String(open));
    if (open) this.nav.querySelector('button, select')?.focus();
    else if (returnFocus) this.menuBtn.focus();
  }

  /** toast shows an error for a few seconds (role="alert"). */
  toast(text) {
    const el = h(
      'div',
      { class: 'toast', role: 'alert' },
      h('span', { text }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('err.dismiss'), onClick: () => el.remove() }),
    );
    this.toasts.append(el);
    setTimeout(() => el.remove(), 8000);
  }
}
