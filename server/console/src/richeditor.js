// The email reply's rich text (R4): a Format switch turns the reply box
// into an editor with styles, lists, quotes, links and the team's email
// templates. What it writes goes to the server as HTML (richText), which
// keeps it as all rich text people write is kept and makes the email's
// text part from it. Chat replies stay plain text.

import { dialog } from './actions.js';
import * as api from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { validURL } from './insert.js';

/** The toolbar's commands: label key and document.execCommand name (and value). */
const COMMANDS = [
  ['rich.bold', 'bold'],
  ['rich.italic', 'italic'],
  ['rich.bullets', 'insertUnorderedList'],
  ['rich.numbers', 'insertOrderedList'],
  ['rich.quote', 'formatBlock', 'blockquote'],
];

/** escapeHTML is text as HTML. */
const escapeHTML = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** The elements the editor keeps; anything else keeps only its content. */
const KEPT = new Set(['P', 'DIV', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'A']);

/** linkOK reports whether href may stay on a link: the web or mailto. */
const linkOK = (href) => validURL(href) || /^mailto:[^\s<>"]+@[^\s<>"]+$/i.test(href);

/** paragraphs appends plain text s to node as paragraphs, line breaks kept. */
function paragraphs(node, s) {
  for (const para of s.split(/\n{2,}/).map((x) => x.trim()).filter(Boolean)) {
    const p = h('p');
    para.split('\n').forEach((line, i) => {
      if (i) p.append(h('br'));
      p.append(line);
    });
    node.append(p);
  }
}

/** copyKept appends to `to` what of `from`'s content the editor keeps: text, KEPT elements, links to the web. */
function copyKept(from, to) {
  for (const n of from.childNodes) {
    if (n.nodeType === Node.TEXT_NODE) {
      to.append(n.data);
    } else if (n.nodeType === Node.ELEMENT_NODE) {
      if (!KEPT.has(n.tagName)) {
        copyKept(n, to);
        continue;
      }
      const el = document.createElement(n.tagName.toLowerCase());
      if (n.tagName === 'A') {
        const href = n.getAttribute('href') ?? '';
        if (linkOK(href)) el.setAttribute('href', href);
      }
      copyKept(n, el);
      to.append(el);
    }
  }
}

/** serialize writes node's content as HTML: only what copyKept keeps, every text escaped. */
export function serialize(node) {
  let out = '';
  for (const n of node.childNodes) {
    if (n.nodeType === Node.TEXT_NODE) {
      out += escapeHTML(n.data);
    } else if (n.nodeType === Node.ELEMENT_NODE) {
      if (n.tagName === 'IMG') {
        // Only the images the editor put in: the agent's uploads, named by
        // the path the server knows them by.
        const id = n.dataset.fileId ?? '';
        if (/^\d+$/.test(id)) out += `<img src="/files/${id}/${encodeURIComponent(n.dataset.fileName ?? 'image')}" alt="${escapeHTML(n.alt ?? '')}">`;
        continue;
      }
      if (!KEPT.has(n.tagName)) {
        out += serialize(n);
        continue;
      }
      const tag = n.tagName.toLowerCase();
      if (tag === 'br') {
        out += '<br>';
        continue;
      }
      const href = tag === 'a' ? n.getAttribute('href') ?? '' : '';
      out += `<${tag}${href && linkOK(href) ? ` href="${escapeHTML(href)}"` : ''}>${serialize(n)}</${tag}>`;
    }
  }
  return out;
}

/**
 * RichBox is an editable rich text with its toolbar: styles, lists, quotes
 * and links, plus the controls in extra. The reply editor and the template
 * editor share it.
 */
