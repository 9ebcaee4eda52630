// End to end, the First Person Network: a PLANET tab and a DIDComm peer
// outside PLANET (didcomm-node, the DIF reference implementation, run in
// this process) write to each other. The peer routes its message through
// the PLANET server's mediator to the DID the tab shares; the tab, picking
// up live over its WebSocket, shows it as a request; once accepted, the
// tab's answer goes to the mediator the peer's DID names (the same server's:
// the peer is a client of it too, through didcomm-node), where the peer picks
// it up and reads it as authcrypted by the PLANET person.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { onServer, api, call, eventually, PASS } from '../pages.js';

const require = createRequire(import.meta.url);
const { Message } = require('didcomm-node');

const site = onServer();
const { newPerson, createVault } = site;

const BASIC = 'https://didcomm.org/basicmessage/2.0/message';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** base58btc of bytes (Bitcoin's alphabet), as multibase "z" keys use. */
function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    s = '1' + s;
  }
  return s;
}

function unbase58(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  const out = [];
  while (n > 0n) {
    out.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const c of s) {
    if (c !== '1') break;
    out.unshift(0);
  }
  return Uint8Array.from(out);
}

/** A Multikey of a raw public key with its multicodec prefix. */
function multikey(prefix, raw) {
  return 'z' + base58(Uint8Array.from([...prefix, ...raw]));
}

/** A key pair of kind ('ed25519', 'x25519') as raw public and private JWK members. */
function keyPair(kind) {
  const { publicKey, privateKey } = generateKeyPairSync(kind);
  const jwk = privateKey.export({ format: 'jwk' });
  return { x: jwk.x, d: jwk.d, crv: jwk.crv, raw: Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url') };
}

/**
 * A person outside PLANET: a did:peer:2 of an Ed25519 and an X25519 key,
 * whose DIDComm service names a mediator by its DID.
 */
function outsider(mediatorDID) {
  const ed = keyPair('ed25519');
  const x = keyPair('x25519');
  const service = { t: 'dm', s: { uri: mediatorDID, accept: ['didcomm/v2'] } };
  const did = `did:peer:2.V${multikey([0xed, 0x01], ed.raw)}.E${multikey([0xec, 0x01], x.raw)}.S${Buffer.from(JSON.stringify(service)).toString('base64url')}`;
  const doc = {
    id: did,
    verificationMethod: [
      { id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: ed.x } },
      { id: `${did}#key-2`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv: 'X25519', x: x.x } },
    ],
    authentication: [`${did}#key-1`],
    keyAgreement: [`${did}#key-2`],
    service: [{ id: `${did}#service`, type: 'DIDCommMessaging', serviceEndpoint: { uri: mediatorDID, accept: ['didcomm/v2'], routingKeys: [], routing_keys: [] } }],
  };
  const secrets = [
    { id: `${did}#key-1`, type: 'JsonWebKey2020', privateKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: ed.x, d: ed.d } },
    { id: `${did}#key-2`, type: 'JsonWebKey2020', privateKeyJwk: { kty: 'OKP', crv: 'X25519', x: x.x, d: x.d } },
  ];
  return { did, doc, secrets };
}

/**
 * A DID document from PLANET's resolver (Multikey), in the form
 * didcomm-node reads (JsonWebKey2020, absolute ids).
 */
async function resolved(serverURL, did) {
  const resp = await fetch(`${serverURL}1.0/identifiers/${encodeURIComponent(did)}`);
  assert.equal(resp.status, 200, `resolving ${did}`);
  const body = await resp.json();
  const doc = body.didDocument ?? body;
  const abs = (ref) => (ref.startsWith('#') ? did + ref : ref);
  return {
    id: did,
    verificationMethod: doc.verificationMethod.map((vm) => {
      const key = unbase58(vm.publicKeyMultibase.slice(1));
      const crv = key[0] === 0xed ? 'Ed25519' : 'X25519';
      return { id: abs(vm.id), type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv, x: Buffer.from(key.slice(2)).toString('base64url') } };
    }),
    authentication: (doc.authentication ?? []).map(abs),
    keyAgreement: (doc.keyAgreement ?? []).map(abs),
    service: (doc.service ?? []).map((s) => ({
      id: abs(s.id), type: s.type,
      serviceEndpoint: { uri: s.serviceEndpoint.uri, accept: s.serviceEndpoint.accept ?? ['didcomm/v2'], routingKeys: s.serviceEndpoint.routingKeys ?? [], routing_keys: s.serviceEndpoint.routingKeys ?? [] },
    })),
  };
}

