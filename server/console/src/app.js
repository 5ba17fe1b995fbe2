// Parley agent console: entry point. Signs in, then runs one Console (state,
// live connection, routing and actions) until the session ends.

import { ThreadActions, mountTools } from './actions.js';
import * as api from './api.js';
import { ContactPage } from './contactpage.js';
import { ConversationView } from './conversation.js';
import { isTextTarget, newClientId } from './dom.js';
import { lang, t } from './i18n.js';
import { ThreadList } from './list.js';
import { Notifier } from './notify.js';
import { Outbox, SeenStore, activity, normMessage, normThread, normUser, parseRoute, pref, sendFrame, setPref, threadPath } from './model.js';
import { onPeopleEvent } from './people.js';
import { Settings } from './settings.js';
import { Shell } from './shell.js';
import { ContactSidebar } from './sidebar.js';
import { SearchBox } from './search.js';
import { renderSignIn } from './signin.js';
import { Snippets } from './snippets.js';
import { AgentSocket } from './socket.js';
import { LIST_VIEWS, ViewCounts, byLatest, inList, listParams, loadFilters, setListView } from './views.js';

// The bundle's one export: the link rules, for the browser tests, which
// import the page's own module again (the same instance) to reach them.
export { linkify } from './links.js';

const MAX_TEXT_BYTES = 16 * 1024;
const TYPING_EVERY = 2000; // ms between our typing events
const TYPING_SHOWN = 5000; // ms a typing hint stays without a new event
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * Console is one signed-in session of the agent console. Views read its
 * state and call its actions; socket events and REST answers update the
 * state and ask the views to render.
 */
