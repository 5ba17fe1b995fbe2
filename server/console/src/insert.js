// The reply editor's Insert menu (R1): a snippet (the "#" picker), a
// knowledge link from the admins' library (searched by title), or the
// agent's own meeting link, each put into the reply at the caret as plain
// text; links.js makes the address clickable where the message is shown.
// The menu is a menu button: Enter, Space or the arrow keys open it, the
// arrow keys move, Escape closes it. The Links dialog (Tools) sets the
// meeting link and, for admins, keeps the library.

import { request } from './api.js';
import { dialog } from './actions.js';
import { h, uid } from './dom.js';
import { Library } from './snippets.js';
import { t } from './i18n.js';

const MAX_SHOWN = 50;
const LINK_KEYS = {
  loading: 'kl.loading',
  empty: 'kl.empty',
  edit: 'kl.edit',
  editNamed: 'kl.editNamed',
  delete: 'kl.delete',
  deleteNamed: 'kl.deleteNamed',
  confirmDelete: 'kl.confirmDelete',
  failed: 'kl.failed',
};

/** validURL mirrors the server's rule for link addresses: printable ASCII, http(s), a host, no credentials. */
export function validURL(s) {
  if (!s || s.length > 2048 || /[^\x21-\x7e]/.test(s) || !/^https?:\/\/[^/]/i.test(s)) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** linkText is what inserting knowledge link l puts into a reply. */
export const linkText = (l) => `${l.title}: ${l.url}`;

/** fold lower-cases s and drops Latin diacritics, so that "grosse" finds "Größe". */
const fold = (s) =>
  String(s)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase();

/** matchLinks returns the links whose title holds query (any case, any accents), those starting with it first. */
export function matchLinks(links, query) {
  const q = fold(query.trim());
  return links
    .map((l) => [fold(l.title).indexOf(q), l])
    .filter(([at]) => at >= 0)
    .sort((a, b) => (a[0] !== 0) - (b[0] !== 0)) // stable: by title within each group
    .map(([, l]) => l);
}

/** insertAtCaret puts text into the text box at its caret (or over its selection), spaced from the words around it. */
export function insertAtCaret(ta, text) {
  const start = ta.selectionStart ?? ta.value.length;
  const end = ta.selectionEnd ?? start;
  const before = ta.value.slice(0, start);
  const after = ta.value.slice(end);
  const ins = (before && !/\s$/.test(before) ? ' ' : '') + text + (after && !/^\s/.test(after) ? ' ' : '');
  ta.focus();
  ta.setRangeText(ins, start, end, 'end');
  ta.dispatchEvent(new Event('input', { bubbles: true }));
}

const perApp = new WeakMap();

/** linksOf returns the Links of a Console app, made on first use. */
export function linksOf(app) {
  let l = perApp.get(app);
  if (!l) {
    l = new Links(app);
    perApp.set(app, l);
  }
  return l;
}

/** Links holds the knowledge links (the library) and the user's meeting link for one Console app. */
class Links extends Library {
  constructor(app) {
    super(app, 'api/v1/knowledge-links');
    this.meetingURL = null; // null until loaded; '' for none
  }

  /** meeting returns the user's meeting link ('' for none); it throws ApiError. */
  async meeting() {
    if (this.meetingURL === null) this.meetingURL = (await request('GET', 'api/v1/users/me/meeting-link'))?.url ?? '';
    return this.meetingURL;
  }

  async saveMeeting(url) {
    this.meetingURL = (await request('PUT', 'api/v1/users/me/meeting-link', { url }))?.url ?? '';
    return this.meetingURL;
  }

  /** menu makes the Insert menu of one reply box; pickSnippet opens its "#" picker. */
  menu(textarea, pickSnippet) {
    return new InsertMenu(this, textarea, pickSnippet);
  }

  // ----- inserting -----

  /** pickKnowledge lets the agent find a knowledge link by title and inserts it into ta. */
  pickKnowledge(ta) {
    const headId = uid('kl-pick');
    const inputId = uid('kl-search');
    const listId = uid('kl-list');
    const input = h('input', {
      id: inputId,
      class: 'input',
      type: 'search',
      role: 'combobox',
      autocomplete: 'off',
      'aria-autocomplete': 'list',
      'aria-controls': listId,
      'aria-expanded': 'true',
    });
    const list = h('ul', { id: listId, class: 'kl-options', role: 'listbox', 'aria-label': t('kl.listLabel') });
    const note = h('p', { class: 'muted small', role: 'status' });
    let items = [];
    let active = 0;
    const dlg = dialog(headId, t('kl.pickTitle'), [h('div', { class: 'field' }, h('label', { for: inputId, text: t('kl.search') }), input), note, list], ta);

    const mark = () => {
      const opts = list.querySelectorAll('[role=option]');
      opts.forEach((el, i) => el.setAttribute('aria-selected', String(i === active)));
      if (opts[active]) {
        input.setAttribute('aria-activedescendant', opts[active].id);
        opts[active].scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    };
    const render = () => {
      const all = this.list;
      items = all ? matchLinks(all, input.value).slice(0, MAX_SHOWN) : [];
      active = Math.min(active, Math.max(0, items.length - 1));
      note.textContent = all === null ? t('kl.loading') : !all.length ? t('kl.none') : !items.length ? t('kl.noMatch') : '';
      list.replaceChildren(
        ...items.map((l, i) =>
          h(
            'li',
            { id: `${listId}-${i}`, role: 'option', class: 'snippet-option kl-option', 'aria-selected': String(i === active), onClick: () => choose(i) },
            h('span', { class: 'snip-name', dir: 'auto', text: l.title }),
            h('span', { class: 'snip-body muted', text: l.url }),
          ),
        ),
      );
      mark();
    };
    const choose = (i) => {
      const l = items[i];
      if (!l) return;
      dlg.close(); // focus goes back to the reply box
      insertAtCaret(ta, linkText(l));
    };
    list.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the search box
    input.addEventListener('input', () => {
      active = 0;
      render();
    });
    input.addEventListener('keydown', (e) => {
      const n = items.length;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        if (n) active = (active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        mark();
      } else if (e.key === 'Enter') {
        choose(active);
      } else {
        return;
      }
      e.preventDefault();
    });
    render();
    input.focus();
    this.load().then(() => dlg.open && render());
  }

  /** insertMeeting inserts the user's meeting link into ta, asking for it first when there is none. */
  async insertMeeting(ta, opener) {
    let url = '';
    try {
      url = await this.meeting();
    } catch (err) {
      if (!this.app.failed(err, 'ml.failed')) opener?.focus();
      return;
    }
    if (url) {
      insertAtCaret(ta, url);
      return;
    }
    const headId = uid('ml-set');
    const form = this.meetingForm({
      submitKey: 'ml.saveInsert',
      onSaved: (saved) => {
        dlg.close();
        if (saved) insertAtCaret(ta, saved);
      },
    });
    const dlg = dialog(headId, t('ml.setTitle'), [h('p', { class: 'muted small', text: t('ml.setHint') }), form.el], ta);
    form.input.focus();
  }

  /**
   * meetingForm is the form that saves the meeting link: a labelled address
   * box and a submit button. onSaved gets the saved address ('' when removed).
   */
  meetingForm({ submitKey = 'ml.save', onSaved } = {}) {
    const id = uid('ml');
    const hintId = uid('ml-hint');
    const input = h('input', { id, class: 'input', type: 'url', inputmode: 'url', spellcheck: 'false', autocapitalize: 'none', maxlength: '2048', placeholder: 'https://', 'aria-describedby': hintId, value: this.meetingURL ?? '' });
    const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
    const status = h('p', { class: 'muted small', role: 'status' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', text: t(submitKey) });
    const fail = (msg) => {
      alert.textContent = msg;
      alert.hidden = false;
      input.focus();
    };
    const el = h(
      'form',
      {
        class: 'snip-form',
        novalidate: true,
        onSubmit: async (e) => {
          e.preventDefault();
          alert.hidden = true;
          const url = input.value.trim();
          if (url && !validURL(url)) return fail(t('kl.badURL'));
          save.disabled = true;
          try {
            const saved = await this.saveMeeting(url);
            input.value = saved;
            status.textContent = saved ? t('ml.saved') : t('ml.removed');
            onSaved?.(saved);
          } catch (err) {
            if (this.app.failed(err)) return;
            fail(err?.status === 0 ? t('err.network') : err?.message || t('ml.failed'));
          } finally {
            save.disabled = false;
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: id, text: t('ml.label') }), input, h('span', { id: hintId, class: 'muted small', text: t('ml.hint') })),
      alert,
      status,
      h('div', { class: 'dialog-actions' }, save),
    );
    if (this.meetingURL === null) {
      this.meeting().then(
        (url) => {
          if (!input.value) input.value = url;
        },
        (err) => this.app.failed(err),
      );
    }
    return { el, input };
  }

  // ----- the Links dialog -----

  /** open shows the Links dialog: the user's meeting link, and the library (admins edit it). */
  open(opener) {
    const admin = this.app.me.role === 'admin';
    const headId = uid('links');
    const klHead = uid('kl-head');
    const mlHead = uid('ml-head');
    const list = h('ul', { class: 'dialog-list', 'aria-labelledby': klHead });
    const note = h('p', { class: 'muted', role: 'status' });
    const formBox = h('div');
    const add = admin ? h('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('kl.new'), onClick: () => edit(null) }) : null;
    const meeting = this.meetingForm();
    dialog(
      headId,
      t('links.title'),
      [
        h('p', { class: 'muted small', text: t('links.hint') }),
        h('section', { 'aria-labelledby': mlHead }, h('h3', { id: mlHead, class: 'links-heading', text: t('ml.heading') }), meeting.el),
        h(
          'section',
          { 'aria-labelledby': klHead, class: 'links-section' },
          h('h3', { id: klHead, class: 'links-heading', text: t('kl.heading') }),
          admin ? h('div', { class: 'dialog-actions' }, add) : h('p', { class: 'muted small', text: t('kl.adminOnly') }),
          formBox,
          note,
          list,
        ),
      ],
      opener,
    );

    const render = () =>
      this.show(list, note, LINK_KEYS, {
        text: (l) => h('div', { class: 'dialog-row-text' }, h('span', { class: 'row-name', dir: 'auto', text: l.title }), h('span', { class: 'muted small', text: l.url })),
        name: (l) => l.title,
        mayEdit: () => admin,
        onEdit: (l) => edit(l),
        back: add,
      });

    const edit = (l) => {
      const ids = { title: uid('klt'), url: uid('klu') };
      const title = h('input', { id: ids.title, class: 'input', required: true, maxlength: '256', dir: 'auto', value: l?.title ?? '' });
      const url = h('input', { id: ids.url, class: 'input', type: 'url', inputmode: 'url', required: true, maxlength: '2048', spellcheck: 'false', autocapitalize: 'none', placeholder: 'https://', value: l?.url ?? '' });
      this.editIn(formBox, add, render, l, {
        label: l ? t('kl.editNamed', { name: l.title }) : t('kl.new'),
        saveText: t('kl.save'),
        cancelText: t('kl.cancel'),
        fields: [
          h('div', { class: 'field' }, h('label', { for: ids.title, text: t('kl.titleField') }), title),
          h('div', { class: 'field' }, h('label', { for: ids.url, text: t('kl.url') }), url),
        ],
        check: () => {
          const v = { title: title.value.trim(), url: url.value.trim() };
          if (!v.title) return [t('kl.needTitle'), title];
          if (!validURL(v.url)) return [t('kl.badURL'), url];
          return v;
        },
        problem: (err) => (this.app.failed(err) ? null : [err?.status === 0 ? t('err.network') : err?.message || t('kl.failed')]),
      });
      title.focus();
    };

    render();
    this.load(true).then(render);
  }
}

/** InsertMenu is the Insert menu button of one reply box; textarea may be a function that returns the box in use. */
class InsertMenu {
  constructor(links, textarea, pickSnippet) {
    this.links = links;
    this.target = typeof textarea === 'function' ? textarea : () => textarea;
    const menuId = uid('insert-menu');
    this.button = h('button', {
      type: 'button',
      class: 'btn btn-ghost btn-sm',
      text: t('ins.menu'),
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-controls': menuId,
      onClick: () => (this.isOpen ? this.close(true) : this.open(0)),
      onKeydown: (e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          this.open(e.key === 'ArrowDown' ? 0 : -1);
        }
      },
    });
    const item = (key, run) =>
      h('button', {
        type: 'button',
        role: 'menuitem',
        class: 'insert-item',
        tabindex: '-1',
        text: t(key),
        onClick: () => {
          this.close(false);
          run();
        },
      });
    this.items = [
      item('ins.snippet', pickSnippet),
      item('ins.knowledge', () => links.pickKnowledge(this.target())),
      item('ins.meeting', () => links.insertMeeting(this.target(), this.button)),
    ];
    this.menu = h('div', { id: menuId, class: 'insert-menu', role: 'menu', 'aria-label': t('ins.menuLabel'), hidden: true, onKeydown: (e) => this.key(e), onMousedown: (e) => e.preventDefault() }, this.items);
    this.el = h('div', { class: 'insert-wrap', onFocusout: (e) => !this.el.contains(e.relatedTarget) && this.close(false) }, this.button, this.menu);
  }

  get isOpen() {
    return !this.menu.hidden;
  }

  /** open shows the menu and focuses item i (-1: the last). */
  open(i) {
    this.menu.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.focusItem(i < 0 ? this.items.length - 1 : i);
  }

  close(focusButton) {
    if (!this.isOpen) return;
    this.menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (focusButton) this.button.focus();
  }

  focusItem(i) {
    const n = this.items.length;
    this.items[((i % n) + n) % n].focus();
  }

  key(e) {
    // Keys in the menu are the menu's: the console's shortcuts must not fire.
    e.stopPropagation();
    const at = this.items.indexOf(document.activeElement);
    switch (e.key) {
      case 'ArrowDown':
        this.focusItem(at + 1);
        break;
      case 'ArrowUp':
        this.focusItem(at - 1);
        break;
      case 'Home':
        this.focusItem(0);
        break;
      case 'End':
        this.focusItem(-1);
        break;
      case 'Escape':
        this.close(true);
        break;
      case 'Tab':
        this.close(false);
        return;
      default:
        return;
    }
    e.preventDefault();
  }
}
