// The console's data rules, free of DOM: normalising wire objects, list order
// and views, what counts as unread, and the outbox of unacknowledged replies.

import { BASE } from './api.js';

export const CHANNEL_EMAIL = '1002';

/** VIEWS are the sidebar's views, in order. */
export const VIEWS = ['all', 'mine', 'unassigned', 'chat', 'email', 'filtered'];

const str = (v) => (v === undefined || v === null ? '' : String(v));

/**
 * normThread makes ids strings and fills defaults. A thread object is always
 * whole (an absent assignedTo means unassigned); from prev, the copy already
 * held, it keeps only what a newer event cannot have made stale: the contact
 * name and preview when missing, and the larger lastSeq.
 */
export function normThread(raw, prev) {
  const t = { ...raw };
  t.id = str(t.id);
  t.inboxId = str(t.inboxId);
  t.status = t.status === 'CLOSED' ? 'CLOSED' : 'OPEN';
  t.assignedTo = str(t.assignedTo);
  t.lastSeq = Math.max(Number(raw.lastSeq) || 0, Number(prev?.lastSeq) || 0);
  if (prev) {
    t.contactName ||= prev.contactName;
    t.preview ??= prev.preview;
    if (activity(prev) > activity(t)) t.latestMessageTimestamp = prev.latestMessageTimestamp;
  }
  return t;
}

/**
 * normMessage maps both message shapes (REST: senders/createdBy/
 * conversationsThreadId; WebSocket: senderActorId/senderName/threadId) to one.
 */
export function normMessage(m) {
  const sender = (Array.isArray(m.senders) && m.senders[0]) || {};
  return {
    id: str(m.id),
    threadId: str(m.threadId ?? m.conversationsThreadId),
    seq: Number(m.seq) || 0,
    type: m.type || 'MESSAGE',
    text: str(m.text),
    direction: m.direction === 'OUTGOING' ? 'OUTGOING' : 'INCOMING',
    actorId: str(m.senderActorId || sender.actorId || m.createdBy),
    name: str(m.senderName || sender.name),
    address: str(m.senderAddress || sender.deliveryIdentifier?.value), // email messages
    delivery: deliveryOf(m), // email replies and forwards: { status, error } or null
    recipients: recipientsOf(m), // email messages and forwards: [{ field: TO|CC|BCC, name, email }]
    clientId: str(m.clientId),
    createdAt: m.createdAt,
    newStatus: m.newStatus,
    assignedTo: m.assignedTo || '',
    event: str(m.event), // for SYSTEM messages
    quickReplies: Array.isArray(m.quickReplies) ? m.quickReplies.map(String) : (m.attachments ?? []).flatMap((x) => (x?.type === 'QUICK_REPLIES' ? (x.quickReplies ?? []).map((q) => String(q.label ?? q.value)) : [])), // a bot's question
    changes: Array.isArray(m.changes) ? m.changes : [], // for record_updated: [{ field, from, to }]
    files: filesOf(m), // [{ id, name, type, size, inline, width, height, url }]
    html: !!m.html || (!!m.richText && str(m.channelId) === CHANNEL_EMAIL && m.direction === 'INCOMING'), // an email that came with HTML
  };
}

