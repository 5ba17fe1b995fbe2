// The admins' settings screen: users (roles, routing seats, deactivation,
// invitation links), teams and inboxes (members, rename, delete), chat
// widgets, lists, bots, webhooks and the audit log. It lives at
// {base}/settings/{section}, replaces the inbox while shown, and speaks the
// settings API (docs/api.md).

import { dialog } from './actions.js';
import { AuditSection } from './audit.js';
import { BASE, request } from './api.js';
import { BotEditor } from './bots.js';
import { backLink, checkList, h, plainClick, uid } from './dom.js';
import { fullDate, t } from './i18n.js';
import { inboxMailForm, inboxMailboxForms } from './mailsettings.js';
import { ListsSection } from './lists.js';
import { inboxRetentionForm } from './retention.js';
import { TemplatesSection } from './templates.js';
import { WebhooksSection } from './webhooks.js';
import { WidgetsSection } from './widgets.js';

/** SECTIONS are the settings screen's sections, in order. */
export const SECTIONS = ['users', 'teams', 'inboxes', 'chat', 'lists', 'bots', 'templates', 'webhooks', 'audit'];

/** settingsSection returns the section a console path shows, or null when it is not a settings path. */
export function settingsSection(pathname = location.pathname) {
  if (!pathname.startsWith(BASE.pathname)) return null;
  const m = /^settings(?:\/([^/]+)(?:\/[^/]+)?)?\/?$/.exec(pathname.slice(BASE.pathname.length));
  if (!m) return null;
  return SECTIONS.includes(m[1]) ? m[1] : 'users';
}

/** settingsPath is the console URL of a settings section. */
export const settingsPath = (section) => `${BASE.pathname}settings/${section}`;

const enc = encodeURIComponent;
const api = {
  users: () => request('GET', 'api/v1/users'),
  patchUser: (id, body) => request('PATCH', `api/v1/users/${enc(id)}`, body),
  invites: () => request('GET', 'api/v1/invites'),
  invite: (body) => request('POST', 'api/v1/invites', body),
  revokeInvite: (id) => request('DELETE', `api/v1/invites/${enc(id)}`),
  teams: () => request('GET', 'api/v1/teams'),
  createTeam: (body) => request('POST', 'api/v1/teams', body),
  patchTeam: (id, body) => request('PATCH', `api/v1/teams/${enc(id)}`, body),
  deleteTeam: (id) => request('DELETE', `api/v1/teams/${enc(id)}`),
  inboxes: () => request('GET', 'api/v1/inboxes'),
  createInbox: (body) => request('POST', 'api/v1/inboxes', body),
  patchInbox: (id, body) => request('PATCH', `api/v1/inboxes/${enc(id)}`, body),
  deleteInbox: (id, confirmName) => request('DELETE', `api/v1/inboxes/${enc(id)}`, { confirmName }),
};

const byName = (a, b) => String(a.name).localeCompare(String(b.name));

/**
 * Settings is the settings screen of one Console (app). It shows itself when
 * the URL is a settings path and the user an admin (route), and keeps what
 * the admin typed but has not saved across reloads of its data (drafts).
 */
export class Settings {
  constructor(app) {
    this.app = app;
    this.visible = false;
    this.section = 'users';
    this.data = null; // { users, invites, teams, inboxes } once loaded
    this.state = 'idle'; // idle | loading | ready | error
    this.gen = 0;
    this.drafts = new Map(); // focus key → unsaved value
    this.lastInvite = null; // the link made last: { url, email, expiresAt }
    this.reloadTimer = 0;
    this.openCards = new Set(); // teams and inboxes whose card is unfolded
    this.chat = new WidgetsSection(this); // chat widgets (widgets.js)
    this.lists = new ListsSection(this); // contact lists (lists.js)
    this.templates = new TemplatesSection(this); // email templates (templates.js)
    this.webhooks = new WebhooksSection(this); // webhooks (webhooks.js)
    this.audit = new AuditSection(this); // the audit log (audit.js)

    this.link = h('a', {
      href: settingsPath('users'),
      class: 'btn btn-ghost settings-link',
      hidden: true,
      text: t('settings.link'),
      onClick: (e) => {
        if (!plainClick(e)) return;
        e.preventDefault();
        this.open(this.visible ? this.section : 'users');
      },
    });
    const headId = uid('settings');
    this.heading = h('h1', { id: headId, class: 'settings-title', tabindex: '-1', text: t('settings.title') });
    this.nav = h('ul', { class: 'settings-nav' });
    this.main = h('div', { class: 'settings-main' });
    this.status = h('p', { class: 'sr-only', role: 'status' });
    this.el = h(
      'main',
      { class: 'settings-pane', 'aria-labelledby': headId },
      h(
        'div',
        { class: 'settings-head' },
        backLink(BASE.pathname, 'btn btn-ghost settings-back', t('settings.back'), () => this.close()),
        this.heading,
      ),
      h('div', { class: 'settings-body' }, h('nav', { class: 'settings-side', 'aria-label': t('settings.sections') }, this.nav), this.main),
      this.status,
    );
  }

