// The REST calls the console makes. Every call is same-origin with the session
// cookie and JSON bodies; a failure throws ApiError.

/** BASE is the console's base URL ("https://host/" or "https://host/prefix/"). */
export const BASE = new URL('../', import.meta.url);

const CONV = 'conversations/v3/conversations';

/** ApiError is a failed call: status 0 means the network failed. */
export class ApiError extends Error {
  constructor(status, body, fallback, retryAfter = 0) {
    super((body && body.message) || fallback || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    /** retryAfter is the answer's Retry-After in seconds, 0 when it had none. */
    this.retryAfter = retryAfter;
    this.category = body?.category ?? '';
    this.correlationId = body?.correlationId ?? '';
  }
}

/**
 * request calls path (relative to BASE) and returns the decoded JSON body, or
 * null for an empty one. It throws ApiError for a non-2xx answer or a network
 * failure.
 */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(new URL(path, BASE), init);
  } catch (err) {
    throw new ApiError(0, null, err?.message || 'network error');
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data, '', Number.parseInt(res.headers.get('Retry-After') ?? '', 10) || 0);
  return data;
}

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  return s.toString();
};

const enc = encodeURIComponent;

export const signIn = (email, password) => request('POST', 'api/v1/session', { email, password });
export const signOut = () => request('DELETE', 'api/v1/session');
export const me = () => request('GET', 'api/v1/users/me');
export const setAway = (away) => request('PATCH', 'api/v1/users/me', { away });
export const setLanguage = (language) => request('PATCH', 'api/v1/users/me', { language });
export const users = () => request('GET', 'api/v1/users');
export const inboxes = () => request('GET', `${CONV}/inboxes`);
export const channels = () => request('GET', `${CONV}/channels?limit=500`);

/**
 * threads lists one page of an inbox's threads, latest activity first. More
 * query parameters (view, channelId, assignee, date range: views.js) pass
 * through.
 */
export const threads = ({ inboxId, status, after, limit = 50, ...more }) =>
  request('GET', `${CONV}/threads?` + q({ inboxId, threadStatus: status, sort: '-latestMessageTimestamp', limit, after, ...more }));

export const thread = (id) => request('GET', `${CONV}/threads/${enc(id)}`);
export const setStatus = (id, status) => request('PATCH', `${CONV}/threads/${enc(id)}`, { status });
export const assign = (id, actorId) =>
  actorId
    ? request('PUT', `${CONV}/threads/${enc(id)}/assignee`, { actorId })
    : request('DELETE', `${CONV}/threads/${enc(id)}/assignee`);

/** retryMessage queues a failed email reply again. */
export const retryMessage = (threadId, messageId) => request('POST', `${CONV}/threads/${enc(threadId)}/messages/${enc(messageId)}/retry`);

/** replyRecipients is who the next email reply on a thread goes to by default: { to, cc }. */
export const replyRecipients = (id) => request('GET', `api/v1/threads/${enc(id)}/reply-recipients`);

/** forward emails a thread to addresses with an optional note; it answers the recorded event. */
export const forward = (id, to, note, clientId) => request('POST', `api/v1/threads/${enc(id)}/forward`, { to, note, clientId });

/**
 * uploadFile uploads one file for the signed-in user's next message on a
 * thread (multipart, one part "file") and returns the upload: { id, name,
 * type, size, inline, width, height, url }.
 */
export async function uploadFile(threadId, file) {
  const body = new FormData();
  body.append('file', file, file.name);
  let res;
  try {
    res = await fetch(new URL(`api/v1/threads/${enc(threadId)}/files`, BASE), { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' }, body });
  } catch (err) {
    throw new ApiError(0, null, err?.message || 'network error');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data, '', Number.parseInt(res.headers.get('Retry-After') ?? '', 10) || 0);
  return data;
}

/** messages returns every message of a thread, oldest first, following pages. */
export async function messages(id) {
  const out = [];
  let after;
  for (let page = 0; page < 100; page++) {
    const res = await request('GET', `${CONV}/threads/${enc(id)}/messages?` + q({ limit: 500, after }));
    out.push(...(res?.results ?? []));
    after = res?.paging?.next?.after;
    if (!after) break;
  }
  return out;
}
