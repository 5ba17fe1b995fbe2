// Snippets (R1): saved replies an agent inserts by typing "#" and a
// shortcut in the reply box. The picker is a listbox wired to the text box
// (aria-activedescendant): arrow keys move, Enter or Tab inserts, Escape
// closes. A dialog lists, creates, edits and deletes snippets.

import { ApiError, request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { dialog } from './actions.js';

const MAX_SHOWN = 8;
const STALE_MS = 60000;
const SHORTCUT = /^[A-Za-z0-9_-]{1,64}$/;
// "#" and the shortcut typed so far, right before the caret, at the start or after a space.
const TRIGGER = /(?:^|\s)#([A-Za-z0-9_-]{0,64})$/;

/** match returns the snippets whose shortcut or name fits query, best first. */
export function match(snippets, query) {
  const q = query.toLowerCase();
  const score = (s) => {
    const sc = s.shortcut.toLowerCase();
    if (sc.startsWith(q)) return 0;
    if (sc.includes(q)) return 1;
    if (s.name.toLowerCase().includes(q)) return 2;
    return -1;
  };
  return snippets
    .map((s) => [score(s), s])
    .filter(([n]) => n >= 0)
    .sort((a, b) => a[0] - b[0] || a[1].shortcut.localeCompare(b[1].shortcut))
    .map(([, s]) => s);
}

/**
 * Library is a small collection the team keeps on the server (snippets,
 * knowledge links) for one Console app: loaded on first use and again when
 * stale, listed at path ('api/v1/snippets') and changed at path/{id}.
 */
export class Library {
  constructor(app, path) {
    this.app = app;
    this.path = path;
    this.list = null; // null until loaded
    this.loadedAt = 0;
    this.loading = null;
  }

  /** stale reports whether the list is loaded but old enough to load again. */
  get stale() {
    return !!this.list && Date.now() - this.loadedAt > STALE_MS;
  }

  /** load fetches the list (again when stale or forced); it never throws. */
  load(force = false) {
    if (this.loading) return this.loading;
    if (!force && this.list && Date.now() - this.loadedAt < STALE_MS) return Promise.resolve(this.list);
    this.loading = request('GET', this.path)
      .then(
        (res) => {
          this.list = (res?.results ?? []).map((x) => ({ ...x, id: String(x.id) }));
          this.loadedAt = Date.now();
        },
        (err) => {
          this.app.failed(err);
          this.list ??= [];
        },
      )
      .then(() => {
        this.loading = null;
        return this.list;
      });
    return this.loading;
  }

  /**
   * show fills list with a row per entry: the entry's text(x) and, where
   * mayEdit(x), an Edit button (onEdit) and a Delete button, which asks,
   * deletes, shows the list again and returns focus to back; note says while
   * the list loads or when it is empty. keys name the texts: loading, empty,
   * edit, editNamed, delete, deleteNamed, confirmDelete (those three with
   * {name}: name(x)) and failed.
   */
  show(list, note, keys, opts) {
    const { text, name, mayEdit, onEdit, back } = opts;
    const onDelete = async (x) => {
      if (!window.confirm(t(keys.confirmDelete, { name: name(x) }))) return;
      if (!(await this.remove(x, keys.failed))) return;
      this.show(list, note, keys, opts);
      back?.focus();
    };
    const all = this.list ?? [];
    note.textContent = this.list === null ? t(keys.loading) : all.length ? '' : t(keys.empty);
    list.replaceChildren(
      ...all.map((x) =>
        h(
          'li',
          { class: 'dialog-row' },
          text(x),
          mayEdit(x) ? h('button', { type: 'button', class: 'btn btn-sm btn-ghost', text: t(keys.edit), 'aria-label': t(keys.editNamed, { name: name(x) }), onClick: () => onEdit(x) }) : null,
          mayEdit(x) ? h('button', { type: 'button', class: 'btn btn-sm btn-ghost', text: t(keys.delete), 'aria-label': t(keys.deleteNamed, { name: name(x) }), onClick: () => onDelete(x) }) : null,
        ),
      ),
    );
  }

  /**
   * editIn shows in box the form (editForm's label, texts, fields and check)
   * that creates an entry (old null) or changes old. Save stores the values,
   * loads the list again and calls render; problem turns a failed save's
   * error into what editForm shows, or null when it was handled. After Cancel
   * and after a save the form goes and focus returns to back.
   */
  editIn(box, back, render, old, { problem, ...form }) {
    box.replaceChildren(
      editForm({
        ...form,
        save: async (v) => {
          try {
            if (old) await request('PATCH', `${this.path}/${encodeURIComponent(old.id)}`, v);
            else await request('POST', this.path, v);
          } catch (err) {
            return problem(err, v);
          }
          await this.load(true);
          render();
        },
        done: () => {
          box.replaceChildren();
          back.focus();
        },
      }),
    );
  }

  /**
   * remove deletes x (one already gone is fine) and loads the list again. It
   * returns false when that failed; the app has told the user, with failKey.
   */
  async remove(x, failKey) {
    try {
      await request('DELETE', `${this.path}/${encodeURIComponent(x.id)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        this.app.failed(err, failKey);
        return false;
      }
    }
    await this.load(true);
    return true;
  }
}

const SNIPPET_KEYS = {
  loading: 'snip.loading',
  empty: 'snip.empty',
  edit: 'snip.edit',
  editNamed: 'snip.editNamed',
  delete: 'snip.delete',
  deleteNamed: 'snip.deleteNamed',
  confirmDelete: 'snip.confirmDelete',
  failed: 'snip.failed',
};

/** Snippets holds the team's snippets for one Console app. */
export class Snippets extends Library {
  constructor(app) {
    super(app, 'api/v1/snippets');
  }

  mayEdit(s) {
    const me = this.app.me;
    return me.role === 'admin' || s.createdBy === me.actorId;
  }

  /** attach gives a reply box (in form) its picker and returns it. */
  attach(textarea, form) {
    return new Picker(this, textarea, form);
  }

  // ----- the management dialog -----

  open(opener) {
    const headId = uid('snippets');
    const list = h('ul', { class: 'dialog-list' });
    const note = h('p', { class: 'muted', role: 'status' });
    const formBox = h('div');
    const add = h('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('snip.new'), onClick: () => edit(null) });
    const dlg = dialog(headId, t('snip.title'), [h('p', { class: 'muted small', text: t('snip.hint') }), h('div', { class: 'dialog-actions' }, add), formBox, note, list], opener);

    const render = () =>
      this.show(list, note, SNIPPET_KEYS, {
        text: (s) =>
          h('div', { class: 'dialog-row-text' }, h('span', { class: 'row-name' }, h('code', { class: 'snip-shortcut', text: `#${s.shortcut}` }), ' ', h('span', { dir: 'auto', text: s.name })), h('span', { class: 'muted small snip-body', dir: 'auto', text: s.body })),
        name: (s) => s.name,
        mayEdit: (s) => this.mayEdit(s),
        onEdit: (s) => edit(s),
        back: add,
      });

    const edit = (s) => {
      const ids = { name: uid('sn'), shortcut: uid('ss'), body: uid('sb'), hint: uid('sh') };
      const name = h('input', { id: ids.name, class: 'input', required: true, maxlength: '256', value: s?.name ?? '' });
      const shortcut = h('input', { id: ids.shortcut, class: 'input', required: true, maxlength: '64', pattern: '[A-Za-z0-9_\\-]+', spellcheck: 'false', autocapitalize: 'none', 'aria-describedby': ids.hint, value: s?.shortcut ?? '' });
      const body = h('textarea', { id: ids.body, class: 'input', required: true, rows: '5', dir: 'auto', value: s?.body ?? '' });
      this.editIn(formBox, add, render, s, {
        label: s ? t('snip.editNamed', { name: s.name }) : t('snip.new'),
        saveText: t('snip.save'),
        cancelText: t('snip.cancel'),
        fields: [
          h('div', { class: 'field' }, h('label', { for: ids.name, text: t('snip.name') }), name),
          h('div', { class: 'field' }, h('label', { for: ids.shortcut, text: t('snip.shortcut') }), shortcut, h('span', { id: ids.hint, class: 'muted small', text: t('snip.shortcutHint') })),
          h('div', { class: 'field' }, h('label', { for: ids.body, text: t('snip.body') }), body),
        ],
        check: () => {
          const v = { name: name.value.trim(), shortcut: shortcut.value.trim().replace(/^#/, ''), body: body.value };
          if (!v.name) return [t('snip.needName'), name];
          if (!SHORTCUT.test(v.shortcut)) return [t('snip.badShortcut'), shortcut];
          if (!v.body.trim()) return [t('snip.needBody'), body];
          if (new TextEncoder().encode(v.body).length > 16 * 1024) return [t('snip.tooLong'), body];
          return v;
        },
        problem: (err, v) => {
          if (err?.status === 401) {
            this.app.failed(err);
            return null;
          }
          return [err?.status === 409 ? t('snip.taken', { shortcut: v.shortcut }) : err?.status === 0 ? t('err.network') : err?.message || t('snip.failed'), err?.status === 409 ? shortcut : null];
        },
      });
      name.focus();
    };

    render();
    this.load(true).then(() => dlg.open && render());
  }
}

/**
 * editForm is the inline add/edit form of a small library in a dialog
 * (snippets, knowledge links): the fields, an alert line, Cancel and Save.
 * On submit, check reads and checks the fields and returns either the values
 * or [message, field] to show (focusing field); save stores the values with
 * Save disabled, and returns nothing on success, [message, field] to show,
 * or null when it handled the failure itself (signed out). done runs after
 * Cancel and after a successful save.
 */
function editForm({ label, saveText, cancelText, fields, check, save, done }) {
  const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const saveButton = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', text: saveText });
  const cancel = h('button', { type: 'button', class: 'btn btn-sm', text: cancelText, onClick: () => done() });
  const fail = ([msg, field]) => {
    alert.textContent = msg;
    alert.hidden = false;
    field?.focus();
  };
  return h(
    'form',
    {
      class: 'snip-form',
      novalidate: true,
      'aria-label': label,
      onSubmit: async (e) => {
        e.preventDefault();
        const v = check();
        if (Array.isArray(v)) return fail(v);
        saveButton.disabled = true;
        const problem = await save(v);
        if (problem === undefined) return done();
        saveButton.disabled = false;
        if (problem) fail(problem);
      },
    },
    ...fields,
    alert,
    h('div', { class: 'dialog-actions' }, cancel, saveButton),
  );
}

/** Picker is the "#" menu of one reply box: a textarea, or a rich editor seen as one (CaretText). */
class Picker {
  constructor(snippets, textarea, form) {
    this.snippets = snippets;
    this.ta = textarea;
    this.items = [];
    this.active = 0;
    this.range = null; // [start, end] of "#query" in the text
    this.listId = uid('snippet-list');
    this.list = h('ul', { id: this.listId, class: 'snippet-picker', role: 'listbox', 'aria-label': t('snip.pickerLabel'), hidden: true });
    this.list.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the text box
    textarea.setAttribute('aria-autocomplete', 'list');
    // A text box takes no aria-expanded (ARIA allows it on a combobox, which
    // a textarea may not be): the open list is its active descendant's.
    textarea.setAttribute('aria-controls', this.listId);
    textarea.addEventListener('input', () => this.update());
    textarea.addEventListener('click', () => this.update());
    textarea.addEventListener('blur', () => this.close());
    // Capture on the form: the picker sees keys before the text box's own handler (Enter sends).
    form.addEventListener('keydown', (e) => this.key(e), true);
    form.prepend(this.list);
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** openWithHash inserts "#" at the caret (after a space if needed) and opens the picker. */
  openWithHash() {
    const ta = this.ta;
    const at = ta.selectionStart ?? ta.value.length;
    const before = ta.value.slice(0, at);
    const ins = before && !/\s$/.test(before) ? ' #' : '#';
    ta.focus();
    ta.setRangeText(ins, at, ta.selectionEnd ?? at, 'end');
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  }

  async update() {
    const ta = this.ta;
    const at = ta.selectionStart;
    if (at !== ta.selectionEnd) return this.close();
    const m = TRIGGER.exec(ta.value.slice(0, at));
    if (!m) return this.close();
    this.range = [at - m[1].length - 1, at];
    const list = this.snippets.list ?? (await this.snippets.load());
    if (this.snippets.stale) this.snippets.load();
    // The text may have changed while loading.
    if (ta.selectionStart !== at || !TRIGGER.test(ta.value.slice(0, at))) return;
    this.show(match(list, m[1]).slice(0, MAX_SHOWN));
  }

  show(items) {
    const same = items.length === this.items.length && items.every((s, i) => s.id === this.items[i].id);
    if (!same) this.active = 0;
    this.items = items;
    if (!items.length) {
      this.list.replaceChildren(h('li', { class: 'snippet-none', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', text: this.snippets.list?.length ? t('snip.noMatch') : t('snip.none') }));
    } else {
      this.list.replaceChildren(
        ...items.map((s, i) =>
          h(
            'li',
            {
              id: `${this.listId}-${i}`,
              role: 'option',
              class: 'snippet-option',
              'aria-selected': String(i === this.active),
              onClick: () => this.choose(i),
            },
            h('span', { class: 'snip-shortcut', text: `#${s.shortcut}` }),
            h('span', { class: 'snip-name', dir: 'auto', text: s.name }),
            h('span', { class: 'snip-body muted', dir: 'auto', text: s.body }),
          ),
        ),
      );
    }
    this.list.hidden = false;
    this.mark();
  }

  mark() {
    const items = this.list.querySelectorAll('.snippet-option');
    items.forEach((el, i) => el.setAttribute('aria-selected', String(i === this.active)));
    const cur = items[this.active];
    if (cur) {
      this.ta.setAttribute('aria-activedescendant', cur.id);
      cur.scrollIntoView({ block: 'nearest' });
    } else {
      this.ta.removeAttribute('aria-activedescendant');
    }
  }

  close() {
    if (!this.isOpen) return;
    this.list.hidden = true;
    this.items = [];
    this.ta.removeAttribute('aria-activedescendant');
  }

  key(e) {
    if (!this.isOpen || e.target !== (this.ta.el ?? this.ta) || e.isComposing) return;
    const n = this.items.length;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        if (!n) return;
        this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        this.mark();
        break;
      case 'Enter':
      case 'Tab':
        if (!n || e.shiftKey) {
          this.close(); // nothing to insert: the key does what it always does
          return;
        }
        this.choose(this.active);
        break;
      case 'Escape':
        this.close();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  /** choose replaces "#query" with snippet i's body. */
  choose(i) {
    const s = this.items[i];
    if (!s || !this.range) return;
    const [start, end] = this.range;
    const ta = this.ta;
    if (ta.value.slice(start, start + 1) !== '#') return this.close();
    ta.setRangeText(s.body, start, end, 'end');
    this.close();
    ta.focus();
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  }
}