  isAdmin() {
    return this.app.me?.role === 'admin';
  }

  // ----- routing -----

  /**
   * route shows or hides the screen for the current URL and reports whether
   * it shows it. A settings URL opened by someone who is not an admin falls
   * back to the inbox.
   */
  route() {
    const section = settingsSection();
    if (section && !this.isAdmin()) {
      history.replaceState(null, '', BASE.pathname);
      this.hide();
      return false;
    }
    if (!section) {
      this.hide();
      return false;
    }
    this.show(section);
    return true;
  }

  open(section) {
    const path = settingsPath(section);
    if (location.pathname !== path) history.pushState(null, '', path);
    this.route();
  }

  close() {
    if (location.pathname !== BASE.pathname) history.pushState(null, '', BASE.pathname);
    this.hide();
    this.app.showThread(null);
    this.app.keepFocus();
  }

  show(section) {
    const first = !this.visible;
    const moved = first || section !== this.section;
    this.visible = true;
    this.section = section;
    this.app.shell.el?.classList.add('settings-open');
    this.renderLink();
    document.title = `${t('settings.title')} · ${t('app.title')}`;
    if (first || !this.data) this.load();
    this.render();
    // Follow the admin's move with the focus; a page load leaves it alone.
    if (moved && this.app.shell.el?.contains(document.activeElement)) this.heading.focus();
  }

  hide() {
    if (!this.visible) return;
    this.visible = false;
    this.app.shell.el?.classList.remove('settings-open');
    this.renderLink();
    this.app.render();
  }

  /** renderLink shows the header link to admins only, and leaves the screen when the role is gone. */
  renderLink() {
    this.link.hidden = !this.isAdmin();
    if (this.visible) this.link.setAttribute('aria-current', 'page');
    else this.link.removeAttribute('aria-current');
    if (this.visible && !this.isAdmin()) this.close();
  }

  /** changed reloads the data soon after a live change of people or inboxes. */
  /** presenceChanged draws Settings → Users again when it shows, so that its states are the top bar's and the team list's (app.stateOf). */
  presenceChanged() {
    if (this.visible && this.section === 'users' && this.data) this.render();
  }

