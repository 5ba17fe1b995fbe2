// Drives Parley's conversations API with HubSpot's official Node client
// (@hubspot/api-client) and checks each answer against the fields
// HubSpot documents for it. Run by TestHubSpotClientContract with
// PARLEY_BASE (Parley's base URL), PARLEY_TOKEN (an admin's API token),
// PARLEY_THREAD (a chat thread), PARLEY_OTHER_TOKEN (a token of an agent
// of another inbox). Exits non-zero listing every failed check.
'use strict';

const hubspot = require('@hubspot/api-client');
const { ModelError } = require('@hubspot/api-client/lib/codegen/conversations/visitor_identification/models/ModelError');
const { StandardError } = require('@hubspot/api-client/lib/codegen/crm/objects/models/StandardError');
const { IdentificationTokenResponse } = require('@hubspot/api-client/lib/codegen/conversations/visitor_identification/models/IdentificationTokenResponse');
const conversationsModels = require('@hubspot/api-client/lib/codegen/conversations/visitor_identification/models/ObjectSerializer');
const crmModels = require('@hubspot/api-client/lib/codegen/crm/objects/models/ObjectSerializer');

const base = process.env.PARLEY_BASE;
const client = new hubspot.Client({ accessToken: process.env.PARLEY_TOKEN, basePath: base });
const other = new hubspot.Client({ accessToken: process.env.PARLEY_OTHER_TOKEN, basePath: base });
const threadId = process.env.PARLEY_THREAD;
const V3 = '/conversations/v3/conversations';

const failures = [];
let checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) failures.push(what);
}

const MS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// HubSpot's documented fields of each object, and which are times.
const shapes = {
  thread: {
    required: ['id', 'createdAt', 'status', 'originalChannelId', 'originalChannelAccountId', 'spam', 'inboxId', 'associatedContactId', 'archived'],
    optional: ['closedAt', 'latestMessageTimestamp', 'latestMessageSentTimestamp', 'latestMessageReceivedTimestamp', 'assignedTo', 'threadAssociations'],
    times: ['createdAt', 'closedAt', 'latestMessageTimestamp', 'latestMessageSentTimestamp', 'latestMessageReceivedTimestamp'],
  },
  message: {
    required: ['id', 'type', 'conversationsThreadId', 'createdAt', 'updatedAt', 'createdBy', 'client', 'senders', 'recipients',
      'archived', 'text', 'richText', 'attachments', 'subject', 'truncationStatus', 'status', 'direction', 'channelId', 'channelAccountId'],
    optional: ['inReplyToId', 'newStatus', 'assignedTo', 'assignedFrom'],
    times: ['createdAt', 'updatedAt'],
  },
  inbox: { required: ['id', 'name', 'createdAt', 'updatedAt', 'archived', 'type'], optional: [], times: ['createdAt', 'updatedAt'] },
  channel: { required: ['id', 'name'], optional: ['createdAt'], times: ['createdAt'] },
  channelAccount: { required: ['id', 'channelId', 'inboxId', 'name', 'active', 'createdAt', 'archived'], optional: [], times: ['createdAt'] },
  actor: { required: ['id', 'type'], optional: ['name', 'email', 'avatar'], times: [] },
};

// shape checks that obj has every required field of kind, and that its
// times are HubSpot's. Parley's documented extensions may follow.
function shape(kind, obj, where) {
  const s = shapes[kind];
  check(obj && typeof obj === 'object', `${where}: not an object`);
  if (!obj) return;
  for (const f of s.required) check(f in obj, `${where}: ${kind} has no ${f}: ${JSON.stringify(obj)}`);
  for (const f of s.times) if (obj[f] !== undefined) check(MS_TIME.test(obj[f]), `${where}: ${kind}.${f} ${obj[f]} is not HubSpot's time`);
  for (const f of ['id', 'inboxId', 'channelId', 'channelAccountId', 'conversationsThreadId', 'originalChannelId', 'originalChannelAccountId', 'associatedContactId']) {
    if (obj[f] !== undefined) check(typeof obj[f] === 'string', `${where}: ${kind}.${f} is no string`);
  }
}

// hubSpotError checks that an error answer has the fields of HubSpot's
// own error model, and the status and words expected.
async function hubSpotError(res, status, words, where) {
  check(res.status === status, `${where}: status ${res.status}, want ${status}`);
  const body = await res.json();
  const model = conversationsModels.ObjectSerializer.deserialize(body, 'ModelError', '');
  check(model instanceof ModelError, `${where}: not deserialized as ModelError`);
  for (const a of ModelError.getAttributeTypeMap()) {
    if (['correlationId', 'message', 'category'].includes(a.name)) check(typeof model[a.name] === 'string' && model[a.name] !== '', `${where}: error has no ${a.name}: ${JSON.stringify(body)}`);
  }
  check(body.status === 'error', `${where}: error status ${body.status}`);
  check(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(body.correlationId), `${where}: correlationId ${body.correlationId} is no UUID`);
  check(body.message.includes(words), `${where}: message ${JSON.stringify(body.message)} lacks ${JSON.stringify(words)}`);
}