/** filesOf reads a message's files from either shape (WebSocket: id, name, type, size, inline, url; REST: FILE attachments). */
function filesOf(m) {
  if (!Array.isArray(m.attachments)) return [];
  return m.attachments
    .filter((x) => x && (x.type === 'FILE' ? x.fileId : x.id) && /^https?:\/\//.test(str(x.url)))
    .map((x) =>
      x.type === 'FILE'
        ? { id: str(x.fileId), name: str(x.name), type: '', size: 0, inline: x.fileUsageType === 'IMAGE', width: 0, height: 0, url: str(x.url) }
        : { id: str(x.id), name: str(x.name), type: str(x.type), size: Number(x.size) || 0, inline: !!x.inline, width: Number(x.width) || 0, height: Number(x.height) || 0, url: str(x.url) },
    );
}

/** recipientsOf reads who an email message went to from either shape (WebSocket: field, email; REST: recipientField, deliveryIdentifier). */
function recipientsOf(m) {
  if (!Array.isArray(m.recipients)) return [];
  return m.recipients
    .map((r) => ({ field: str(r.field || r.recipientField), name: str(r.name), email: str(r.email || r.deliveryIdentifier?.value) }))
    .filter((r) => r.field && r.email);
}

/** deliveryOf reads the sending status of an email reply, a transcript sent by hand or a forward from either shape (WebSocket: delivery; REST: status). */
function deliveryOf(m) {
  if (m.delivery?.status) return { status: str(m.delivery.status), error: str(m.delivery.error) };
  const st = m.status;
  const emailed = (str(m.channelId) === CHANNEL_EMAIL && (m.type || 'MESSAGE') === 'MESSAGE') || (m.type === 'SYSTEM' && (m.event === 'transcript_sent' || m.event === 'forwarded'));
  if (st && typeof st === 'object' && st.statusType && m.direction === 'OUTGOING' && (emailed || (isCustomChannel(m.channelId) && (m.type || 'MESSAGE') === 'MESSAGE'))) {
    return { status: str(st.statusType), error: str(st.failureDetails) };
  }
  return null;
}

/** normUser makes ids strings and derives actorId when it is missing. */
export function normUser(u) {
  const id = str(u.id);
  return { ...u, id, actorId: str(u.actorId) || (id ? `A-${id}` : ''), name: str(u.name) || str(u.email) };
}

export const activity = (t) => Date.parse(t.latestMessageTimestamp || t.createdAt) || 0;

/** byActivity sorts threads newest activity first, then newest id first. */
export const byActivity = (a, b) => activity(b) - activity(a) || Number(b.id) - Number(a.id);

export const channelOf = (t) => (str(t.originalChannelId) === CHANNEL_EMAIL ? 'email' : 'chat');

/** isCustomChannel reports whether a channel id is a custom channel's (an integration's: SMS, a messenger). */
export const isCustomChannel = (id) => Number(id) >= 2000;

/** inView reports whether thread t belongs in view for the user with actorId me. */
export function inView(t, view, me) {
  // Filtered (blocked sender, spam) never reaches the main views (I4, I9).
  const filtered = !!(t.blocked || t.spam);
  if (view === 'filtered' || filtered) return view === 'filtered' && filtered;
  switch (view) {
    case 'mine':
      return t.assignedTo === me;
    case 'unassigned':
      return !t.assignedTo;
    case 'chat':
    case 'email':
      return channelOf(t) === view;
    default:
      return true;
  }
}

/** threadPath is the console URL of a thread; parseRoute is its inverse (null: the list). */
export const threadPath = (id) => `${BASE.pathname}threads/${encodeURIComponent(id)}`;

export function parseRoute(pathname = location.pathname) {
  if (!pathname.startsWith(BASE.pathname)) return null;
  const m = /^threads\/([^/]+)\/?$/.exec(pathname.slice(BASE.pathname.length));
  return m ? decodeURIComponent(m[1]) : null;
}

/** pref reads a saved preference (null when absent or storage is off). */
export function pref(key) {
  try {
    return window.localStorage.getItem(`parley.${key}`);
  } catch {
    return null;
  }
}

/** setPref saves a preference; without storage it is simply not kept. */
export function setPref(key, value) {
  try {
    window.localStorage.setItem(`parley.${key}`, value);
  } catch {
    /* storage off or full */
  }
}

function storage(kind) {
  try {
    return kind === 'session' ? window.sessionStorage : window.localStorage;
  } catch {
    return null; // storage disabled: remember nothing across reloads
  }
}

/**
 * SeenStore remembers, per user and browser, the last seq the agent has seen
 * in each thread. A thread is unread while its lastSeq is beyond that, which
 * only visitor messages cause: the console moves the mark along for anything
 * else (replies, notes, system events) unless the thread was unread already.
 */
export class SeenStore {
  constructor(userId) {
    this.key = `parley.seen.${userId}`;
    this.store = storage('local');
    try {
      this.marks = JSON.parse(this.store?.getItem(this.key) || '{}') || {};
    } catch {
      this.marks = {};
    }
  }

  isUnread(t) {
    return !!t && (Number(t.lastSeq) || 0) > (this.marks[t.id] ?? 0);
  }

  mark(id, seq) {
    if (!(seq > (this.marks[id] ?? 0))) return;
    this.marks[id] = seq;
    const ids = Object.keys(this.marks);
    if (ids.length > 2000) for (const k of ids.slice(0, ids.length - 2000)) delete this.marks[k];
    try {
      this.store?.setItem(this.key, JSON.stringify(this.marks));
    } catch {
      /* full or disabled */
    }
  }
}

/**
 * Outbox holds the agent's messages that the server has not acknowledged
 * yet, kept in sessionStorage so a reload of the tab resends them with the
 * same clientId (the server never stores a clientId twice).
 */
export class Outbox {
  constructor(userId) {
    this.key = `parley.outbox.${userId}`;
    this.store = storage('session');
    this.items = new Map();
    try {
      for (const it of JSON.parse(this.store?.getItem(this.key) || '[]')) this.items.set(it.clientId, it);
    } catch {
      /* start empty */
    }
  }

  save() {
    try {
      if (this.items.size) this.store?.setItem(this.key, JSON.stringify([...this.items.values()]));
      else this.store?.removeItem(this.key);
    } catch {
      /* full or disabled */
    }
  }

  add(item) {
    this.items.set(item.clientId, item);
    this.save();
  }

  get(clientId) {
    return this.items.get(clientId);
  }

  delete(clientId) {
    if (this.items.delete(clientId)) this.save();
  }

  fail(clientId, reason) {
    const it = this.items.get(clientId);
    if (!it) return false;
    it.error = reason || 'error';
    this.save();
    return true;
  }

  retry(clientId) {
    const it = this.items.get(clientId);
    if (it) {
      delete it.error;
      this.save();
    }
    return it;
  }

  /** sendable lists the items to (re)send, oldest first. */
  sendable() {
    return [...this.items.values()].filter((it) => !it.error).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  forThread(threadId) {
    return [...this.items.values()].filter((it) => it.threadId === threadId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}

/** sendFrame is the message.send event for an outbox item. */
export const sendFrame = (it) => ({
  type: 'message.send',
  threadId: it.threadId,
  clientId: it.clientId,
  text: it.text,
  messageType: it.messageType,
  ...(it.cc ? { cc: it.cc, bcc: it.bcc ?? [] } : {}), // an email reply's copies; absent: the thread's current Cc
  ...(it.files?.length ? { attachments: it.files.map((f) => f.id) } : {}), // the agent's uploads
  ...(it.richText ? { richText: it.richText } : {}), // an email reply's rich text
});

/** splitAddresses reads a list of addresses as typed: separated by commas, semicolons or spaces. */
export const splitAddresses = (s) =>
  String(s ?? '')
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter(Boolean);

/** looksLikeAddress is a first check of an address as typed; the server decides. */
export const looksLikeAddress = (a) => /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(a);

/** fileSize says how large a file is, for people. */
export function fileSize(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/** MAX_FILE_BYTES is the largest file Parley takes (parley.MaxFileBytes). */
export const MAX_FILE_BYTES = 15 << 20;
/** MAX_MESSAGE_FILES is the most files one message carries (parley.MaxMessageFiles). */
export const MAX_MESSAGE_FILES = 10;