/** Posts a packed message to the mediator; returns its status and answer. */
async function post(url, packed) {
  const resp = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/didcomm-encrypted+json' }, body: packed });
  return { status: resp.status, body: await resp.text() };
}

test('a DIDComm peer outside PLANET and a PLANET tab write to each other through the mediator', { timeout: 240_000 }, async () => {
  const alice = await newPerson();
  await createVault(alice.page);
  const status = await eventually('the tab online at its mediator', async () => {
    const s = await api(alice.page, 'network.status');
    return s.mediator.state === 'online' && s.shareDid ? s : undefined;
  }, 60_000);
  const aliceDID = status.shareDid;
  assert.match(aliceDID, /^did:peer:2\./);
  // Home shows it to share, with its QR code.
  await alice.page.getByTestId('share-did').filter({ hasText: aliceDID }).waitFor({ timeout: 30_000 });
  await alice.page.getByRole('img', { name: 'QR code of the DID to share' }).waitFor();

  const mediator = await (await fetch(`${site.server.url}didcomm`)).json();
  const mediatorURL = mediator.didDocument.service[0].serviceEndpoint.uri;
  const carol = outsider(mediator.did);
  const docs = {
    [carol.did]: carol.doc,
    [aliceDID]: await resolved(site.server.url, aliceDID),
    [mediator.did]: await resolved(site.server.url, mediator.did),
  };
  const resolver = { resolve: async (did) => docs[did] ?? null };
  const secrets = {
    get_secret: async (id) => carol.secrets.find((s) => s.id === id) ?? null,
    find_secrets: async (ids) => ids.filter((id) => carol.secrets.some((s) => s.id === id)),
  };
  let n = 0;
  /** Carol asks her mediator something and reads its answer, with didcomm-node. */
  async function ask(type, body) {
    const m = new Message({
      id: `carol-${++n}`, typ: 'application/didcomm-plain+json', type, from: carol.did, to: [mediator.did],
      created_time: Math.floor(Date.now() / 1000), body, return_route: 'all',
    });
    const [packed] = await m.pack_encrypted(mediator.did, carol.did, null, resolver, secrets, { forward: false });
    const r = await post(mediatorURL, packed);
    assert.equal(r.status, 200, `${type}: ${r.body}`);
    const [answer, meta] = await Message.unpack(r.body, resolver, secrets, {});
    assert.equal(meta.authenticated, true, `the answer to ${type} is authcrypted by the mediator`);
    return answer.as_value();
  }

  // Carol, on didcomm-node, is a client of the same server's mediator.
  const grant = await ask('https://didcomm.org/coordinate-mediation/2.0/mediate-request', {});
  assert.equal(grant.body.routing_did, mediator.did);
  const updated = await ask('https://didcomm.org/coordinate-mediation/2.0/keylist-update', { updates: [{ recipient_did: carol.did, action: 'add' }] });
  assert.equal(updated.body.updated[0].result, 'success');

  // Carol writes; didcomm-node routes it through the mediator Alice's DID names.
  const msg = new Message({
    id: 'carol-hello-1', typ: 'application/didcomm-plain+json', type: BASIC,
    from: carol.did, to: [aliceDID], created_time: Math.floor(Date.now() / 1000),
    body: { content: 'Hello from outside PLANET' },
  });
  const [packed, meta] = await msg.pack_encrypted(aliceDID, carol.did, null, resolver, secrets, { forward: true });
  assert.equal(meta.messaging_service?.service_endpoint, mediatorURL, 'routed to the mediator');
  assert.equal((await post(mediatorURL, packed)).status, 202);

  // It reaches the open tab live, as a request, and shows in Chat.
  await alice.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Chat', exact: true }).click();
  const requests = alice.page.getByRole('region', { name: 'Requests' });
  await requests.getByTestId('request-message').filter({ hasText: 'Hello from outside PLANET' }).waitFor({ timeout: 30_000 });
  const reqs = await api(alice.page, 'chat.requests');
  assert.equal(reqs[0].from, carol.did);
  assert.equal(reqs[0].messages[0].via, 'didcomm');

  // Alice accepts in the page: Carol's message opens the conversation,
  // marked as come through a mediator.
  await requests.getByTestId('chat-request').getByRole('button', { name: /^Accept / }).click();
  await requests.waitFor({ state: 'hidden' });
  const log = alice.page.getByRole('log', { name: /^Conversation with / });
  const first = log.getByTestId('message').first();
  await first.getByTestId('message-text').filter({ hasText: 'Hello from outside PLANET' }).waitFor({ timeout: 30_000 });
  assert.equal(await first.getByTestId('message-state').textContent(), 'via mediator');
  assert.equal(await first.getAttribute('data-via'), 'didcomm');

  // She answers with the Send button: through Carol's mediator, where Carol picks it up.
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Welcome, Carol');
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  const mine = log.getByTestId('message').filter({ hasText: 'Welcome, Carol' });
  await mine.waitFor({ timeout: 30_000 });
  await eventually('the answer shown as sent to the mediator', async () =>
    (await mine.getByTestId('message-state').textContent()) === 'sent to their mediator');
  // Contacts say where Carol is from.
  await alice.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Contacts', exact: true }).click();
  await alice.page.getByTestId('contact-origin').filter({ hasText: 'On the First Person Network' }).waitFor({ timeout: 30_000 });

  const delivery = await ask('https://didcomm.org/messagepickup/3.0/delivery-request', { limit: 10 });
  assert.equal(delivery.type, 'https://didcomm.org/messagepickup/3.0/delivery');
  assert.equal(delivery.attachments.length, 1);
  const [read, readMeta] = await Message.unpack(Buffer.from(delivery.attachments[0].data.base64, 'base64url').toString('utf8'), resolver, secrets, {});
  const value = read.as_value();
  assert.equal(value.type, BASIC);
  assert.equal(value.from, aliceDID);
  assert.equal(value.body.content, 'Welcome, Carol');
  assert.equal(readMeta.authenticated, true, 'authcrypted by Alice');
  const after = await ask('https://didcomm.org/messagepickup/3.0/messages-received', { message_id_list: [delivery.attachments[0].id] });
  assert.equal(after.body.message_count, 0);
});