async function get(path, c = client) {
  const res = await c.apiRequest({ method: 'GET', path });
  const body = await res.json();
  check(res.status === 200, `GET ${path}: status ${res.status} ${JSON.stringify(body)}`);
  return body;
}

// list checks a HubSpot list answer and returns its results.
function list(kind, body, where) {
  check(Array.isArray(body.results), `${where}: no results`);
  for (const r of body.results || []) shape(kind, r, where);
  if (body.paging) check(typeof body.paging.next.after === 'string', `${where}: paging.next.after`);
  return body.results || [];
}

async function main() {
  // Inboxes, channels, channel accounts.
  const inboxes = await get(`${V3}/inboxes`);
  const inboxList = list('inbox', inboxes, 'inboxes');
  check(inboxes.total === inboxList.length && inboxList.length >= 1, `inboxes total ${inboxes.total}`);
  const inboxId = inboxList[0].id;
  shape('inbox', await get(`${V3}/inboxes/${inboxId}`), 'inbox');
  const channels = list('channel', await get(`${V3}/channels`), 'channels');
  check(channels.map((c) => c.id).join() === '1000,1002', `channels ${JSON.stringify(channels)}`);
  shape('channel', await get(`${V3}/channels/1000`), 'channel');
  const accounts = list('channelAccount', await get(`${V3}/channel-accounts?inboxId=${inboxId}&channelId=1000`), 'channel-accounts');
  check(accounts.length >= 1 && accounts.every((a) => a.inboxId === inboxId && a.channelId === '1000'), `channel-accounts filtered ${JSON.stringify(accounts)}`);
  check(list('channelAccount', await get(`${V3}/channel-accounts?channelId=1002`), 'email accounts').length === 0, 'no mailbox is configured');
  shape('channelAccount', await get(`${V3}/channel-accounts/${accounts[0].id}`), 'channel-account');

  // Threads: get, and the list with each filter.
  const thread = await get(`${V3}/threads/${threadId}`);
  shape('thread', thread, 'thread');
  const contact = thread.associatedContactId;
  const ids = async (q) => list('thread', await get(`${V3}/threads?${q}`), `threads?${q}`).map((t) => t.id);
  const has = async (q, want) => {
    const got = await ids(q);
    check(got.includes(threadId) === want, `threads?${q}: ${JSON.stringify(got)} ${want ? 'lacks' : 'holds'} ${threadId}`);
  };
  await has('', true);
  await has(`inboxId=${inboxId}`, true);
  await has(`inboxId=999&inboxId=${inboxId}`, true);
  await has('inboxId=999', false);
  await has('threadStatus=OPEN', true);
  await has('threadStatus=CLOSED', false);
  await has(`associatedContactId=${contact}`, true);
  await has(`associatedContactId=${contact}&sort=-id`, true);
  await has('archived=true', false);
  await has('sort=latestMessageTimestamp&latestMessageTimestampAfter=2020-01-01T00:00:00.000Z', true);
  await has(`sort=latestMessageTimestamp&latestMessageTimestampAfter=${encodeURIComponent(thread.latestMessageTimestamp)}`, false);
  await has('limit=1', true);

  // A ticket for the thread (Parley's records API), then the ticket filter.
  const rec = await client.apiRequest({ method: 'POST', path: `/api/v1/contacts/${contact}/records`, body: { kind: 'ticket', name: 'Refund', threadId } });
  check(rec.status === 201, `create ticket: ${rec.status}`);
  const ticket = await rec.json();
  await has(`associatedTicketId=${ticket.id}`, true);
  await has('associatedTicketId=987654', false);
  const assoc = await get(`${V3}/threads?association=TICKET&associatedTicketId=${ticket.id}`);
  check(assoc.results[0] && assoc.results[0].threadAssociations && assoc.results[0].threadAssociations.associatedTicketId === ticket.id,
    `association=TICKET: ${JSON.stringify(assoc.results)}`);

  // Messages: post, list, get, original content.
  const post = await client.apiRequest({ method: 'POST', path: `${V3}/threads/${threadId}/messages`,
    body: { type: 'MESSAGE', text: 'Your refund is on its way.', channelId: thread.originalChannelId, channelAccountId: thread.originalChannelAccountId } });
  const posted = await post.json();
  check(post.status === 201, `post message: ${post.status} ${JSON.stringify(posted)}`);
  shape('message', posted, 'posted message');
  check(posted.direction === 'OUTGOING' && posted.client.clientType === 'HUBSPOT' && posted.truncationStatus === 'NOT_TRUNCATED' && Array.isArray(posted.attachments),
    `posted message fields: ${JSON.stringify(posted)}`);
  const msgs = list('message', await get(`${V3}/threads/${threadId}/messages`), 'messages');
  check(msgs.some((m) => m.id === posted.id) && msgs[0].direction === 'INCOMING', `messages: ${JSON.stringify(msgs.map((m) => m.id))}`);
  shape('message', await get(`${V3}/threads/${threadId}/messages/${posted.id}`), 'message');
  const orig = await get(`${V3}/threads/${threadId}/messages/${posted.id}/original-content`);
  check(orig.text === 'Your refund is on its way.' && orig.richText === '' && Object.keys(orig).length === 2, `original content: ${JSON.stringify(orig)}`);
  const after = await get(`${V3}/threads/${threadId}`);
  check(after.latestMessageSentTimestamp === posted.createdAt && after.latestMessageTimestamp === posted.createdAt, `thread times after the post: ${JSON.stringify(after)}`);

  // Actors.
  const actor = await get(`${V3}/actors/${posted.createdBy}`);
  shape('actor', actor, 'actor');
  check(actor.type === 'AGENT', `actor type ${actor.type}`);
  const batch = await client.apiRequest({ method: 'POST', path: `${V3}/actors/batch/read`, body: { inputs: [posted.createdBy, 'A-987654'] } });
  const batchBody = await batch.json();
  check(batch.status === 207 && batchBody.status === 'COMPLETE' && batchBody.results.length === 1 && batchBody.numErrors === 1, `batch read: ${batch.status} ${JSON.stringify(batchBody)}`);
  for (const r of batchBody.results || []) shape('actor', r, 'batch actor');
  const err = crmModels.ObjectSerializer.deserialize((batchBody.errors || [])[0], 'StandardError', '');
  check(err instanceof StandardError && err.category === 'OBJECT_NOT_FOUND' && err.context.ids[0] === 'A-987654', `batch error: ${JSON.stringify(batchBody.errors)}`);
  check(MS_TIME.test(batchBody.startedAt) && MS_TIME.test(batchBody.completedAt), `batch times: ${batchBody.startedAt} ${batchBody.completedAt}`);

  // Visitor identification, with the client's typed API.
  const tok = await client.conversations.visitorIdentification.generateApi.generateToken({ email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' });
  check(tok instanceof IdentificationTokenResponse && typeof tok.token === 'string' && tok.token.length > 20, `identification token: ${JSON.stringify(tok)}`);
  try {
    await other.conversations.visitorIdentification.generateApi.generateToken({ email: 'ada@example.com' });
    check(false, 'an agent made an identification token');
  } catch (e) {
    check(e.code === 403, `agent's identification token: ${e.code}`);
  }

  // Errors, each in HubSpot's shape.
  await hubSpotError(await client.apiRequest({ method: 'GET', path: `${V3}/threads/987654` }), 404, 'not found', 'unknown thread');
  await hubSpotError(await client.apiRequest({ method: 'GET', path: `${V3}/threads?property=status` }), 400, '"property"', 'unknown parameter');
  await hubSpotError(await client.apiRequest({ method: 'POST', path: `${V3}/threads/${threadId}/messages`, body: { text: 'x', senderField: 'x' } }), 400, 'senderField', 'unknown field');
  await hubSpotError(await client.apiRequest({ method: 'DELETE', path: `${V3}/inboxes` }), 405, 'not allowed', 'wrong method');
  await hubSpotError(await client.apiRequest({ method: 'GET', path: `${V3}/thread` }), 404, 'no such endpoint', 'unknown path');
  await hubSpotError(await other.apiRequest({ method: 'GET', path: `${V3}/threads/${threadId}` }), 404, 'not found', 'agent of another inbox');
  await hubSpotError(await other.apiRequest({ method: 'POST', path: `${V3}/threads/${threadId}/messages`, body: { text: 'x', senderActorId: posted.createdBy } }), 404, 'not found', 'agent of another inbox posting as the admin');
  const stranger = new hubspot.Client({ accessToken: 'pt_not-a-token', basePath: base });
  await hubSpotError(await stranger.apiRequest({ method: 'GET', path: `${V3}/threads` }), 401, '', 'stranger');

  if (failures.length) {
    console.error(`${failures.length} of ${checks} checks failed:\n` + failures.join('\n'));
    process.exit(1);
  }
  console.log(`${checks} checks passed`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
