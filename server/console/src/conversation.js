// The open conversation: its header and actions (close/reopen, assign), the
// messages (visitor left, team right, notes yellow, system events centred),
// who is typing, and the reply box (with Cc and Bcc on email), and Forward.

import { dialog } from './actions.js';
import * as api from './api.js';
import { BotControls, isBotMessage } from './bots.js';
import { h, uid } from './dom.js';
import { clock, contactName, fullDate, t } from './i18n.js';
import { linksOf } from './insert.js';
import { linkify } from './links.js';
import { MAX_FILE_BYTES, MAX_MESSAGE_FILES, channelOf, fileSize, isCustomChannel, looksLikeAddress, splitAddresses } from './model.js';
import { CaretText, RichEditor } from './richeditor.js';
import { transcriptState } from './transcript.js';

const STATE_LABEL = { away: 'conv.userAway', offline: 'conv.userOffline' };
// The labels of a record's fields in a record_updated event.
const RECORD_FIELD = { name: 'ct.name', stage: 'ct.stage', amount: 'ct.amount', owner: 'ct.owner' };

/** ConversationView shows app.open and sends what the agent writes. */
export class ConversationView {
  constructor(app) {
    this.app = app;
    this.threadId = null;
    this.items = new Map(); // key → { el, sig }
    this.el = h('main', { class: 'conv-pane', 'aria-label': t('conv.label') });
    this.bot = new BotControls(app); // Bot badge, Take over (B1, I7)
    this.show();
  }

  /** show rebuilds the pane for app.open (or the empty state). */
  show() {
    const o = this.app.open;
    this.threadId = o?.id ?? null;
    this.items.clear();
    this.head = this.log = this.msgs = this.reply = null;
    this.ccFor = undefined; // the incoming message the Cc field was filled after
    this.ccDirty = false; // the agent changed the Cc field
    this.resizer?.disconnect();
    if (!o) {
      this.el.replaceChildren(
        h('div', { class: 'conv-empty' }, h('div', { class: 'empty-art', 'aria-hidden': 'true' }), h('h2', { class: 'empty-title', text: t('conv.none') }), h('p', { class: 'muted', text: t('conv.noneHint') })),
      );
      return;
    }
    this.buildHead();
    // The log holds the list: a list element may not be a log itself.
    this.msgs = h('ol', { class: 'messages' });
    this.log = h('div', { class: 'messages-log', role: 'log', 'aria-live': 'polite', 'aria-label': t('conv.messages'), tabindex: '-1' }, this.msgs);
    this.statusEl = h('div', { class: 'conv-status' });
    this.typingEl = h('div', { class: 'typing', dir: 'auto' });
    // Stay at the bottom while the agent is there, also when heights change later.
    const scroller = h('div', { class: 'scroller', onScroll: () => (this.stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80) }, this.log, this.statusEl);
    this.scroller = scroller;
    this.stick = true;
    this.resizer = new ResizeObserver(() => {
      if (this.stick) scroller.scrollTop = scroller.scrollHeight;
    });
    this.resizer.observe(this.msgs);
    this.resizer.observe(scroller);
    this.el.replaceChildren(this.head, scroller, this.typingEl, this.buildComposer());
    this.render({ scroll: true });
  }

  buildHead() {
    const app = this.app;
    this.nameEl = h('h2', { class: 'conv-name', dir: 'auto', tabindex: '-1' });
    this.subEl = h('div', { class: 'conv-sub' });
    this.assignMeBtn = h('button', { type: 'button', class: 'btn', text: t('conv.assignMe'), 'aria-keyshortcuts': 'A', onClick: () => app.assign(app.me.actorId) });
    const selId = uid('assignee');
    this.assignSel = h('select', { id: selId, class: 'select', onChange: (e) => app.assign(e.target.value || null) });
    this.optSig = '';
    this.statusBtn = h('button', { type: 'button', class: 'btn btn-primary status-btn', 'aria-keyshortcuts': 'E', onClick: () => this.toggleStatus() });
    this.forwardBtn = h('button', { type: 'button', class: 'btn', text: t('fwd.button'), 'aria-haspopup': 'dialog', onClick: () => this.openForward() });
    const extra = app.actions.buildHead([this.forwardBtn]); // "also viewing", and the menu of forward, transcript, delete, block, spam
    this.head = h(
      'div',
      { class: 'conv-head' },
      h(
        'button',
        { type: 'button', class: 'btn btn-icon back-btn', onClick: () => app.navigate(null) },
        h('span', { class: 'icon icon-back', 'aria-hidden': 'true' }),
        h('span', { class: 'sr-only', text: t('conv.back') }),
      ),
      h('div', { class: 'conv-title' }, this.nameEl, this.subEl, extra.also, this.bot.hint),
      h(
        'div',
        { class: 'conv-actions' },
        this.bot.takeBtn,
        this.assignMeBtn,
        h('label', { for: selId, class: 'sr-only', text: t('conv.assignee') }),
        this.assignSel,
        this.statusBtn,
        extra.tools,
      ),
    );
  }

