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
import { onServer, api, call, eventually, PASS } from '../pages.js';
import { MediatorPeer } from '../mediator-peer.js';
import { newParty } from '../interop/openvtc.mjs';

const site = onServer();
const { newPerson, createVault } = site;

const BASIC = 'https://didcomm.org/basicmessage/2.0/message';

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

  // Carol, on didcomm-node, is a client of the same server's mediator.
  const mediator = await (await fetch(`${site.server.url}didcomm`)).json();
  const carol = newParty(mediator.did);
  const peer = await MediatorPeer.join(site.server.url, [carol]);

  // Carol writes; didcomm-node routes it through the mediator Alice's DID names.
  await peer.send({
    id: 'carol-hello-1', typ: 'application/didcomm-plain+json', type: BASIC,
    from: carol.did, to: [aliceDID], created_time: Math.floor(Date.now() / 1000),
    body: { content: 'Hello from outside PLANET' },
  });

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

  const got = await peer.pickup();
  assert.equal(got.length, 1);
  const { message: value, metadata: readMeta } = got[0];
  assert.equal(value.type, BASIC);
  assert.equal(value.from, aliceDID);
  assert.equal(value.body.content, 'Welcome, Carol');
  assert.equal(readMeta.authenticated, true, 'authcrypted by Alice');
  assert.deepEqual(await peer.pickup(), [], 'picked up once, then acknowledged');
});

test('two PLANET people add each other by the DIDs they share and chat tab to tab, through the mediator while one is away, and across a server restart', { timeout: 300_000 }, async () => {
  const alice = await newPerson();
  const bob = await newPerson();
  await Promise.all([createVault(alice.page), createVault(bob.page)]);
  const shared = async (page) => (await eventually('at the mediator', async () => {
    const s = await api(page, 'network.status');
    return s.mediator.state === 'online' && s.shareDid ? s : undefined;
  }, 60_000)).shareDid;
  const [aliceDID, bobDID] = [await shared(alice.page), await shared(bob.page)];

  // Alice writes to the DID Bob shared. Both tabs are open and on the same
  // server, so it goes to Bob's tab on a libp2p stream, not through the
  // mediator, and is at once a request in his Chat.
  const first = await api(alice.page, 'chat.send', bobDID, 'Hi Bob, it is Alice');
  assert.equal(first.state, 'delivered', JSON.stringify(first));
  assert.ok(['direct', 'relayed'].includes(first.via), `went ${first.via}`);
  await bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Chat', exact: true }).click();
  await bob.page.getByRole('region', { name: 'Requests' }).getByTestId('request-message')
    .filter({ hasText: 'Hi Bob, it is Alice' }).waitFor({ timeout: 30_000 });
  await api(bob.page, 'chat.acceptRequest', aliceDID, 'Alice');
  await api(bob.page, 'chat.send', aliceDID, 'Hello Alice');
  await eventually('Bob\'s answer in Alice\'s conversation, on a stream', async () =>
    (await api(alice.page, 'chat.conversation', bobDID)).some((m) => m.text === 'Hello Alice' && ['direct', 'relayed'].includes(m.via)));

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
