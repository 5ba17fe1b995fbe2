// The search box above the conversation list (I2): one box over contact
// names and emails, subjects and message text, open and closed. While it
// holds text the list shows the hits, newest first, with the matched words
// marked. "/" focuses it, Escape clears it.

import { request } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { normThread } from './model.js';

const DELAY = 200; // ms after the last keystroke
const PAGE = 30;

/**
 * highlighted returns text as nodes, the ranges marked with <mark>. Ranges
 * are [start, end) offsets in Unicode code points, as the API gives them;
 * everything goes in as text, never as markup.
 */
export function highlighted(text, ranges) {
  const cps = Array.from(text);
  const out = [];
  let at = 0;
  for (const [s, e] of ranges || []) {
    if (!(s >= at && e > s && e <= cps.length)) continue;
    if (s > at) out.push(cps.slice(at, s).join(''));
    const m = document.createElement('mark');
    m.textContent = cps.slice(s, e).join('');
    out.push(m);
    at = e;
  }
  if (at < cps.length) out.push(cps.slice(at).join(''));
  return out;
}

/** SearchBox owns the box, the running search and its hits. */
export class SearchBox {
  constructor(app) {
    this.app = app;
    this.q = ''; // the text the hits are for
    this.hits = []; // { thread, field, snippet, highlights }
    this.nextAfter = null;
    this.state = 'idle'; // idle | loading | ready | error
    this.gen = 0;
    this.timer = 0;
    this.loadingMore = false;
    const id = uid('search');
    this.input = h('input', {
      id,
      type: 'search',
      class: 'search-input',
      autocomplete: 'off',
      spellcheck: 'false',
      maxlength: '200',
      placeholder: t('search.placeholder'),
      'aria-keyshortcuts': '/',
      onInput: () => this.schedule(),
      onKeydown: (e) => this.key(e),
      onKeyup: () => (this.swallow = false),
      // The "/" that focused the box is no search text, even where the
      // browser delivers its character after the focus moved.
      onBeforeinput: (e) => {
        if (this.swallow && e.data === '/') e.preventDefault();
        this.swallow = false;
      },
    });
    this.clearBtn = h(
      'button',
      { type: 'button', class: 'btn btn-icon search-clear', hidden: true, onClick: () => this.clear(true) },
      h('span', { 'aria-hidden': 'true', text: '×' }),
      h('span', { class: 'sr-only', text: t('search.clear') }),
    );
    this.el = h(
      'div',
      { class: 'search', role: 'search' },
      h('label', { for: id, class: 'sr-only', text: t('search.label') }),
      h('span', { class: 'search-icon', 'aria-hidden': 'true' }),
      this.input,
      h('kbd', { class: 'search-key', 'aria-hidden': 'true', text: '/' }),
      this.clearBtn,
    );
  }

  /** active reports whether the list shows hits instead of the view. */
  get active() {
    return this.q !== '';
  }

  /** focus puts the cursor in the box; fromKey: the "/" shortcut did it. */
  focus(fromKey = false) {
    this.swallow = fromKey;
    this.input.focus();
    this.input.select();
  }

  key(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (this.input.value) this.clear(true);
      else this.input.blur();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.run();
    } else if (e.key === 'ArrowDown' && this.active) {
      e.preventDefault();
      this.app.list.move(0);
    }
  }

  schedule() {
    this.clearBtn.hidden = !this.input.value;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.run();
    }, DELAY);
  }

  clear(focus) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = 0;
    this.gen++;
    this.input.value = '';
    this.clearBtn.hidden = true;
    const was = this.active;
    this.q = '';
    this.hits = [];
    this.nextAfter = null;
    this.state = 'idle';
    if (focus) this.input.focus();
    if (was) this.app.render();
  }

  /** refresh searches again, for another inbox. */
  refresh() {
    if (!this.active) return;
    this.q = '';
    this.run();
  }

  /** run searches for the box's text (or clears the hits when it has no word). */
  async run() {
    if (this.app.ended) return;
    const q = this.input.value.trim();
    if (!/[\p{L}\p{N}]/u.test(q)) {
      if (this.active) this.clear(false);
      return;
    }
    if (q === this.q && this.state !== 'error') return;
    const gen = ++this.gen;
    this.q = q;
    this.state = 'loading';
    this.app.list.render();
    try {
      const res = await this.fetch(q);
      if (gen !== this.gen) return;
      this.hits = this.norm(res);
      this.nextAfter = res?.paging?.next?.after ?? null;
      this.state = 'ready';
    } catch (err) {
      if (gen !== this.gen || this.app.failed(err)) return;
      this.state = 'error';
      this.error = err?.status === 0 ? t('err.network') : err?.message || '';
    }
    this.app.render();
  }

  async loadMore() {
    const after = this.nextAfter;
    if (!after || this.loadingMore || this.state !== 'ready') return;
    const gen = this.gen;
    this.loadingMore = true;
    try {
      const res = await this.fetch(this.q, after);
      if (gen !== this.gen) return;
      const seen = new Set(this.hits.map((x) => x.thread.id));
      for (const x of this.norm(res)) if (!seen.has(x.thread.id)) this.hits.push(x);
      this.nextAfter = res?.paging?.next?.after ?? null;
    } catch (err) {
      this.app.failed(err, 'search.failed');
    } finally {
      this.loadingMore = false;
    }
    this.app.list.render();
  }

  fetch(q, after) {
    const p = new URLSearchParams({ q, limit: String(PAGE) });
    if (this.app.inboxId) p.set('inboxId', this.app.inboxId);
    if (after) p.set('after', after);
    return request('GET', `api/v1/search?${p}`);
  }

  norm(res) {
    return (res?.results ?? []).map((r) => ({
      thread: normThread(r.thread || {}),
      field: String(r.field || ''),
      snippet: String(r.snippet || ''),
      highlights: Array.isArray(r.highlights) ? r.highlights : [],
    }));
  }

  /** hit returns the hit of thread id, with the thread as the app knows it now. */
  hit(id) {
    const x = this.hits.find((y) => y.thread.id === id);
    if (!x) return null;
    const live = this.app.threads.get(id);
    return live ? { ...x, thread: live } : x;
  }
}