export class RichBox {
  /**
   * @param {string} label the accessible name of the text
   * @param {(err: Error) => void} failed reports an error
   * @param {Node[]} extra more toolbar controls
   */
  constructor(label, failed, extra = []) {
    this.failed = failed;
    this.editor = h('div', {
      class: 'rich-editor',
      contenteditable: 'true',
      role: 'textbox',
      'aria-multiline': 'true',
      'aria-label': label,
      dir: 'auto',
    });
    this.toolbar = h(
      'div',
      { class: 'rich-toolbar', role: 'toolbar', 'aria-label': t('rich.toolbar') },
      COMMANDS.map(([key, cmd, value]) =>
        h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-sm',
          text: t(key),
          onMousedown: (e) => e.preventDefault(), // keep the editor's selection
          onClick: () => this.exec(cmd, value),
        }),
      ),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('rich.link'), onMousedown: (e) => e.preventDefault(), onClick: () => this.link() }),
      extra,
    );
  }

  exec(cmd, value) {
    this.editor.focus();
    document.execCommand(cmd, false, value);
  }

  link() {
    const url = window.prompt(t('rich.linkPrompt'), 'https://');
    if (!url) return;
    if (!validURL(url)) {
      this.failed(new Error(t('rich.badLink')));
      return;
    }
    this.exec('createLink', url);
  }

  /** insertHTML puts html at the caret (or at the end): parsed in an inert document and copied node by node, so only what the editor keeps reaches the page. */
  insertHTML(html) {
    const doc = new DOMParser().parseFromString(String(html ?? ''), 'text/html');
    const frag = document.createDocumentFragment();
    copyKept(doc.body, frag);
    this.insert(frag);
  }

  /** insert puts a node at the caret, or at the end when the caret is elsewhere. */
  insert(node) {
    this.editor.focus();
    const sel = window.getSelection();
    if (sel.rangeCount && this.editor.contains(sel.getRangeAt(0).startContainer)) {
      const range = sel.getRangeAt(0);
      range.deleteContents();
      range.insertNode(node);
      range.collapse(false);
    } else {
      this.editor.append(node);
    }
  }

  /** insertText types s at the caret (or at the end), in the style being typed. */
  insertText(s) {
    this.editor.focus();
    const sel = window.getSelection();
    if (!sel.rangeCount || !this.editor.contains(sel.getRangeAt(0).startContainer)) {
      const range = document.createRange();
      range.selectNodeContents(this.editor);
      range.collapse(false);
      sel.removeAllRanges();
      sel.addRange(range);
    }
    document.execCommand('insertText', false, s);
  }

  /** setHTML replaces the content with html, kept as insertHTML keeps it. */
  setHTML(html) {
    this.editor.replaceChildren();
    const doc = new DOMParser().parseFromString(String(html ?? ''), 'text/html');
    copyKept(doc.body, this.editor);
  }

  html() {
    return serialize(this.editor);
  }
}

/**
 * CaretText shows a RichBox to the reply box's helpers (the "#" snippet
 * picker, Insert) as the text box they expect: its value is the text at
 * the caret, and setting a range of it types there, in the style being
 * typed.
 */
export class CaretText {
  constructor(box) {
    this.box = box;
    this.el = box.editor;
  }

  /** textRange is the selection when it starts in a text of the editor, else null. */
  textRange() {
    const sel = window.getSelection();
    if (!sel.rangeCount) return null;
    const r = sel.getRangeAt(0);
    return this.el.contains(r.startContainer) && r.startContainer.nodeType === Node.TEXT_NODE ? r : null;
  }

  get value() {
    return this.textRange()?.startContainer.data ?? '';
  }

  get selectionStart() {
    return this.textRange()?.startOffset ?? 0;
  }

  get selectionEnd() {
    const r = this.textRange();
    return r && r.endContainer === r.startContainer ? r.endOffset : this.selectionStart;
  }

  setRangeText(s, start, end) {
    const r = this.textRange();
    if (!r) {
      this.box.insertText(s);
      return;
    }
    const range = document.createRange();
    range.setStart(r.startContainer, start);
    range.setEnd(r.startContainer, end);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    document.execCommand('insertText', false, s);
  }

  focus() {
    this.el.focus();
  }

  setAttribute(k, v) {
    this.el.setAttribute(k, v);
  }

  removeAttribute(k) {
    this.el.removeAttribute(k);
  }

  addEventListener(...args) {
    this.el.addEventListener(...args);
  }

  dispatchEvent(e) {
    return this.el.dispatchEvent(e);
  }
}

/** IMAGE_TYPES are the images a reply may show inline, as the server shows them. */
const IMAGE_TYPES = 'image/png,image/jpeg,image/gif,image/webp';