test('two PLANET people add each other by the DIDs they share and chat through the mediator, also while one is away and across a server restart', { timeout: 300_000 }, async () => {
  const alice = await newPerson();
  const bob = await newPerson();
  await Promise.all([createVault(alice.page), createVault(bob.page)]);
  const shared = async (page) => (await eventually('at the mediator', async () => {
    const s = await api(page, 'network.status');
    return s.mediator.state === 'online' && s.shareDid ? s : undefined;
  }, 60_000)).shareDid;
  const [aliceDID, bobDID] = [await shared(alice.page), await shared(bob.page)];

  // Alice writes to the DID Bob shared: it is at once a request in his Chat.
  assert.equal((await api(alice.page, 'chat.send', bobDID, 'Hi Bob, it is Alice')).state, 'sent');
  await bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Chat', exact: true }).click();
  await bob.page.getByRole('region', { name: 'Requests' }).getByTestId('request-message')
    .filter({ hasText: 'Hi Bob, it is Alice' }).waitFor({ timeout: 30_000 });
  await api(bob.page, 'chat.acceptRequest', aliceDID, 'Alice');
  await api(bob.page, 'chat.send', aliceDID, 'Hello Alice');
  await eventually('Bob\'s answer in Alice\'s conversation', async () =>
    (await api(alice.page, 'chat.conversation', bobDID)).some((m) => m.text === 'Hello Alice' && m.via === 'didcomm'));

  // Bob goes away; Alice writes; the server restarts meanwhile. The message
  // waits at the mediator, on disk, and reaches Bob when he comes back.
  await bob.close({ keep: true });
  await api(alice.page, 'chat.send', bobDID, 'Are you there?');
  await site.server.restart();
  const back = await newPerson({ dir: bob.dir });
  await back.page.goto(site.server.url);
  await back.page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await back.page.getByRole('button', { name: 'Unlock' }).click();
  await eventually('the message that waited, after the restart', async () => {
    const conv = await call(back.page, 'chat.conversation', aliceDID);
    return conv.ok?.some((m) => m.text === 'Are you there?' && m.via === 'didcomm');
  }, 90_000);
  // And Alice's tab is back at the restarted mediator by itself.
  await eventually('Alice back at the mediator', async () => (await api(alice.page, 'network.status')).mediator.state === 'online', 90_000);
});