  changed() {
    if (!this.visible) {
      this.data = null;
      return;
    }
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.visible && this.load(), 150);
  }

  // ----- data -----

  async load() {
    const gen = ++this.gen;
    if (!this.data) this.state = 'loading';
    this.render();
    try {
      const [users, invites, teams, inboxes] = await Promise.all([api.users(), api.invites(), api.teams(), api.inboxes()]);
      if (gen !== this.gen) return;
      this.data = {
        users: (users?.results ?? []).map((u) => ({ ...u, id: String(u.id) })),
        invites: invites?.results ?? [],
        teams: (teams?.results ?? []).map((x) => ({ ...x, id: String(x.id), memberIds: (x.memberIds ?? []).map(String) })),
        inboxes: (inboxes?.results ?? []).map((x) => ({ ...x, id: String(x.id), memberIds: (x.memberIds ?? []).map(String) })),
      };
      this.state = 'ready';
    } catch (err) {
      if (gen !== this.gen || this.app.failed(err)) return;
      this.state = this.data ? 'ready' : 'error';
      if (err.status === 403) {
        this.close();
        return;
      }
    }
    this.render();
  }

  /** act runs a change, reports a failure as a toast, and reloads. */
  async act(fn, failKey, done) {
    try {
      const res = await fn();
      if (done) done(res);
    } catch (err) {
      this.app.failed(err, failKey);
    }
    await this.load();
  }

  say(text) {
    this.status.textContent = '';
    setTimeout(() => (this.status.textContent = text), 50);
  }

  draft(key, fallback) {
    return this.drafts.has(key) ? this.drafts.get(key) : fallback;
  }

  // ----- rendering -----

  render() {
    if (!this.visible) return;
    this.nav.replaceChildren(
      ...SECTIONS.map((s) =>
        h(
          'li',
          null,
          h('a', {
            href: settingsPath(s),
            class: 'settings-tab',
            'aria-current': s === this.section ? 'page' : null,
            text: t(`settings.${s}`),
            onClick: (e) => plainClick(e) && (e.preventDefault(), this.open(s)),
          }),
        ),
      ),
    );
    // Keep the focus on the same control across a re-render.
    const key = this.main.contains(document.activeElement) ? document.activeElement.dataset.fk : null;
    let body;
    if (this.state === 'loading' || (!this.data && this.state !== 'error')) body = this.notReady(false);
    else if (!this.data) body = this.notReady(true, () => this.load());
    else if (this.section === 'teams') body = this.renderTeams();
    else if (this.section === 'inboxes') body = this.renderInboxes();
    else if (this.section === 'chat') body = this.chat.render();
    else if (this.section === 'lists') body = this.lists.render();
    else if (this.section === 'bots') body = (this.bots ??= new BotEditor(this)).render();
    else if (this.section === 'templates') body = this.templates.render();
    else if (this.section === 'webhooks') body = this.webhooks.render();
    else if (this.section === 'audit') body = this.audit.render();
    else body = this.renderUsers();
    this.main.replaceChildren(...body);
    if (key) this.main.querySelector(`[data-fk="${CSS.escape(key)}"]`)?.focus();
  }

  /** notReady is what a section shows before its data is there: loading, or (failed) the failure with a Retry button. */
  notReady(failed, retry) {
    if (!failed) return [h('p', { class: 'muted', role: 'status', text: t('settings.loading') })];
    return [h('p', { class: 'form-alert', role: 'alert', text: t('settings.failed') }), h('button', { type: 'button', class: 'btn', text: t('list.retry'), onClick: retry })];
  }

  sectionHead(key, hint) {
    return h('div', { class: 'settings-section-head' }, h('h2', { class: 'settings-h2', text: t(key) }), hint ? h('p', { class: 'muted', text: t(hint) }) : null);
  }

  // ----- users -----

  renderUsers() {
    const { users, invites } = this.data;
    const rows = [...users].sort((a, b) => Number(a.deactivated) - Number(b.deactivated) || byName(a, b));
    const table = h(
      'table',
      { class: 'settings-table' },
      h('caption', { class: 'sr-only', text: t('settings.users') }),
      h(
        'thead',
        null,
        h('tr', null, ...['user.name', 'user.role', 'user.seat', 'user.state', 'user.actions'].map((k) => h('th', { scope: 'col', text: t(k) }))),
      ),
      h('tbody', null, rows.map((u) => this.userRow(u))),
    );
    return [this.sectionHead('settings.users', 'user.hint'), this.inviteCard(invites), h('div', { class: 'settings-card settings-card-flush' }, table)];
  }

  userRow(u) {
    const me = u.id === String(this.app.me.id);
    const name = u.name || u.email;
    const role = h(
      'select',
      {
        class: 'select',
        'aria-label': t('user.roleOf', { name }),
        dataset: { fk: `user-${u.id}-role` },
        onChange: (e) => this.act(() => api.patchUser(u.id, { role: e.target.value }), 'user.failed'),
      },
      h('option', { value: 'agent', selected: u.role !== 'admin', text: t('role.agent') }),
      h('option', { value: 'admin', selected: u.role === 'admin', text: t('role.admin') }),
    );
    const seat = h(
      'label',
      { class: 'switch' },
      h('input', {
        type: 'checkbox',
        role: 'switch',
        checked: !!u.routingSeat,
        'aria-label': t('user.seatOf', { name }),
        dataset: { fk: `user-${u.id}-seat` },
        onChange: (e) => this.act(() => api.patchUser(u.id, { routingSeat: e.target.checked }), 'user.failed'),
      }),
      h('span', { class: 'switch-track', 'aria-hidden': 'true' }),
    );
    const state = u.deactivated ? 'deactivated' : this.app.stateOf(u);
    const toggle = h('button', {
      type: 'button',
      class: u.deactivated ? 'btn btn-sm' : 'btn btn-sm btn-danger',
      'aria-label': t(u.deactivated ? 'user.reactivateOf' : 'user.deactivateOf', { name }),
      text: t(u.deactivated ? 'user.reactivate' : 'user.deactivate'),
      dataset: { fk: `user-${u.id}-active` },
      onClick: () =>
        this.act(
          () => api.patchUser(u.id, { deactivated: !u.deactivated }),
          'user.failed',
          () => this.say(t(u.deactivated ? 'user.didReactivate' : 'user.didDeactivate', { name })),
        ),
    });
    return h(
      'tr',
      { class: u.deactivated ? 'is-deactivated' : null },
      h(
        'td',
        null,
        h(
          'div',
          { class: 'user-cell' },
          h('span', { class: 'user-name', dir: 'auto', text: me ? t('conv.you', { name }) : name }),
          h('span', { class: 'muted small user-email', text: u.email }),
        ),
      ),
      h('td', { 'data-label': t('user.role') }, role),
      h('td', { 'data-label': t('user.seat') }, seat),
      h('td', { 'data-label': t('user.state') }, h('span', { class: `chip user-state state-${state}`, text: t(`user.${state}`) })),
      h('td', { class: 'user-actions' }, toggle),
    );
  }

  inviteCard(invites) {
    // By default the new teammate joins the inviting admin's inboxes: an agent in no inbox sees nothing.
    const mine = this.data.inboxes.filter((i) => i.memberIds.includes(String(this.app.me.id))).map((i) => i.id);
    const d = this.draft('invite', { email: '', role: 'agent', seat: true, inboxIds: mine });
    const save = (patch) => this.drafts.set('invite', { ...this.draft('invite', d), ...patch });
    const emailId = uid('inv-email');
    const roleId = uid('inv-role');
    const email = h('input', {
      id: emailId,
      type: 'email',
      class: 'input',
      required: true,
      maxlength: '256',
      autocomplete: 'off',
      value: d.email,
      dataset: { fk: 'invite-email' },
      onInput: (e) => save({ email: e.target.value }),
    });
    const role = h(
      'select',
      { id: roleId, class: 'select', dataset: { fk: 'invite-role' }, onChange: (e) => save({ role: e.target.value }) },
      h('option', { value: 'agent', selected: d.role !== 'admin', text: t('role.agent') }),
      h('option', { value: 'admin', selected: d.role === 'admin', text: t('role.admin') }),
    );
    const seat = h(
      'label',
      { class: 'switch' },
      h('input', { type: 'checkbox', role: 'switch', checked: d.seat, dataset: { fk: 'invite-seat' }, onChange: (e) => save({ seat: e.target.checked }) }),
      h('span', { class: 'switch-track', 'aria-hidden': 'true' }),
      h('span', { class: 'switch-label', text: t('user.seatLong') }),
    );
    const boxes = this.checkList(
      t('invite.inboxes'),
      'invite-inbox',
      [...this.data.inboxes].sort(byName).map((i) => ({ id: i.id, label: i.name })),
      d.inboxIds,
      (ids) => save({ inboxIds: ids }),
    );
    const form = h(
      'form',
      {
        class: 'settings-form',
        onSubmit: (e) => {
          e.preventDefault();
          const cur = this.draft('invite', d);
          this.act(
            () => api.invite({ email: cur.email.trim(), role: cur.role, routingSeat: cur.seat, inboxIds: cur.inboxIds }),
            'invite.failed',
            (res) => {
              this.lastInvite = { url: res.url, email: res.email, expiresAt: res.expiresAt };
              this.drafts.delete('invite');
              this.say(t('invite.made', { email: res.email }));
            },
          );
        },
      },
      h('div', { class: 'settings-row' }, h('div', { class: 'field grow' }, h('label', { for: emailId, text: t('invite.email') }), email), h('div', { class: 'field' }, h('label', { for: roleId, text: t('user.role') }), role)),
      seat,
      boxes,
      h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: 'invite-submit' }, text: t('invite.submit') })),
    );
    return h(
      'div',
      { class: 'settings-card' },
      h('h3', { class: 'settings-h3', text: t('invite.title') }),
      h('p', { class: 'muted small', text: t('invite.hint') }),
      form,
      this.lastInvite ? this.inviteLink(this.lastInvite) : null,
      invites.length ? this.pendingInvites(invites) : null,
    );
  }

  inviteLink(inv) {
    const id = uid('inv-link');
    const input = h('input', { id, class: 'input invite-url', readonly: true, value: inv.url, dataset: { fk: 'invite-url' }, onFocus: (e) => e.target.select() });
    const copied = h('span', { class: 'muted small', role: 'status' });
    const copy = async () => {
      let ok = false;
      try {
        await navigator.clipboard.writeText(inv.url);
        ok = true;
      } catch {
        input.select();
        ok = document.execCommand?.('copy') ?? false;
      }
      copied.textContent = t(ok ? 'invite.copied' : 'invite.copyFailed');
    };
    return h(
      'div',
      { class: 'invite-result' },
      h('label', { for: id, class: 'invite-result-label', text: t('invite.link', { email: inv.email }) }),
      h('div', { class: 'settings-row' }, input, h('button', { type: 'button', class: 'btn', dataset: { fk: 'invite-copy' }, text: t('invite.copy'), onClick: copy })),
      h('p', { class: 'muted small' }, t('invite.expires', { date: fullDate(inv.expiresAt) }), ' ', copied),
    );
  }

  pendingInvites(invites) {
    return h(
      'div',
      { class: 'pending' },
      h('h4', { class: 'settings-h4', text: t('invite.pending') }),
      h(
        'ul',
        { class: 'dialog-list' },
        invites.map((inv) =>
          h(
            'li',
            { class: 'dialog-row' },
            h('div', { class: 'dialog-row-text' }, h('span', { text: inv.email }), h('span', { class: 'muted small', text: `${t(`role.${inv.role === 'admin' ? 'admin' : 'agent'}`)} · ${t('invite.expires', { date: fullDate(inv.expiresAt) })}` })),
            h('button', {
              type: 'button',
              class: 'btn btn-sm',
              text: t('invite.revoke'),
              'aria-label': t('invite.revokeOf', { email: inv.email }),
              dataset: { fk: `invite-revoke-${inv.id}` },
              onClick: () => this.act(() => api.revokeInvite(inv.id), 'invite.failed', () => this.say(t('invite.revoked', { email: inv.email }))),
            }),
          ),
        ),
      ),
    );
  }

  // ----- teams and inboxes -----

  /** people lists the users a member picker offers: active ones, and deactivated ones that are members still. */
  people(memberIds) {
    return this.data.users
      .filter((u) => !u.deactivated || memberIds.includes(u.id))
      .sort(byName)
      .map((u) => ({ id: u.id, label: u.deactivated ? t('user.deactivatedName', { name: u.name }) : u.name || u.email }));
  }

  /** checkList is a fieldset of checkboxes; onChange gets the checked ids. */
  checkList(legend, key, items, checked, onChange) {
    return checkList({ legend, items, checked, fk: key, empty: t('settings.none'), onChange });
  }

  /** groupForm is the form that creates (g null) or edits a team or an inbox. */
  groupForm(kind, g) {
    const key = g ? `${kind}-${g.id}` : `${kind}-new`;
    const d = this.draft(key, { name: g?.name ?? '', memberIds: g?.memberIds ?? [] });
    const save = (patch) => this.drafts.set(key, { ...this.draft(key, d), ...patch });
    const nameId = uid(key);
    const submit = () => {
      const cur = this.draft(key, d);
      const body = { name: cur.name.trim(), memberIds: cur.memberIds };
      const call = kind === 'team' ? (g ? () => api.patchTeam(g.id, body) : () => api.createTeam(body)) : g ? () => api.patchInbox(g.id, body) : () => api.createInbox(body);
      this.act(call, `${kind}.failed`, () => {
        this.drafts.delete(key);
        this.say(t(g ? `${kind}.saved` : `${kind}.created`, { name: body.name }));
      });
    };
    return h(
      'form',
      {
        class: 'settings-form',
        onSubmit: (e) => {
          e.preventDefault();
          submit();
        },
      },
      h(
        'div',
        { class: 'field' },
        h('label', { for: nameId, text: t(`${kind}.name`) }),
        h('input', { id: nameId, class: 'input', required: true, maxlength: '256', value: d.name, dataset: { fk: `${key}-name` }, onInput: (e) => save({ name: e.target.value }) }),
      ),
      this.checkList(t('settings.members'), `${key}-member`, this.people(d.memberIds), d.memberIds, (ids) => save({ memberIds: ids })),
      h(
        'div',
        { class: 'settings-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', dataset: { fk: `${key}-save` }, text: t(g ? 'settings.save' : `${kind}.create`) }),
        g
          ? h('button', {
              type: 'button',
              class: 'btn btn-danger',
              dataset: { fk: `${key}-delete` },
              text: t(`${kind}.delete`),
              'aria-label': t(`${kind}.deleteOf`, { name: g.name }),
              onClick: (e) => (kind === 'team' ? this.deleteTeam(g) : this.confirmDeleteInbox(g, e.currentTarget)),
            })
          : null,
      ),
    );
  }

  groupCard(kind, g) {
    const n = g.memberIds.length;
    const key = `${kind}-${g.id}`;
    return h(
      'details',
      {
        class: 'settings-card group-card',
        open: this.openCards.has(key) || this.drafts.has(key) || null,
        onToggle: (e) => (e.target.open ? this.openCards.add(key) : this.openCards.delete(key)),
      },
      h('summary', null, h('span', { class: 'group-name', dir: 'auto', text: g.name }), h('span', { class: 'muted small', text: n === 1 ? t('settings.oneMember') : t('settings.memberCount', { n }) })),
      this.groupForm(kind, g),
      kind === 'inbox' ? inboxMailForm(this, g) : null,
      kind === 'inbox' ? inboxMailboxForms(this, g) : null,
      kind === 'inbox' ? inboxRetentionForm(this, g) : null,
    );
  }

  renderTeams() {
    const teams = [...this.data.teams].sort(byName);
    return [
      this.sectionHead('settings.teams', 'team.hint'),
      h('div', { class: 'settings-card' }, h('h3', { class: 'settings-h3', text: t('team.new') }), this.groupForm('team', null)),
      teams.length ? h('div', { class: 'group-list' }, teams.map((g) => this.groupCard('team', g))) : h('p', { class: 'muted', text: t('team.empty') }),
    ];
  }

  renderInboxes() {
    const inboxes = [...this.data.inboxes].sort(byName);
    return [
      this.sectionHead('settings.inboxes', 'inbox.hint'),
      h('div', { class: 'settings-card' }, h('h3', { class: 'settings-h3', text: t('inbox.new') }), this.groupForm('inbox', null)),
      h('div', { class: 'group-list' }, inboxes.map((g) => this.groupCard('inbox', g))),
    ];
  }

  deleteTeam(g) {
    this.act(() => api.deleteTeam(g.id), 'team.failed', () => {
      this.drafts.delete(`team-${g.id}`);
      this.say(t('team.deleted', { name: g.name }));
    });
  }

  /** confirmDeleteInbox asks the admin to type the inbox's name, then deletes it for good (M4). */
  confirmDeleteInbox(g, opener) {
    const headId = uid('del-inbox');
    const inputId = uid('del-name');
    const error = h('p', { class: 'form-alert', role: 'alert', hidden: true });
    const input = h('input', { id: inputId, class: 'input', autocomplete: 'off', spellcheck: 'false', onInput: () => (confirm.disabled = input.value !== g.name) });
    const confirm = h('button', { type: 'submit', class: 'btn btn-danger', disabled: true, text: t('inbox.deleteForGood') });
    const form = h(
      'form',
      {
        class: 'settings-form',
        onSubmit: async (e) => {
          e.preventDefault();
          if (input.value !== g.name) return;
          confirm.disabled = true;
          try {
            await api.deleteInbox(g.id, input.value);
          } catch (err) {
            if (this.app.failed(err)) return;
            error.textContent = err.message || t('inbox.failed');
            error.hidden = false;
            confirm.disabled = false;
            return;
          }
          this.drafts.delete(`inbox-${g.id}`);
          dlg.close();
          this.say(t('inbox.deleted', { name: g.name }));
          this.heading.focus();
          this.load();
        },
      },
      h('p', { text: t('inbox.deleteWarning', { name: g.name }) }),
      h('div', { class: 'field' }, h('label', { for: inputId, text: t('inbox.typeName', { name: g.name }) }), input),
      error,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', text: t('inbox.cancel'), onClick: () => dlg.close() }), confirm),
    );
    const dlg = dialog(headId, t('inbox.deleteTitle', { name: g.name }), [form], opener);
    input.focus();
  }
}