  buildComposer() {
    const app = this.app;
    const id = uid('reply');
    this.noteBox = h('input', { type: 'checkbox', role: 'switch', onChange: () => this.setNoteMode() });
    this.reply = h('textarea', {
      id,
      class: 'reply',
      rows: '2',
      dir: 'auto',
      value: app.drafts.get(this.threadId) ?? '',
      onKeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          this.submit();
        }
      },
      onInput: () => {
        if (!this.noteBox.checked && this.reply.value.trim()) app.sendTyping();
      },
    });
    // Insert: a snippet (the "#" picker), a knowledge link, the meeting link.
    // In a rich reply they work in its editor (CaretText).
    const insert = linksOf(app).menu(
      () => (this.rich.on ? this.richText : this.reply),
      () => (this.rich.on ? this.richPicker : this.picker).openWithHash(),
    );
    // Files: chosen, pasted or dropped, uploaded at once, sent with the reply.
    this.files = []; // [{ name, size, upload: { id, … } | null, error }]
    this.fileInput = h('input', {
      type: 'file',
      multiple: true,
      hidden: true,
      'aria-label': t('reply.attach'),
      onChange: () => {
        this.addFiles([...this.fileInput.files]);
        this.fileInput.value = '';
      },
    });
    this.filesEl = h('ul', { class: 'composer-files', 'aria-label': t('reply.files'), hidden: true });
    // An email reply may be rich text (Format).
    this.rich = new RichEditor(
      this.reply,
      () => this.threadId,
      (err) => this.app.failed(err),
      (file) => api.uploadFile(this.threadId, file),
      (files) => this.addFiles(files),
    );
    this.reply.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length) {
        e.preventDefault();
        this.addFiles(files);
      }
    });
    // An email reply's copies: Cc starts as the thread's current Cc.
    const ccId = uid('cc');
    const bccId = uid('bcc');
    const copyInput = (id, onInput) =>
      h('input', { id, type: 'text', class: 'copies-input', inputmode: 'email', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', onInput });
    this.ccInput = copyInput(ccId, () => (this.ccDirty = true));
    this.bccInput = copyInput(bccId);
    this.copiesEl = h(
      'div',
      { class: 'copies', hidden: true },
      h('label', { for: ccId, class: 'copies-label', text: t('reply.cc') }),
      this.ccInput,
      h('label', { for: bccId, class: 'copies-label', text: t('reply.bcc') }),
      this.bccInput,
    );
    this.form = h(
      'form',
      {
        class: 'composer',
        onSubmit: (e) => {
          e.preventDefault();
          this.submit();
        },
      },
      this.copiesEl,
      h('label', { for: id, class: 'sr-only', text: t('reply.label') }),
      this.rich.toolbar,
      this.reply,
      this.rich.editor,
      this.filesEl,
      h(
        'div',
        { class: 'composer-bar' },
        h('label', { class: 'switch switch-note' }, this.noteBox, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text: t('reply.note') })),
        insert.el,
        this.rich.toggle,
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm composer-attach', text: t('reply.attach'), onClick: () => this.fileInput.click() }),
        this.fileInput,
        h('span', { class: 'spacer' }),
        h('button', { type: 'submit', class: 'btn btn-primary', text: t('reply.send') }),
      ),
    );
    this.richText = new CaretText(this.rich.box);
    this.richPicker = app.snippets.attach(this.richText, this.form);
    this.picker = app.snippets.attach(this.reply, this.form); // "#" inserts a snippet
    this.form.addEventListener('dragover', (e) => {
      if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
    });
    this.form.addEventListener('drop', (e) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      this.addFiles(files);
    });
    this.setNoteMode();
    return this.form;
  }

  /** addFiles uploads files for the next reply and lists them in the composer. */
  addFiles(files) {
    const threadId = this.threadId;
    for (const file of files) {
      if (this.files.length >= MAX_MESSAGE_FILES) {
        this.app.shell.toast(t('reply.tooManyFiles', { n: MAX_MESSAGE_FILES }));
        break;
      }
      if (file.size > MAX_FILE_BYTES) {
        this.app.shell.toast(t('reply.fileTooLarge', { name: file.name }));
        continue;
      }
      const f = { name: file.name, size: file.size, upload: null, error: '' };
      this.files.push(f);
      api.uploadFile(threadId, file).then(
        (up) => {
          f.upload = up;
          this.renderFiles();
        },
        (err) => {
          f.error = err.message;
          this.renderFiles();
        },
      );
    }
    this.renderFiles();
  }

  renderFiles() {
    const el = this.filesEl;
    el.replaceChildren(
      ...this.files.map((f) =>
        h(
          'li',
          { class: `composer-file${f.error ? ' is-failed' : f.upload ? '' : ' is-pending'}` },
          h('span', { class: 'composer-file-name', dir: 'auto', text: f.name }),
          h('span', { class: 'composer-file-state', text: f.error ? t('reply.uploadFailed', { reason: f.error }) : f.upload ? fileSize(f.size) : t('reply.uploading') }),
          h('button', {
            type: 'button',
            class: 'btn btn-ghost btn-sm',
            text: '×',
            'aria-label': t('reply.removeFile', { name: f.name }),
            onClick: () => {
              this.files = this.files.filter((x) => x !== f);
              this.renderFiles();
              this.reply.focus();
            },
          }),
        ),
      ),
    );
    el.hidden = !this.files.length;
  }

  /** isEmail reports whether the open thread is an email thread. */
  isEmail() {
    const th = this.app.threads.get(this.threadId);
    return !!th && channelOf(th) === 'email';
  }

  setNoteMode() {
    const note = this.noteBox.checked;
    this.form.classList.toggle('note-mode', note);
    this.copiesEl.hidden = note || !this.isEmail();
    // Rich text is for email replies; a note or a chat reply is plain.
    if (note || !this.isEmail()) this.rich.set(false);
    this.rich.toggle.hidden = note || !this.isEmail();
    const th = this.app.threads.get(this.threadId);
    this.reply.placeholder = note ? t('reply.notePlaceholder') : t('reply.placeholder', { name: contactName(th) });
  }

  submit() {
    const { text, html } = this.rich.value();
    if (this.files.some((f) => !f.upload && !f.error)) {
      this.app.shell.toast(t('reply.stillUploading'));
      return;
    }
    const files = this.files.filter((f) => f.upload).map((f) => f.upload);
    if (!text.trim() && !files.length && !html.includes('<img')) return;
    if (this.bot.blocksReply(this.app.threads.get(this.threadId), this.noteBox.checked)) return;
    let copies;
    if (!this.noteBox.checked && this.isEmail()) {
      const cc = splitAddresses(this.ccInput.value);
      const bcc = splitAddresses(this.bccInput.value);
      const bad = [...cc, ...bcc].find((a) => !looksLikeAddress(a));
      if (bad) {
        this.app.shell.toast(t('reply.badAddress', { address: bad }));
        (cc.includes(bad) ? this.ccInput : this.bccInput).focus();
        return;
      }
      copies = { cc, bcc };
    }
    if (this.app.sendReply(text, this.noteBox.checked ? 'COMMENT' : 'MESSAGE', copies, files, html)) {
      this.rich.clear();
      this.files = [];
      this.renderFiles();
      if (copies) {
        this.bccInput.value = ''; // Bcc is for one reply; Cc stays the thread's
        this.ccDirty = false;
      }
    }
  }

  /** loadCopies fills the Cc field with the thread's current Cc, unless the agent has changed it. */
  async loadCopies() {
    const id = this.threadId;
    try {
      const r = await api.replyRecipients(id);
      if (id !== this.threadId || this.ccDirty) return;
      this.ccInput.value = (r?.cc ?? []).map((a) => a.email).join(', ');
    } catch (err) {
      this.app.failed(err);
    }
  }

  /** openForward asks where to forward the open conversation, with a note, and sends it. */
  openForward() {
    const app = this.app;
    const threadId = this.threadId;
    if (!threadId) return;
    const headId = uid('fwd');
    const toId = uid('fwdto');
    const hintId = uid('fwdhint');
    const noteId = uid('fwdnote');
    const to = h('input', { id: toId, type: 'text', inputmode: 'email', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', required: true, 'aria-describedby': hintId });
    const note = h('textarea', { id: noteId, rows: '4', dir: 'auto' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', text: t('fwd.button') });
    const clientId = `fw-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const form = h(
      'form',
      {
        class: 'forward-form',
        onSubmit: async (e) => {
          e.preventDefault();
          const list = splitAddresses(to.value);
          const bad = list.find((a) => !looksLikeAddress(a));
          if (!list.length || bad) {
            error.textContent = t('reply.badAddress', { address: bad ?? to.value });
            to.focus();
            return;
          }
          send.disabled = true;
          error.textContent = '';
          try {
            await api.forward(threadId, list, note.value, clientId);
            dlg.close();
            app.shell.toast(t('fwd.sent', { to: list.join(', ') }));
          } catch (err) {
            if (!app.failed(err)) error.textContent = t('fwd.failed', { reason: err?.message || '' });
            send.disabled = false;
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: toId, text: t('fwd.to') }), to, h('p', { id: hintId, class: 'muted small', text: t('fwd.toHint') })),
      h('div', { class: 'field' }, h('label', { for: noteId, text: t('fwd.note') }), note),
      error,
      h('div', { class: 'dialog-actions' }, send),
    );
    const dlg = dialog(headId, t('fwd.title'), [form], app.actions.moreBtn);
    to.focus();
  }

  saveDraft() {
    if (this.threadId && this.reply) {
      if (this.reply.value) this.app.drafts.set(this.threadId, this.reply.value);
      else this.app.drafts.delete(this.threadId);
    }
  }

  toggleStatus() {
    const th = this.app.threads.get(this.threadId);
    if (!th || this.bot.blocksStatus(th)) return;
    this.statusBtn.disabled = true;
    this.app.setThreadStatus(th.status === 'CLOSED' ? 'OPEN' : 'CLOSED').finally(() => {
      this.statusBtn.disabled = false;
    });
  }

  render({ scroll = false } = {}) {
    if (!this.threadId) return;
    // An email conversation reads like mail: each message a card with its
    // sender, recipients and full date, not a chat bubble.
    this.msgs?.classList.toggle('mail', this.isEmail());
    this.renderHeader();
    this.renderMessages({ scroll });
    this.renderTyping();
  }

  renderHeader() {
    if (!this.head) return;
    const app = this.app;
    const o = app.open;
    const th = app.threads.get(this.threadId);
    this.nameEl.textContent = (th?.contactName || o?.state !== 'loading') ? contactName(th) : '';
    const actions = this.head.querySelector('.conv-actions');
    actions.hidden = !th;
    app.actions.renderHead(th);
    if (!th) {
      this.subEl.replaceChildren();
      return;
    }
    const channel = channelOf(th);
    const custom = isCustomChannel(th.originalChannelId) ? app.channelName(th.originalChannelId) : '';
    // replaceChildren writes null as the text "null": leave the absent out.
    const parts = [
      channel === 'email' && th.subject ? h('span', { class: 'conv-subject', dir: 'auto', text: th.subject }) : null,
      h('span', { class: `chip chip-${channel}`, text: custom || t(`channel.${channel}`) }),
      h('span', { class: `chip chip-${th.status.toLowerCase()}`, text: t(`status.${th.status}`) }),
      ...this.bot.chips(th),
      ...app.actions.chips(th),
      th.createdAt ? h('span', { class: 'muted', title: fullDate(th.createdAt), text: t('conv.started', { time: clock(th.createdAt) }) }) : null,
    ];
    this.subEl.replaceChildren(...parts.filter(Boolean));
    this.statusBtn.textContent = th.status === 'CLOSED' ? t('conv.reopen') : t('conv.close');
    this.statusBtn.classList.toggle('btn-primary', th.status !== 'CLOSED');
    this.assignMeBtn.hidden = th.assignedTo === app.me.actorId;
    this.bot.render(th, this); // the bot's owning disables close, assign and replies

    // Rebuild the options only when they change, so an open picker stays open.
    // Only members of the thread's inbox may be assigned (the server refuses others).
    const members = app.inboxes?.find((i) => i.id === th.inboxId)?.memberIds?.map(String);
    const users = [...app.users.values()].filter((u) => !u.deactivated && (!members || members.includes(String(u.id)))).sort((a, b) => a.name.localeCompare(b.name));
    const opts = [['', t('conv.unassigned')]];
    for (const u of users) {
      const state = app.presence.get(u.actorId) || 'offline';
      const label = u.actorId === app.me.actorId ? t('conv.you', { name: u.name }) : STATE_LABEL[state] ? t(STATE_LABEL[state], { name: u.name }) : u.name;
      opts.push([u.actorId, label]);
    }
    if (th.assignedTo && !app.users.has(th.assignedTo)) opts.push([th.assignedTo, th.assignedTo]);
    const sig = JSON.stringify(opts);
    if (sig !== this.optSig) {
      this.optSig = sig;
      this.assignSel.replaceChildren(...opts.map(([value, text]) => h('option', { value, text })));
    }
    this.assignSel.value = th.assignedTo || '';
    if (this.reply && !this.form.classList.contains('note-mode')) this.setNoteMode();
  }

  /** renderMessages brings the list up to date; scroll forces it to the bottom. */
  renderMessages({ scroll = false } = {}) {
    if (!this.msgs) return;
    const app = this.app;
    const o = app.open;

    this.log.setAttribute('aria-busy', String(o.state === 'loading'));
    const list = [...o.messages.values()].sort((a, b) => a.seq - b.seq || String(a.createdAt).localeCompare(String(b.createdAt)));
    const pending = app.outbox.forThread(o.id);
    const keys = new Set();
    let prev = null;
    const place = (key, sig, build) => {
      keys.add(key);
      let it = this.items.get(key);
      if (!it || it.sig !== sig) {
        const el = build();
        if (it) it.el.replaceWith(el);
        it = { el, sig };
        this.items.set(key, it);
      }
      const want = prev ? prev.nextSibling : this.msgs.firstChild;
      if (want !== it.el) this.msgs.insertBefore(it.el, want);
      prev = it.el;
    };
    // A message's look changes only with the names it shows (users load late).
    // and with an email reply's delivery.
    const sig = (m) => [this.senderName(m), app.users.get(m.assignedTo)?.name ?? '', m.delivery?.status ?? '', m.delivery?.error ?? '', this.contactActor()].join('|');
    for (const m of list) place(`m${m.id}`, sig(m), () => this.messageEl(m));
    // The Cc field follows the contact's latest mail (and the thread's Cc).
    if (this.reply && this.isEmail() && o.state !== 'loading') {
      const latestIn = list.findLast((m) => m.type === 'MESSAGE' && m.direction === 'INCOMING')?.id ?? '';
      if (latestIn !== this.ccFor) {
        this.ccFor = latestIn;
        if (!this.ccDirty) this.loadCopies();
      }
    }
    for (const p of pending) place(`p${p.clientId}`, p.error ?? '', () => this.pendingEl(p));
    for (const [key, it] of this.items) {
      if (!keys.has(key)) {
        it.el.remove();
        this.items.delete(key);
      }
    }

    let status = null;
    if (o.state === 'loading') status = h('p', { class: 'muted', text: t('conv.loading') });
    else if (o.state === 'notfound') status = h('p', { role: 'alert', text: t('conv.notFound') });
    else if (o.state === 'error') status = h('p', { role: 'alert', text: t('conv.failed') });
    else if (!list.length && !pending.length) status = h('p', { class: 'muted', text: t('conv.empty') });
    this.statusEl.replaceChildren(...(status ? [status] : []));
    if (scroll) this.stick = true;
    if (this.stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  senderName(m) {
    const app = this.app;
    if (m.name) return m.name;
    const u = app.users.get(m.actorId);
    if (u) return u.name;
    if (m.direction === 'INCOMING') return contactName(app.threads.get(this.threadId));
    return m.actorId || t('sys.someone');
  }

  /** contactActor is the actor id of the open thread's contact ('' if unknown). */
  contactActor() {
    const id = this.app.threads.get(this.threadId)?.associatedContactId;
    return id ? `V-${id}` : '';
  }

  messageEl(m) {
    if (m.type === 'THREAD_STATUS_CHANGE' || m.type === 'ASSIGNMENT' || m.type === 'SYSTEM') return this.systemEl(m);
    const out = m.direction === 'OUTGOING' || m.type === 'COMMENT';
    // An email message says who wrote it by address too; someone who is not
    // the conversation's contact (a colleague in CC, a stranger) is marked.
    const contact = this.contactActor();
    const stranger = !!m.address && m.direction === 'INCOMING' && !!contact && m.actorId.startsWith('V-') && m.actorId !== contact;
    const el = this.bubble({
      out,
      note: m.type === 'COMMENT',
      name: m.actorId === this.app.me.actorId ? this.app.me.name : this.senderName(m),
      address: m.address,
      stranger,
      time: m.createdAt,
      text: m.text,
      recipients: m.recipients,
      files: m.files,
      extra: m.quickReplies?.length
        ? h('ul', { class: 'msg-quick', 'aria-label': t('bots.pvReplies') }, m.quickReplies.map((q) => h('li', { dir: 'auto', text: q })))
        : this.deliveryEl(m),
    });
    if (m.html) el.append(this.htmlToggle(m));
    if (isBotMessage(m)) el.classList.add('msg-bot');
    if (stranger) el.classList.add('msg-stranger');
    if (m.delivery) el.classList.add(`is-delivery-${m.delivery.status.toLowerCase()}`);
    return el;
  }

  /** deliveryEl says how sending an email reply went; a failed one offers Retry. */
  deliveryEl(m) {
    const d = m.delivery;
    if (!d || !d.status) return null;
    if (d.status === 'SENT') return h('div', { class: 'msg-state msg-delivery', text: t('msg.deliverySent') });
    if (d.status === 'READ') return h('div', { class: 'msg-state msg-delivery', text: t('msg.deliveryRead') });
    if (d.status === 'FAILED' && isCustomChannel(m.channelId)) {
      // The channel's integration sends it: Parley cannot send it again.
      return h('div', { class: 'msg-state msg-failed msg-delivery', text: d.error ? t('msg.deliveryFailed', { reason: d.error }) : t('msg.deliveryFailedPlain') });
    }
    if (d.status === 'FAILED') {
      return h(
        'div',
        { class: 'msg-state msg-failed msg-delivery' },
        h('span', { text: d.error ? t('msg.deliveryFailed', { reason: d.error }) : t('msg.deliveryFailedPlain') }),
        h('button', { type: 'button', class: 'btn btn-sm', text: t('msg.retry'), onClick: () => this.app.retryDelivery(m) }),
      );
    }
    return h('div', { class: 'msg-state msg-delivery', text: d.error ? t('msg.deliveryRetrying', { reason: d.error }) : t('msg.deliveryPending') });
  }

  pendingEl(p) {
    const app = this.app;
    const status = p.error
      ? h(
          'div',
          { class: 'msg-state msg-failed' },
          h('span', { text: t('msg.failed', { reason: p.error }) }),
          h('button', { type: 'button', class: 'btn btn-sm', text: t('msg.retry'), onClick: () => app.retrySend(p.clientId) }),
          h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('msg.discard'), onClick: () => app.discardSend(p.clientId) }),
        )
      : h('div', { class: 'msg-state', text: t('msg.sending') });
    const el = this.bubble({ out: true, note: p.messageType === 'COMMENT', name: app.me.name, time: p.createdAt, text: p.text, files: p.files, extra: status });
    el.classList.add(p.error ? 'is-failed' : 'is-pending');
    return el;
  }

  /** recipientsEl lists who an email message went to: To, Cc and, for the team only, Bcc. */
  recipientsEl(rs) {
    if (!rs?.length) return null;
    const line = (field, key) => {
      const list = rs.filter((r) => r.field === field).map((r) => (r.name ? `${r.name} <${r.email}>` : r.email));
      return list.length ? h('span', { class: `msg-rcpt msg-rcpt-${field.toLowerCase()}`, dir: 'auto', text: t(key, { list: list.join(', ') }) }) : null;
    };
    return h('div', { class: 'msg-rcpts' }, line('TO', 'msg.to'), line('CC', 'msg.cc'), line('BCC', 'msg.bcc'));
  }

  /**
   * htmlToggle shows and hides an email's HTML, as Parley lets it through, in
   * a frame: no script runs in it, remote images wait for the agent's say-so
   * (a line in the frame offers to load them).
   */
  htmlToggle(m) {
    const wrap = h('div', { class: 'msg-html' });
    const btn = h('button', {
      type: 'button',
      class: 'btn btn-ghost btn-sm',
      'aria-expanded': 'false',
      text: t('msg.showHtml'),
      onClick: () => {
        const open = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', String(open));
        btn.textContent = t(open ? 'msg.hideHtml' : 'msg.showHtml');
        if (!open) {
          wrap.querySelector('iframe')?.remove();
          return;
        }
        const frame = h('iframe', {
          class: 'msg-html-frame',
          title: t('msg.htmlTitle'),
          sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
          referrerpolicy: 'no-referrer',
          src: new URL(`api/v1/threads/${encodeURIComponent(m.threadId)}/messages/${encodeURIComponent(m.id)}/html`, api.BASE).href,
        });
        const fit = () => {
          const doc = frame.contentDocument;
          if (doc?.documentElement) frame.style.height = `${Math.min(doc.documentElement.scrollHeight + 4, 2000)}px`;
        };
        frame.addEventListener('load', () => {
          fit();
          // Images arrive after the document: fit again as they do.
          frame.contentDocument?.querySelectorAll('img').forEach((img) => img.addEventListener('load', fit));
        });
        wrap.append(frame);
      },
    });
    wrap.prepend(btn);
    return wrap;
  }

  /** fileList shows a message's files: images Parley checked as thumbnails, the rest as links with their size. */
  fileList(files) {
    if (!files?.length) return null;
    return h(
      'ul',
      { class: 'msg-files', 'aria-label': t('msg.files') },
      files.map((f) =>
        f.inline
          ? h(
              'li',
              { class: 'msg-file msg-file-image' },
              h('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer' }, h('img', { src: f.url, alt: f.name, loading: 'lazy', ...(f.width ? { width: String(Math.min(f.width, 240)) } : {}) })),
            )
          : h(
              'li',
              { class: 'msg-file' },
              h('a', { href: f.url, download: f.name, rel: 'noopener noreferrer' }, h('span', { class: 'msg-file-name', dir: 'auto', text: f.name }), f.size ? h('span', { class: 'msg-file-size', text: fileSize(f.size) }) : null),
            ),
      ),
    );
  }

  bubble({ out, note, name, address, stranger, time, text, recipients, files, extra }) {
    return h(
      'li',
      { class: `msg ${out ? 'msg-out' : 'msg-in'}${note ? ' msg-note' : ''}` },
      h(
        'div',
        { class: 'msg-meta' },
        h('span', { class: 'msg-author', dir: 'auto', text: name }),
        address ? h('span', { class: 'msg-address', dir: 'ltr', text: `<${address}>` }) : null,
        stranger ? h('span', { class: 'msg-stranger-note', text: t('msg.notContact') }) : null,
        note ? h('span', { class: 'note-label', text: t('msg.note') }) : null,
        h('time', { class: 'msg-time', datetime: time, title: fullDate(time), text: this.isEmail() ? fullDate(time) : clock(time) }),
      ),
      this.recipientsEl(recipients),
      text ? h('div', { class: 'msg-bubble' }, h('p', { class: 'msg-text', dir: 'auto' }, linkify(text))) : null,
      this.fileList(files),
      extra,
    );
  }

  systemEl(m) {
    const app = this.app;
    const who = m.actorId && !m.actorId.startsWith('S-') ? this.senderName(m) : '';
    let text;
    if (m.type === 'SYSTEM' && m.event === 'forwarded') {
      return this.forwardEl(m, who);
    } else if (m.type === 'SYSTEM' && m.event === 'record_updated') {
      text = this.recordUpdateText(m, who);
    } else if (m.type === 'SYSTEM') {
      text = app.actions.systemText(m, who);
    } else if (m.type === 'THREAD_STATUS_CHANGE') {
      const closed = m.newStatus === 'CLOSED';
      text = who ? t(closed ? 'sys.closedBy' : 'sys.reopenedBy', { name: who }) : t(closed ? 'sys.closed' : 'sys.reopened');
    } else if (m.assignedTo) {
      const assignee = app.users.get(m.assignedTo)?.name || m.assignedTo;
      text = who ? t('sys.assignedBy', { name: who, assignee }) : t('sys.assigned', { assignee });
    } else {
      text = who ? t('sys.unassignedBy', { name: who }) : t('sys.unassigned');
    }
    // A transcript sent by hand says how its sending goes.
    const sending = m.event === 'transcript_sent' && m.delivery ? [' · ', h('span', { class: 'msg-delivery', text: transcriptState(m.delivery) })] : null;
    return h('li', { class: 'msg-system' }, h('span', { text }), ' · ', h('time', { datetime: m.createdAt, title: fullDate(m.createdAt), text: clock(m.createdAt) }), sending);
  }

  /** forwardEl is the line for a forwarded conversation: who sent it to whom, the note, how sending went. */
  forwardEl(m, who) {
    const to = m.recipients.map((r) => r.email).join(', ');
    return h(
      'li',
      { class: 'msg-system msg-forward' },
      h('span', { dir: 'auto', text: t('sys.forwarded', { name: who || t('sys.someone'), to }) }),
      ' · ',
      h('time', { datetime: m.createdAt, title: fullDate(m.createdAt), text: clock(m.createdAt) }),
      m.text ? h('p', { class: 'msg-forward-note', dir: 'auto', text: m.text }) : null,
      this.deliveryEl(m),
    );
  }

  /** recordUpdateText is the line for a ticket or deal changed (R5): its text is "kind: name", its changes say how. */
  recordUpdateText(m, who) {
    const [, kind, record] = /^(ticket|deal): ([\s\S]*)$/.exec(m.text) ?? [null, '', m.text];
    const value = (field, v) => {
      if (!v) return t('rec.empty');
      if (field === 'stage') return t(`ct.stage.${v}`);
      if (field === 'owner') return this.app.users.get(v)?.name || v;
      return v;
    };
    const changes = m.changes
      .map((c) => t('rec.change', { field: t(RECORD_FIELD[c.field] ?? c.field), from: value(c.field, c.from), to: value(c.field, c.to) }))
      .join('; ');
    return t(changes ? 'rec.updated' : 'rec.updatedPlain', {
      name: who || t('sys.someone'),
      kind: kind ? t(`ct.kind.${kind}`) : t('rec.record'),
      record,
      changes,
    });
  }

  renderTyping() {
    if (!this.typingEl) return;
    const who = this.app.typingIn(this.threadId);
    const names = who.map((w) => w.name).filter(Boolean);
    this.typingEl.textContent = !who.length ? '' : names.length ? t('typing.named', { name: names.join(', ') }) : t('typing.anon');
  }

  owns(el) {
    return !!this.reply && el === this.reply;
  }

  focusReply() {
    this.reply?.focus();
  }

  /** leave moves focus out of the reply box: to the list's cursor row, else the title. */
  leave() {
    if (!this.app.list.focusCursor()) this.focusTitle();
  }

  focusTitle() {
    this.nameEl?.focus();
  }
}