export class RichEditor {
  /**
   * @param {HTMLTextAreaElement} plain the reply box it stands in for
   * @param {() => string} threadId the open thread, for rendering templates
   * @param {(err: Error) => void} failed reports an error
   * @param {(file: File) => Promise<object>} upload uploads an image for the reply (api.uploadFile)
   * @param {(files: File[]) => void} attach attaches files that are no images to the reply
   */
  constructor(plain, threadId, failed, upload, attach) {
    this.plain = plain;
    this.threadId = threadId;
    this.failed = failed;
    this.upload = upload;
    this.attach = attach;
    this.on = false;
    const tplId = uid('tpl');
    this.templates = h('select', { id: tplId, class: 'select select-sm', onChange: () => this.insertTemplate() }, h('option', { value: '', text: t('rich.template') }));
    this.imageInput = h('input', {
      type: 'file',
      accept: IMAGE_TYPES,
      multiple: true,
      hidden: true,
      'aria-label': t('rich.image'),
      onChange: () => {
        this.addImages([...this.imageInput.files]);
        this.imageInput.value = '';
      },
    });
    this.box = new RichBox(t('reply.label'), failed, [
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('rich.image'), onMousedown: (e) => e.preventDefault(), onClick: () => this.imageInput.click() }),
      this.imageInput,
      h('label', { for: tplId, class: 'sr-only', text: t('rich.template') }),
      this.templates,
    ]);
    this.editor = this.box.editor;
    this.toolbar = this.box.toolbar;
    this.editor.hidden = this.toolbar.hidden = true;
    // A pasted image goes in where it is pasted; other files are attached.
    this.editor.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      this.addImages(files);
    });
    this.toggle = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-pressed': 'false', text: t('rich.format'), onClick: () => this.set(!this.on) });
  }

  /** set switches between the plain reply box and the editor, carrying what was written across. */
  set(on) {
    if (on === this.on) return;
    this.on = on;
    this.toggle.setAttribute('aria-pressed', String(on));
    if (on) {
      this.editor.replaceChildren();
      paragraphs(this.editor, this.plain.value);
      this.loadTemplates();
    } else {
      this.plain.value = this.editor.innerText.trim();
    }
    this.editor.hidden = this.toolbar.hidden = !on;
    this.plain.hidden = on;
    (on ? this.editor : this.plain).focus();
  }

  /** loadTemplates fills the template menu afresh: the library may have changed since. */
  async loadTemplates() {
    const gen = (this.tplGen = (this.tplGen ?? 0) + 1);
    try {
      const res = await api.request('GET', 'api/v1/templates');
      if (gen !== this.tplGen) return;
      const first = this.templates.options[0];
      this.templates.replaceChildren(first, ...(res?.results ?? []).map((tpl) => h('option', { value: tpl.id, text: tpl.name })));
    } catch (err) {
      this.failed(err);
    }
  }

  async insertTemplate() {
    const id = this.templates.value;
    this.templates.value = '';
    if (!id) return;
    try {
      const r = await api.request('POST', `api/v1/templates/${encodeURIComponent(id)}/render`, { threadId: this.threadId() });
      this.box.insertHTML(r.body);
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * addImages uploads images and puts each in at the caret as it was when
   * they were added, shown from its signed link; files that are no images
   * are attached to the reply instead.
   */
  addImages(files) {
    const images = files.filter((f) => IMAGE_TYPES.split(',').includes(f.type));
    const others = files.filter((f) => !images.includes(f));
    if (others.length) this.attach(others);
    const sel = window.getSelection();
    const at = sel.rangeCount && this.editor.contains(sel.getRangeAt(0).startContainer) ? sel.getRangeAt(0).cloneRange() : null;
    for (const file of images) {
      this.upload(file).then(
        (up) => {
          if (!up?.inline) {
            this.failed(new Error(t('rich.notImage', { name: file.name })));
            return;
          }
          const img = h('img', { src: up.url, alt: up.name, dataset: { fileId: String(up.id), fileName: up.name } });
          if (at && this.editor.contains(at.startContainer)) {
            at.insertNode(img);
            at.setStartAfter(img);
            at.collapse(true);
          } else {
            this.box.insert(img);
          }
        },
        (err) => this.failed(err),
      );
    }
  }

  /** value is what the editor holds: { text, html }; html is "" when the editor is off. */
  value() {
    if (!this.on) return { text: this.plain.value, html: '' };
    return { text: this.editor.innerText, html: this.box.html() };
  }

  clear() {
    this.editor.replaceChildren();
    this.plain.value = '';
  }
}

/** textOf is HTML as plain text: paragraphs apart by a blank line, line breaks kept; parsed in an inert document. */
export function textOf(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ''), 'text/html');
  const walk = (node) => {
    let out = '';
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) out += n.data;
      else if (n.nodeName === 'BR') out += '\n';
      else if (n.nodeType === Node.ELEMENT_NODE) out += /^(P|DIV|LI|BLOCKQUOTE)$/.test(n.nodeName) ? `${walk(n).trim()}\n\n` : walk(n);
    }
    return out;
  };
  return walk(doc.body).trim();
}

/** htmlOf is plain text as HTML paragraphs, every character escaped. */
export const htmlOf = (text) =>
  text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHTML(p).replace(/\n/g, '<br>')}</p>`)
    .join('');

/** openSignature edits the signed-in user's email signature, added to their email replies. */
export async function openSignature(app, opener) {
  const headId = uid('sig');
  const boxId = uid('sig-box');
  const box = h('textarea', { id: boxId, class: 'textarea', rows: '5', maxlength: '4000', dir: 'auto' });
  const status = h('p', { class: 'muted small', role: 'status' });
  const form = h(
    'form',
    {
      class: 'stack',
      onSubmit: async (e) => {
        e.preventDefault();
        try {
          await api.request('PATCH', 'api/v1/users/me', { signature: htmlOf(box.value) });
          status.textContent = t('sig.saved');
        } catch (err) {
          status.textContent = err.message;
        }
      },
    },
    h('p', { class: 'muted small', text: t('sig.hint') }),
    h('label', { for: boxId, class: 'label', text: t('sig.label') }),
    box,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-primary', text: t('sig.save') })),
    status,
  );
  dialog(headId, t('sig.title'), [form], opener);
  try {
    const me = await api.me();
    box.value = textOf(me?.signature);
  } catch (err) {
    status.textContent = err.message;
  }
  box.focus();
}