class Console {
  constructor(root, me, { onEnded }) {
    this.root = root;
    this.me = normUser(me);
    this.onEnded = onEnded;
    this.users = new Map(); // actorId → user
    this.presence = new Map(); // actorId → online | away | offline
    this.inboxes = null; // null until loaded
    this.channelNames = new Map(); // custom channels' names by id
    this.inboxId = pref('inbox') || '';
    this.status = 'OPEN';
    this.view = LIST_VIEWS.includes(pref('view')) ? pref('view') : 'all';
    this.filters = loadFilters(); // channel, assignee, date range (views.js)
    this.threads = new Map(); // id → thread: the list's threads and the open one
    this.touched = new Set(); // threads changed live while the list was loading
    this.nextAfter = null;
    this.listState = 'loading'; // loading | ready | error
    this.listGen = 0; // loads started
    this.appliedGen = 0; // the newest load shown
    this.open = null; // { id, messages: Map, lastSeq, state: loading|ready|notfound|error }
    this.seen = new SeenStore(this.me.id);
    this.outbox = new Outbox(this.me.id);
    this.typing = new Map(); // threadId → Map actorId → { name, until }
    this.drafts = new Map(); // threadId → unsent text
    this.lastTypingSent = 0;
    this.conn = 'connecting';
    this.fetching = new Set(); // thread ids being fetched after an unknown thread's event
    this.ended = false;
    this.timers = new Set();

    this.socket = new AgentSocket({
      hello: () => this.hello(),
      onEvent: (ev) => this.onEvent(ev),
      onState: (s) => this.onConnState(s),
      onUnauthorized: () => this.sessionEnded(),
      checkAuth: () => api.me().then(() => true, (err) => err.status !== 401),
    });
    this.actions = new ThreadActions(this);
    this.snippets = new Snippets(this);
    this.notifier = new Notifier(this);
    this.counts = new ViewCounts(this); // the sidebar's live counts
    this.search = new SearchBox(this);
    this.shell = new Shell(this);
    this.list = new ThreadList(this);
    this.conv = new ConversationView(this);
    this.sidebar = new ContactSidebar(this); // the contact beside the conversation
    this.contactPage = new ContactPage(this); // /contacts/{id}
    this.settings = new Settings(this); // /settings/{section}, admins only

    this.onPopState = () => {
      this.showThread(parseRoute());
      this.contactPage.route();
      this.settings.route();
    };
    this.onKeyDown = (e) => this.keydown(e);
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.open) this.markSeen(this.open.id);
    };
  }

  // ----- life cycle -----

  start() {
    this.shell.mount(this.root);
    mountTools(this, this.shell.nav);
    this.notifier.mount(this.shell.el);
    window.addEventListener('popstate', this.onPopState);
    document.addEventListener('keydown', this.onKeyDown);
    document.addEventListener('visibilitychange', this.onVisible);
    this.every(30000, () => this.list.render()); // relative times
    this.socket.start();
    this.showThread(parseRoute());
    this.contactPage.route();
    this.settings.route();
    this.loadUsers();
    this.loadList(); // loads the inboxes first
    this.loadChannels();
  }

  destroy() {
    this.ended = true;
    this.notifier.destroy();
    this.actions.destroy();
    this.socket.stop();
    for (const id of this.timers) clearTimeout(id); // clears intervals too: one id pool
    this.timers.clear();
    window.removeEventListener('popstate', this.onPopState);
    document.removeEventListener('keydown', this.onKeyDown);
    document.removeEventListener('visibilitychange', this.onVisible);
    document.title = t('app.title');
  }

  every(ms, fn) {
    this.timers.add(setInterval(fn, ms));
  }

  later(ms, fn) {
    const id = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
  }

  sessionEnded() {
    if (this.ended) return;
    this.destroy();
    this.onEnded(t('signin.expired'));
  }

  /** failed handles a failed call: true when it ended the session (401). */
  failed(err, key) {
    if (err?.status === 401) {
      this.sessionEnded();
      return true;
    }
    if (key) this.shell.toast(err?.status === 0 ? t('err.network') : `${t(key)} ${err?.status >= 500 || !err?.message ? '' : err.message}`.trim());
    return false;
  }

  // ----- loading -----

  /** channelName is the name of a custom channel, '' until the channels are loaded. */
  channelName(id) {
    return this.channelNames.get(String(id)) ?? '';
  }

  async loadChannels() {
    try {
      const res = await api.channels();
      this.channelNames = new Map((res?.results ?? []).map((c) => [String(c.id), String(c.name)]));
      this.shell.render();
    } catch (err) {
      this.failed(err);
    }
  }

  async loadInboxes() {
    try {
      const res = await api.inboxes();
      this.inboxes = (res?.results ?? []).map((i) => ({ ...i, id: String(i.id) }));
      if (!this.inboxes.some((i) => i.id === this.inboxId)) this.inboxId = this.inboxes[0]?.id ?? '';
      this.counts.load();
    } catch (err) {
      if (this.failed(err)) return;
      this.inboxes = null;
    }
    this.shell.render();
  }

  async loadUsers() {
    try {
      const res = await api.users();
      for (const raw of res?.results ?? []) {
        const u = normUser(raw);
        this.users.set(u.actorId, u);
        if (u.state && !this.presence.has(u.actorId)) this.presence.set(u.actorId, u.state);
      }
    } catch (err) {
      if (this.failed(err)) return;
    }
    if (!this.users.has(this.me.actorId)) this.users.set(this.me.actorId, this.me);
    this.shell.render();
    this.conv.render();
  }

  /**
   * loadList lists the threads again. Loads can overlap (start-up and the
   * first ready both list): the newest answer for the current inbox and
   * status wins, and an older one that lands late is dropped.
   */
  async loadList() {
    const gen = ++this.listGen;
    if (this.inboxes === null) await this.loadInboxes();
    if (this.ended) return;
    const key = this.listKey();
    if (gen === this.listGen) this.touched.clear();
    if (this.listState !== 'ready') {
      this.listState = 'loading';
      this.list.render();
    }
    const current = () => key === this.listKey() && gen > this.appliedGen;
    try {
      const res = await api.threads({ inboxId: this.inboxId, status: this.status, ...listParams(this) });
      if (!current()) return;
      this.appliedGen = gen;
      const old = this.threads;
      this.threads = new Map();
      for (const raw of res?.results ?? []) this.putThread(raw);
      // Keep the open thread, and what changed live while this page was in flight.
      for (const id of [...this.touched, this.open?.id]) if (id && old.has(id)) this.threads.set(id, old.get(id));
      this.nextAfter = res?.paging?.next?.after ?? null;
      this.listState = 'ready';
    } catch (err) {
      if (!current() || this.failed(err)) return;
      this.appliedGen = gen;
      this.listState = 'error';
    }
    this.render();
  }

  listKey() {
    return `${this.inboxId}|${this.status}|${this.view}|${JSON.stringify(this.filters)}`;
  }

  async loadMore() {
    const after = this.nextAfter;
    if (!after) return;
    try {
      const res = await api.threads({ inboxId: this.inboxId, status: this.status, after, ...listParams(this) });
      if (after !== this.nextAfter) return; // the list was loaded again meanwhile
      for (const raw of res?.results ?? []) if (!this.threads.has(String(raw.id))) this.putThread(raw);
      this.nextAfter = res?.paging?.next?.after ?? null;
    } catch (err) {
      this.failed(err, 'list.failed');
    }
    this.render();
  }

  /** fetchThread loads a thread an event named before we knew it. */
  async fetchThread(id) {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    try {
      const raw = await api.thread(id);
      if (raw) this.putThread(raw, true);
      this.render();
    } catch (err) {
      this.failed(err);
    } finally {
      this.fetching.delete(id);
    }
  }

  putThread(raw, live = false) {
    const id = String(raw.id);
    const th = normThread(raw, this.threads.get(id));
    this.threads.set(id, th);
    if (live) this.touched.add(id);
    return th;
  }

  /** listed returns the threads the list shows, in order. */
  /** listed returns the threads the list shows, in order: those the server listed for the view and filters, and live changes that match them (views.js). */
  listed() {
    const out = [];
    for (const th of this.threads.values()) if (inList(this, th)) out.push(th);
    return out.sort(byLatest);
  }

  isUnread(th) {
    return this.seen.isUnread(th) && !(this.open?.id === th.id && this.open.state === 'ready');
  }

  markSeen(id) {
    const th = this.threads.get(id);
    const seq = Math.max(th?.lastSeq ?? 0, this.open?.id === id ? this.open.lastSeq : 0);
    if (seq) this.seen.mark(id, seq);
  }

  render() {
    this.list.render();
    this.sidebar.render();
    this.contactPage.route();
    this.shell.renderViews();
    this.conv.renderHeader();
    const n = this.listed().filter((th) => this.isUnread(th)).length;
    document.title = n ? t('title.unread', { n }) : t('app.title');
  }

  // ----- navigation -----

  navigate(id) {
    const path = id ? threadPath(id) : api.BASE.pathname;
    if (location.pathname !== path) history.pushState(null, '', path);
    this.showThread(id);
    this.settings.route();
  }

  /** keepFocus moves focus to a visible place when the pane holding it went away. */
  keepFocus() {
    const a = document.activeElement;
    if (a && a !== document.body && a.isConnected && a.checkVisibility?.() !== false) return;
    if (this.open && this.list.isHidden()) this.conv.focusTitle();
    else this.list.focusCursor();
  }

  async showThread(id) {
    if ((this.open?.id ?? null) === (id ?? null)) return;
    this.conv.saveDraft();
    const o = id ? { id, messages: new Map(), lastSeq: 0, state: 'loading' } : null;
    this.open = o;
    this.shell.setThreadOpen(!!o);
    this.list.cursorTo(id);
    this.conv.show();
    this.actions.sendViewing();
    this.render();
    this.keepFocus();
    if (o) await this.loadThread(o);
  }

  async loadThread(o) {
    try {
      const [raw, msgs] = await Promise.all([api.thread(o.id), api.messages(o.id)]);
      if (this.open !== o) return;
      if (raw) this.putThread(raw);
      for (const m of msgs) this.addMessage(o, normMessage(m));
      o.state = 'ready';
      this.markSeen(o.id);
    } catch (err) {
      if (this.open !== o || this.failed(err)) return;
      o.state = err.status === 404 ? 'notfound' : 'error';
    }
    this.conv.render({ scroll: true });
    this.render();
  }

  /** refetchMessages fills a gap in the open thread's seq numbers. */
  refetchMessages() {
    const o = this.open;
    if (!o || o.refetching) return;
    o.refetching = true;
    api.messages(o.id).then(
      (msgs) => {
        o.refetching = false;
        if (this.open !== o) return;
        for (const m of msgs) this.addMessage(o, normMessage(m));
        this.conv.renderMessages();
      },
      (err) => {
        o.refetching = false;
        this.failed(err);
      },
    );
  }

  addMessage(o, m) {
    if (m.clientId) this.outbox.delete(m.clientId);
    if (o.messages.has(m.id)) return false;
    const d = o.deliveries?.get(m.id);
    if (d) {
      m.delivery = d;
      o.deliveries.delete(m.id);
    }
    o.messages.set(m.id, m);
    if (m.seq > o.lastSeq) o.lastSeq = m.seq;
    return true;
  }

  // ----- live events -----

  hello() {
    const o = this.open;
    const ev = { type: 'hello' };
    if (o && o.state === 'ready') ev.resume = [{ threadId: o.id, lastSeq: o.lastSeq }];
    return ev;
  }

  onConnState(s) {
    this.conn = s;
    this.shell.renderConn();
    this.shell.renderMe();
  }

  onEvent(ev) {
    this.counts.onEvent(ev); // refetches the view counts, debounced
    this.notifier.onEvent(ev);
    this.sidebar.onEvent(ev); // contact.updated, records.updated
    this.contactPage.onEvent(ev);
    switch (ev.type) {
      case 'ready':
        return this.onReady(ev);
      case 'message.created':
        return ev.message && this.onMessage(ev.message);
      case 'message.ack':
        if (ev.clientId) this.outbox.delete(ev.clientId);
        if (ev.message) this.onMessage({ clientId: ev.clientId, ...ev.message });
        else this.conv.renderMessages();
        return;
      case 'message.delivery':
        return this.onDelivery(ev);
      case 'thread.created':
      case 'thread.updated':
        return ev.thread && this.onThread(ev.thread);
      case 'thread.deleted':
        return ev.threadId && this.onThreadDeleted(String(ev.threadId));
      case 'typing':
        return this.onTyping(ev);
      case 'viewers':
        return this.actions.onViewers(ev);
      case 'inbox.created':
      case 'inbox.updated':
      case 'inbox.deleted':
      case 'user.updated':
        return onPeopleEvent(this, ev);
      case 'presence':
        return this.setPresence(ev.users);
      case 'error':
        return this.onSocketError(ev);
      default:
    }
  }

  onReady(ev) {
    if (ev.user) {
      this.me = normUser({ ...this.me, ...ev.user });
      this.users.set(this.me.actorId, this.me);
    }
    const p = ev.presence;
    if (p) this.setPresence(Array.isArray(p) ? p : p.users);
    // Whatever happened while we were away: list again, refresh the open
    // thread (its messages come as the resume replay), resend what is unacked.
    this.loadList();
    if (this.open?.state === 'ready') {
      const o = this.open;
      api.thread(o.id).then(
        (raw) => {
          if (raw && this.threads.has(o.id)) this.putThread(raw, true);
          this.render();
        },
        (err) => this.failed(err),
      );
    }
    for (const it of this.outbox.sendable()) this.socket.send(sendFrame(it));
    this.actions.onReady();
    this.shell.renderMe();
  }

  onMessage(raw) {
    const m = normMessage(raw);
    const th = this.threads.get(m.threadId);
    if (th) {
      const wasUnread = this.seen.isUnread(th);
      const next = { ...th, lastSeq: Math.max(th.lastSeq, m.seq) };
      if (m.type === 'MESSAGE') {
        next.preview = m.text;
        if (Date.parse(m.createdAt) > activity(th)) next.latestMessageTimestamp = m.createdAt;
      }
      if (m.type === 'THREAD_STATUS_CHANGE' && m.newStatus) next.status = m.newStatus;
      if (m.type === 'ASSIGNMENT') next.assignedTo = m.assignedTo;
      this.putThread(next, true);
      // Only visitor messages make a thread unread.
      if (!wasUnread && !(m.type === 'MESSAGE' && m.direction === 'INCOMING')) this.seen.mark(th.id, m.seq);
    } else if (m.threadId) {
      this.fetchThread(m.threadId);
    }
    const o = this.open;
    if (o && o.id === m.threadId) {
      if (o.state === 'ready' && m.seq > o.lastSeq + 1) this.refetchMessages();
      const added = this.addMessage(o, m);
      this.typing.get(o.id)?.delete(m.actorId);
      if (o.state === 'ready') {
        this.markSeen(o.id);
        if (added) this.conv.renderMessages();
        this.conv.renderTyping();
      }
    }
    this.render();
  }

  /** onDelivery updates how sending an email reply went (PENDING, SENT, FAILED). */
  onDelivery(ev) {
    const o = this.open;
    if (!o || o.id !== String(ev.threadId)) return;
    const d = { status: String(ev.status || ''), error: String(ev.error || '') };
    const m = o.messages.get(String(ev.messageId));
    if (!m) {
      // The message itself is still on its way: addMessage applies it.
      (o.deliveries ??= new Map()).set(String(ev.messageId), d);
      return;
    }
    m.delivery = d;
    if (o.state === 'ready') this.conv.renderMessages();
  }

  /** retryDelivery queues a failed email reply again. */
  async retryDelivery(m) {
    const o = this.open;
    try {
      await api.retryMessage(m.threadId, m.id);
      // message.delivery may have told more already (SENT): keep that.
      if (this.open === o && o.messages.get(m.id) === m && m.delivery?.status === 'FAILED') {
        m.delivery = { status: 'PENDING', error: '' };
        this.conv.renderMessages();
      }
    } catch (err) {
      this.failed(err, 'msg.retryFailed');
    }
  }

  onThread(raw) {
    this.putThread(raw, true);
    this.render();
  }

  /** onThreadDeleted forgets a conversation deleted for good; if it is open, it says so. */
  onThreadDeleted(id) {
    this.threads.delete(id);
    this.touched.delete(id);
    if (this.open?.id === id) {
      this.open.state = 'notfound';
      this.open.messages.clear();
      this.conv.render();
    }
    this.counts.load();
    this.render();
  }

  onTyping(ev) {
    if (!ev.threadId || ev.actorId === this.me.actorId) return;
    const id = String(ev.threadId);
    if (!this.typing.has(id)) this.typing.set(id, new Map());
    this.typing.get(id).set(ev.actorId, { name: ev.name || '', until: Date.now() + TYPING_SHOWN });
    if (this.open?.id === id) {
      this.conv.renderTyping();
      this.later(TYPING_SHOWN + 50, () => this.conv.renderTyping());
    }
  }

  /** typingIn lists who is typing in a thread now. */
  typingIn(id) {
    const m = this.typing.get(id);
    if (!m) return [];
    const now = Date.now();
    for (const [k, v] of m) if (v.until <= now) m.delete(k);
    return [...m.values()];
  }

  setPresence(list) {
    if (!Array.isArray(list)) return;
    this.presence = new Map();
    for (const raw of list) {
      const u = normUser(raw);
      this.presence.set(u.actorId, raw.state || 'offline');
      if (!this.users.has(u.actorId)) this.users.set(u.actorId, u);
    }
    // Away mode may have been switched in another tab.
    const mine = this.presence.get(this.me.actorId);
    if (mine === 'away' || mine === 'online') this.me = { ...this.me, away: mine === 'away' };
    this.shell.renderTeam();
    this.shell.renderMe();
    this.conv.render();
  }

  onSocketError(ev) {
    if (ev.clientId && this.outbox.fail(ev.clientId, ev.message || ev.code)) {
      this.conv.renderMessages();
      return;
    }
    console.warn('parley: socket error', ev.code, ev.message);
  }

  /** myState is the header's presence: offline while disconnected. */
  myState() {
    if (this.conn !== 'open') return this.conn === 'connecting' ? 'connecting' : 'offline';
    return this.me.away ? 'away' : 'online';
  }

  // ----- actions -----

  sendReply(text, messageType, copies, files, richText) {
    const o = this.open;
    const clean = text.replace(CONTROL_CHARS, '');
    if (!o || (!clean.trim() && !files?.length)) return false;
    if (new TextEncoder().encode(clean).length > MAX_TEXT_BYTES) {
      this.shell.toast(t('reply.tooLong'));
      return false;
    }
    const it = { clientId: newClientId(), threadId: o.id, text: clean.trim() ? clean : '', messageType, createdAt: new Date().toISOString(), ...(copies ?? {}), ...(files?.length ? { files } : {}), ...(richText ? { richText } : {}) };
    this.outbox.add(it);
    this.drafts.delete(o.id);
    this.lastTypingSent = 0;
    this.socket.send(sendFrame(it)); // if not connected, sent on the next ready
    this.conv.renderMessages({ scroll: true });
    return true;
  }

  retrySend(clientId) {
    const it = this.outbox.retry(clientId);
    if (it) this.socket.send(sendFrame(it));
    this.conv.renderMessages();
  }

  discardSend(clientId) {
    this.outbox.delete(clientId);
    this.conv.renderMessages();
  }

  sendTyping() {
    const o = this.open;
    const now = Date.now();
    if (!o || now - this.lastTypingSent < TYPING_EVERY) return;
    if (this.socket.send({ type: 'typing', threadId: o.id })) this.lastTypingSent = now;
  }

  async setThreadStatus(status) {
    const id = this.open?.id;
    if (!id) return;
    try {
      const raw = await api.setStatus(id, status);
      if (raw?.id) this.putThread(raw, true);
      else this.putThread({ ...this.threads.get(id), status }, true);
    } catch (err) {
      this.failed(err, 'err.status');
    }
    this.render();
  }

  async assign(actorId) {
    const id = this.open?.id;
    if (!id) return;
    try {
      const raw = await api.assign(id, actorId);
      if (raw?.id) this.putThread(raw, true);
      else this.putThread({ ...this.threads.get(id), assignedTo: actorId || '' }, true);
    } catch (err) {
      this.failed(err, 'err.assign');
    }
    this.render();
  }

  async setAway(away) {
    try {
      const raw = await api.setAway(away);
      this.me = normUser({ ...this.me, ...(raw?.id ? raw : { away }) });
    } catch (err) {
      this.failed(err, 'err.away');
    }
    this.shell.renderMe();
  }

  async signOut() {
    try {
      await api.signOut();
    } catch (err) {
      if (err.status !== 401) {
        this.failed(err, 'err.signOut');
        return;
      }
    }
    this.destroy();
    this.onEnded('');
  }

  setInbox(id) {
    if (id === this.inboxId) return;
    this.inboxId = id;
    setPref('inbox', id);
    this.listState = 'loading';
    this.nextAfter = null;
    this.shell.render();
    this.loadList();
    this.counts.load();
    this.search.refresh();
  }

  setListStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.listState = 'loading';
    this.nextAfter = null;
    this.loadList();
  }

  setView(view) {
    setListView(this, view); // lists the view again from the server
  }

  // ----- keyboard -----

  keydown(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (this.settings.visible) return; // the list's shortcuts are not on screen
    const target = e.target;
    if (e.key === 'Escape') {
      if (this.shell.navOpen) {
        this.shell.toggleNav(false, true);
        e.preventDefault();
      } else if (this.conv.owns(target)) {
        this.conv.leave();
        e.preventDefault();
      }
      return;
    }
    if (isTextTarget(target)) return;
    const interactive = target instanceof Element && target.closest('a, button, select, summary');
    switch (e.key) {
      case 'j':
      case 'k':
        this.list.move(e.key === 'j' ? 1 : -1);
        break;
      case 'o':
        this.list.openCursor();
        break;
      case 'Enter':
        if (interactive) return; // the link or button handles it
        this.list.openCursor();
        break;
      case 'e':
      case 'a':
        if (!this.open || !this.actions.shortcut(e.key)) return;
        break;
      case 'r':
        if (!this.open) return;
        this.conv.focusReply();
        break;
      case '/':
        this.search.focus(true);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}

// ----- boot -----

const root = document.getElementById('app');

function signedOut(notice) {
  document.title = t('app.title');
  renderSignIn(root, { notice, onSignedIn: (user) => signedIn(user) });
}

async function signedIn(user) {
  let me = user;
  if (!me?.id) {
    try {
      me = await api.me();
    } catch (err) {
      if (err.status === 401) return signedOut();
      return failedToLoad();
    }
  }
  // Parley's mails to the user follow the language their console shows.
  if (me.language !== lang) api.setLanguage(lang).catch(() => {});
  new Console(root, me, { onEnded: (notice) => signedOut(notice) }).start();
}

function failedToLoad() {
  const msg = document.createElement('p');
  msg.className = 'boot';
  msg.setAttribute('role', 'alert');
  msg.textContent = t('app.failed');
  const btn = document.createElement('button');
  btn.className = 'btn';
  btn.textContent = t('app.reload');
  btn.addEventListener('click', () => location.reload());
  root.replaceChildren(msg, btn);
}

async function boot() {
  document.documentElement.lang = lang;
  document.title = t('app.title');
  try {
    await signedIn(await api.me());
  } catch (err) {
    if (err.status === 401) signedOut();
    else failedToLoad();
  }
}

boot();
