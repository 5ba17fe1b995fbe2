'use strict';
// An SMS integration written for HubSpot's custom channels API, unchanged
// but for its host. With HubSpot's official Node client (its generic
// apiRequest, the developer API key as hapikey) it gives its app a
// webhook secret, registers an SMS channel, connects a number to an
// inbox and publishes a text a customer sent. It receives the agents'
// replies at its webhook, checks each request with the client's own
// Signature.isValid (v3), and reports each reply READ. One JSON line per
// step: {"ready": {channelId, accountId, threadId}}, {"reply": …} per
// reply, {"failed": …} on any error. It ends when its standard input
// closes.
//
// Environment: PARLEY_URL, PARLEY_TOKEN (an admin's API token), APP_ID,
// INBOX_ID.
const http = require('node:http');
const readline = require('node:readline');
const { Client, Signature } = require('@hubspot/api-client');

const base = process.env.PARLEY_URL;
const appId = Number(process.env.APP_ID);
const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');
let secret = '';
let channelId = '';
let client;

const call = async (method, path, body) => {
  const res = await client.apiRequest({ method, path, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let valid = false;
    try {
      valid = Signature.isValid({
        signatureVersion: 'v3',
        method: req.method,
        signature: req.headers['x-hubspot-signature-v3'],
        clientSecret: secret,
        requestBody: body,
        url: `http://${req.headers.host}${req.url}`,
        timestamp: Number(req.headers['x-hubspot-request-timestamp']),
      });
    } catch (e) {
      out({ failed: 'signature check: ' + e.message });
    }
    res.writeHead(valid ? 200 : 401).end();
    if (!valid) {
      out({ failed: 'Signature.isValid refused a request' });
      return;
    }
    const ev = JSON.parse(body);
    if (ev.type !== 'OUTGOING_CHANNEL_MESSAGE_CREATED') {
      out({ failed: 'unexpected event type ' + ev.type });
      return;
    }
    const m = ev.message;
    out({ reply: { text: m.text, to: m.recipients[0]?.deliveryIdentifier?.value, from: m.senders[0]?.deliveryIdentifier?.value, id: m.id } });
    // The "SMS gateway" delivered it and the customer read it.
    try {
      await call('PATCH', `/conversations/v3/custom-channels/${channelId}/messages/${m.id}`, { statusType: 'READ' });
    } catch (e) {
      out({ failed: e.message });
    }
  });
});

receiver.listen(0, '127.0.0.1', async () => {
  const webhook = `http://127.0.0.1:${receiver.address().port}/sms/outgoing`;
  try {
    client = new Client({ developerApiKey: process.env.PARLEY_TOKEN, basePath: base });
    const settings = await call('PUT', `/webhooks/v3/${appId}/settings`, { targetUrl: webhook + '/subscriptions' });
    secret = settings.clientSecret;
    const channel = await call('POST', `/conversations/v3/custom-channels?appId=${appId}`, {
      name: 'SMS',
      webhookUrl: webhook,
      channelDescription: 'Texts to our support number',
      capabilities: {
        deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
        threadingModel: 'DELIVERY_IDENTIFIER',
        allowOutgoingMessages: true,
        richText: [],
      },
    });
    channelId = channel.id;
    const number = { type: 'HS_PHONE_NUMBER', value: '+4930123456' };
    const account = await call('POST', `/conversations/v3/custom-channels/${channelId}/channel-accounts`, {
      inboxId: process.env.INBOX_ID,
      name: 'Support number',
      deliveryIdentifier: number,
      authorized: true,
    });
    const msg = await call('POST', `/conversations/v3/custom-channels/${channelId}/messages`, {
      messageDirection: 'INCOMING',
      channelAccountId: account.id,
      text: 'Hi, my parcel 4711 has not arrived',
      integrationIdempotencyId: 'sms-0001',
      senders: [{ name: 'Mia Muster', deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' } }],
      recipients: [{ deliveryIdentifier: number }],
    });
    out({ ready: { channelId, accountId: account.id, threadId: msg.conversationsThreadId } });
  } catch (e) {
    out({ failed: e.message });
  }
});

readline.createInterface({ input: process.stdin }).on('close', () => receiver.close());
