'use strict';
// A HubSpot integration, unchanged but for its host: it configures its
// webhooks in Parley with HubSpot's official Node client and receives
// them, checking each request with the client's own Signature.isValid
// (signature version v3). It prints one JSON line per step: {"ready":
// target} once configured, {"delivery": …} per request, {"failed": …}
// on any error. It ends when its standard input closes.
//
// Environment: PARLEY_URL (the base URL), PARLEY_TOKEN (an admin's API
// token, used as HubSpot's developer API key), APP_ID.
const http = require('node:http');
const readline = require('node:readline');
const { Client, Signature } = require('@hubspot/api-client');

const base = process.env.PARLEY_URL;
const appId = Number(process.env.APP_ID);
const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const check = (ok, what) => {
  if (!ok) throw new Error('unexpected answer: ' + what);
};
let secret = '';

const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let valid = false;
    let error = '';
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
      error = e.message;
    }
    out({ delivery: { valid, error, version: req.headers['x-hubspot-signature-version'] || '', events: valid ? JSON.parse(body) : [] } });
    res.writeHead(valid ? 204 : 401).end();
  });
});

receiver.listen(0, '127.0.0.1', async () => {
  const target = `http://127.0.0.1:${receiver.address().port}/hubspot/webhooks?portal=1`;
  try {
    const client = new Client({ developerApiKey: process.env.PARLEY_TOKEN, basePath: base });
    const hooks = client.webhooks;
    // Parley generates the signing secret and shows it once, as
    // clientSecret; the typed SettingsResponse has no field for it, so
    // this first call reads the answer as it is.
    const first = await client.apiRequest({
      method: 'PUT',
      path: `/webhooks/v3/${appId}/settings`,
      body: { targetUrl: target, throttling: { maxConcurrentRequests: 10 } },
    });
    secret = (await first.json()).clientSecret;
    check(typeof secret === 'string' && secret.length >= 32, 'generated secret');

    const settings = await hooks.settingsApi.configure(appId, { targetUrl: target, throttling: { maxConcurrentRequests: 5 } });
    check(settings.targetUrl === target && settings.throttling.maxConcurrentRequests === 5 && settings.createdAt instanceof Date, 'configure');
    const read = await hooks.settingsApi.getAll(appId);
    check(read.targetUrl === target && read.updatedAt instanceof Date, 'settings getAll');

    const subs = [];
    for (const [eventType, propertyName] of [
      ['conversation.creation'],
      ['conversation.newMessage'],
      ['conversation.propertyChange', 'status'],
      ['conversation.deletion'],
    ]) {
      subs.push(await hooks.subscriptionsApi.create(appId, { eventType, propertyName, active: true }));
    }
    check(subs[2].propertyName === 'status' && subs[2].active === true, 'create');
    await hooks.subscriptionsApi.update(subs[0].id, appId, { active: false });
    check((await hooks.subscriptionsApi.getById(subs[0].id, appId)).active === false, 'pause');
    const batch = await hooks.subscriptionsApi.updateBatch(appId, { inputs: [{ id: Number(subs[0].id), active: true }] });
    check(batch.status === 'COMPLETE' && batch.results[0].active === true, 'updateBatch');
    await hooks.subscriptionsApi.archive(subs[3].id, appId);
    const list = await hooks.subscriptionsApi.getAll(appId);
    check(list.results.length === 3 && list.results.every((s) => s.active), 'subscriptions getAll');
    out({ ready: target });
  } catch (e) {
    out({ failed: e && e.body ? `${e.message} ${JSON.stringify(e.body)}` : String(e) });
    process.exit(1);
  }
});

readline.createInterface({ input: process.stdin }).on('close', () => {
  receiver.close();
  process.exit(0);
});
