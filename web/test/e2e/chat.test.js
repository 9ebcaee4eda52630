// End to end, the Chat section: two people in separate Chromium profiles,
// connected by invitation, talk through the page. Presence follows the
// network, a reply shows up without reloading, and a message written while
// the other person is away waits in their mailbox and is marked so when they
// come back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onServer, PASS, waitOnline, unnamedControls, api, eventually } from '../pages.js';

const OFFLINE = 'offline — messages wait in their mailbox';

const site = onServer();
const { newPerson, createVault } = site;

/** Opens Chat from the navigation and the conversation with name. */
async function openChat(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
  await page.getByRole('button', { name, exact: true }).click();
  return page.getByRole('log', { name: `Conversation with ${name}` });
}

/** The presence shown for the contact called name in the list of people. */
function presenceOf(page, name) {
  return page.getByTestId('chat-contact').filter({ has: page.getByRole('button', { name, exact: true }) })
    .locator('.chat-contact-state');
}

/** The messages of a log as [text, state shown] pairs. */
async function shown(log) {
  const rows = await log.getByTestId('message').all();
  return Promise.all(rows.map(async (r) => [
    await r.getByTestId('message-text').textContent(),
    await r.getByTestId('message-state').textContent(),
  ]));
}

/** Waits until a log shows want (as [text, state shown] pairs). */
async function waitShown(what, log, want, timeout) {
  let got;
  try {
    await eventually(what, async () => {
      got = await shown(log);
      return JSON.stringify(got) === JSON.stringify(want);
    }, timeout);
  } catch (err) {
    assert.deepEqual(got, want, err.message);
  }
}

test('two people chat in the page, live, and a message written while one is away comes through the mailbox', { timeout: 300_000 }, async () => {
  const alice = await newPerson();
  const bob = await newPerson();
  const [aliceDID, bobDID] = [await createVault(alice.page), await createVault(bob.page)];
  assert.match(aliceDID, /^did:key:z6Mk/);
  await Promise.all([waitOnline(alice.page), waitOnline(bob.page)]);
  await api(alice.page, 'profile.setName', 'Alice');
  await api(bob.page, 'profile.setName', 'Bob');

  // They connect by invitation; Alice also keeps a contact with no DID.
  const inv = await api(alice.page, 'invitations.create', { note: 'book club' });
  assert.equal((await api(bob.page, 'invitations.accept', inv.link)).delivered, 'direct');
  const bobContact = await eventually('Bob among Alice\'s contacts', async () =>
    (await api(alice.page, 'contacts.list')).find((c) => c.did === bobDID));
  assert.equal(bobContact.peerId, (await api(bob.page, 'identity')).peerId, 'a contact carries the peer ID of its did:key');
  await api(alice.page, 'contacts.add', { name: 'Carol' });

  // Bob opens the conversation with Alice first, to see her message arrive.
  const bobLog = await openChat(bob.page, 'Alice');
  assert.equal(await bobLog.getByTestId('message').count(), 0);

  // Alice sees Bob online, by WebRTC made through the relay when Bob
  // accepted; Carol cannot be chatted with.
  const aliceLog = await openChat(alice.page, 'Bob');
  await assert.doesNotReject(presenceOf(alice.page, 'Bob').filter({ hasText: 'online (direct WebRTC)' }).waitFor({ timeout: 30_000 }));
  assert.equal(await alice.page.getByRole('button', { name: 'Carol' }).count(), 0);
  await alice.page.getByText('1 contact has no DID and cannot be chatted with').waitFor();
  assert.match(await alice.page.getByTestId('chat-presence').textContent(), /^Bob is online \(direct WebRTC\)/);
  assert.equal(await aliceLog.getAttribute('aria-live'), 'polite');
  assert.deepEqual(await unnamedControls(alice.page), [], 'controls without a name in Chat');

  // An empty message is refused in the page.
  const aliceBox = alice.page.getByRole('textbox', { name: 'Message' });
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  await alice.page.getByRole('alert').filter({ hasText: 'Write a message first.' }).waitFor();

  // Shift+Enter starts a new line, Enter sends; delivered at once.
  await aliceBox.fill('Hello Bob!');
  await aliceBox.press('Shift+Enter');
  await aliceBox.pressSequentially('Tea at five?');
  await aliceBox.press('Enter');
  await waitShown('Alice\'s message delivered', aliceLog, [['Hello Bob!\nTea at five?', 'delivered directly']]);
  assert.equal(await aliceBox.inputValue(), '');
  assert.equal(await alice.page.getByRole('alert').filter({ hasText: /\S/ }).count(), 0, 'the earlier alert is gone');
  assert.equal(await aliceLog.getByTestId('message').first().getAttribute('class'), 'message mine');

  // Bob's open conversation shows it without a reload, as come directly.
  await waitShown('the message on Bob\'s page', bobLog, [['Hello Bob!\nTea at five?', 'direct']]);
  assert.equal(await bobLog.getByTestId('message').first().getAttribute('class'), 'message theirs');

  // Bob answers with the Send button.
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('Yes, see you there.');
  await bob.page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitShown('Bob\'s reply delivered', bobLog, [['Hello Bob!\nTea at five?', 'direct'], ['Yes, see you there.', 'delivered directly']]);
  await waitShown('the reply on Alice\'s page', aliceLog, [['Hello Bob!\nTea at five?', 'delivered directly'], ['Yes, see you there.', 'direct']]);
  assert.deepEqual(await unnamedControls(bob.page), [], 'controls without a name in Bob\'s Chat');

  // Bob closes his browser: Alice's Chat shows him offline.
  await bob.close({ keep: true });
  await presenceOf(alice.page, 'Bob').filter({ hasText: OFFLINE }).waitFor({ timeout: 60_000 });
  assert.equal(await alice.page.getByTestId('chat-presence').textContent(), `Bob is ${OFFLINE}.`);

  // What she writes now is kept, not delivered: it waits in his mailbox.
  await aliceBox.fill('Are you still coming?');
  await aliceBox.press('Enter');
  await waitShown('the message kept for Bob', aliceLog, [
    ['Hello Bob!\nTea at five?', 'delivered directly'],
    ['Yes, see you there.', 'direct'],
    ['Are you still coming?', 'sent via mailbox, not delivered yet'],
  ]);
  assert.equal(await aliceLog.getByTestId('message').last().getAttribute('data-state'), 'sent');

  // The server restarts while the letter waits: the mailbox keeps it on
  // disk, and Alice's tab takes its place on the relay again by itself.
  await site.server.restart();
  await eventually('Alice back on the relay', async () => {
    const { relays } = await api(alice.page, 'network.status');
    return relays.length > 0 && relays.every((r) => r.connected);
  }, 60_000);

  // Bob comes back, unlocks, and finds it in Chat, marked as from his mailbox.
  const back = await newPerson({ dir: bob.dir });
  await back.page.goto(site.server.url);
  await back.page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await back.page.getByRole('button', { name: 'Unlock' }).click();
  await waitOnline(back.page);
  const backLog = await openChat(back.page, 'Alice');
  await waitShown('the message from the mailbox', backLog, [
    ['Hello Bob!\nTea at five?', 'direct'],
    ['Yes, see you there.', 'delivered directly'],
    ['Are you still coming?', 'via mailbox'],
  ]);
  assert.equal(await backLog.getByTestId('message').last().getAttribute('data-via'), 'mailbox');
  assert.deepEqual(await unnamedControls(back.page), [], 'controls without a name after coming back');
  // Bob's tab sends Alice a receipt: her page shows the letter delivered.
  await waitShown('Alice\'s letter delivered, by Bob\'s receipt', aliceLog, [
    ['Hello Bob!\nTea at five?', 'delivered directly'],
    ['Yes, see you there.', 'direct'],
    ['Are you still coming?', 'delivered via mailbox'],
  ]);

  // After the restart they chat live again, and both vaults hold all of it:
  // over WebRTC again once it is up (until then, through the relay).
  await presenceOf(back.page, 'Alice').filter({ hasText: 'online (direct WebRTC)' }).waitFor({ timeout: 60_000 });
  await back.page.getByRole('textbox', { name: 'Message' }).fill('Yes, on my way.');
  await back.page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitShown('Bob\'s answer delivered', backLog, [
    ['Hello Bob!\nTea at five?', 'direct'],
    ['Yes, see you there.', 'delivered directly'],
    ['Are you still coming?', 'via mailbox'],
    ['Yes, on my way.', 'delivered directly'],
  ]);
  await waitShown('Bob\'s answer on Alice\'s page', aliceLog, [
    ['Hello Bob!\nTea at five?', 'delivered directly'],
    ['Yes, see you there.', 'direct'],
    ['Are you still coming?', 'delivered via mailbox'],
    ['Yes, on my way.', 'direct'],
  ]);

  // Their tabs talk browser to browser: when the server goes away, the
  // conversation goes on.
  await site.server.stop();
  await back.page.getByRole('textbox', { name: 'Message' }).fill('The server is down, we still talk.');
  await back.page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitShown('a message with the server down, on Alice\'s page', aliceLog, [
    ['Hello Bob!\nTea at five?', 'delivered directly'],
    ['Yes, see you there.', 'direct'],
    ['Are you still coming?', 'delivered via mailbox'],
    ['Yes, on my way.', 'direct'],
    ['The server is down, we still talk.', 'direct'],
  ]);

  // With neither Alice nor the server to reach, the message cannot go:
  // the page says why, and keeps it, waiting in Bob's outbox.
  await alice.close({ keep: true });
  await back.page.getByRole('textbox', { name: 'Message' }).fill('Coming, sorry!');
  await back.page.getByRole('button', { name: 'Send', exact: true }).click();
  await back.page.getByRole('status').filter({ hasText: /^Kept: neither Alice nor their relay can be reached now/ }).waitFor({ timeout: 120_000 });
  assert.equal(await back.page.getByRole('textbox', { name: 'Message' }).inputValue(), '');
  const waiting = [
    ['Hello Bob!\nTea at five?', 'direct'],
    ['Yes, see you there.', 'delivered directly'],
    ['Are you still coming?', 'via mailbox'],
    ['Yes, on my way.', 'delivered directly'],
    ['The server is down, we still talk.', 'delivered directly'],
  ];
  await waitShown('Bob\'s message waiting', backLog, [...waiting, ['Coming, sorry!', 'waiting to be sent']]);
  assert.equal(await backLog.getByTestId('message').last().getAttribute('data-state'), 'queued');

  // The server comes back: Bob's tab leaves the message in Alice's mailbox
  // by itself; when she comes back, it reaches her, and Bob sees it
  // delivered.
  await site.server.restart();
  await waitShown('Bob\'s message in Alice\'s mailbox', backLog, [...waiting, ['Coming, sorry!', 'sent via mailbox, not delivered yet']], 90_000);
  const aliceBack = await newPerson({ dir: alice.dir });
  await aliceBack.page.goto(site.server.url);
  await aliceBack.page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await aliceBack.page.getByRole('button', { name: 'Unlock' }).click();
  await waitOnline(aliceBack.page);
  const aliceBackLog = await openChat(aliceBack.page, 'Bob');
  await waitShown('the message from Bob\'s outbox, on Alice\'s page', aliceBackLog, [
    ['Hello Bob!\nTea at five?', 'delivered directly'],
    ['Yes, see you there.', 'direct'],
    ['Are you still coming?', 'delivered via mailbox'],
    ['Yes, on my way.', 'direct'],
    ['The server is down, we still talk.', 'direct'],
    ['Coming, sorry!', 'via mailbox'],
  ]);
  await waitShown('Bob\'s message delivered', backLog, [...waiting, ['Coming, sorry!', 'delivered via mailbox']]);
});

test('messages from strangers wait as requests, apart from the people, until accepted, declined or blocked', { timeout: 240_000 }, async () => {
  const bob = await newPerson();
  const carol = await newPerson();
  const dave = await newPerson();
  const [bobDID] = [await createVault(bob.page), await createVault(carol.page), await createVault(dave.page)];
  await Promise.all([waitOnline(bob.page), waitOnline(carol.page), waitOnline(dave.page)]);
  // Strangers reach Bob through the relay, at his address there.
  const bobStatus = await api(bob.page, 'network.status');
  const bobAddr = bobStatus.addresses.find((a) => a.includes('/p2p-circuit/p2p/'));
  assert.ok(bobAddr, `Bob's address through the relay: ${bobStatus.addresses.join(' ')}`);

  // Bob is in Chat, with nobody to chat with.
  await bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Chat', exact: true }).click();
  await bob.page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
  const requests = bob.page.getByRole('region', { name: 'Requests' });
  assert.equal(await requests.count(), 0, 'no Requests while there are none');

  // Carol, whom Bob does not know, writes to him: it shows up live, as a
  // request, and not among the people.
  await api(carol.page, 'network.ping', bobAddr);
  const sent = await api(carol.page, 'chat.send', bobDID, 'Hello, we met at the market?');
  assert.equal(sent.state, 'delivered', 'handed over to Bob\'s tab');
  // A stranger is given no way to connect directly (Bob's tab answers no
  // WebRTC signalling from one): the message went through the relay.
  assert.equal(sent.via, 'relayed', 'through the relay, not directly');
  const carolRequest = requests.getByTestId('chat-request');
  await carolRequest.getByTestId('request-message').filter({ hasText: 'Hello, we met at the market?' }).waitFor({ timeout: 30_000 });
  assert.equal(await bob.page.getByTestId('chat-contact').count(), 0, 'a request is not in the list of people');
  assert.deepEqual(await unnamedControls(bob.page), [], 'controls without a name in Requests');

  // Dave writes too; Bob blocks him: his request goes, and what he sends
  // next never shows.
  await api(dave.page, 'network.ping', bobAddr);
  await api(dave.page, 'chat.send', bobDID, 'Cheap watches!');
  await requests.getByTestId('request-message').filter({ hasText: 'Cheap watches!' }).waitFor({ timeout: 30_000 });
  await requests.getByRole('button', { name: /^Block / }).first().waitFor();
  const daveRow = requests.getByTestId('chat-request').filter({ hasText: 'Cheap watches!' });
  await daveRow.getByRole('button', { name: /^Block / }).click();
  await daveRow.waitFor({ state: 'detached' });
  await api(dave.page, 'chat.send', bobDID, 'Still cheap watches!');
  assert.deepEqual((await api(bob.page, 'chat.requests')).map((r) => r.messages.map((m) => m.text)),
    [['Hello, we met at the market?']], 'a blocked sender\'s message is dropped');

  // Bob accepts Carol: she is among the people now, and the conversation
  // opens with her message.
  await carolRequest.getByRole('button', { name: /^Accept / }).click();
  await requests.waitFor({ state: 'hidden' });
  const log = bob.page.getByRole('log', { name: /^Conversation with / });
  await waitShown('Carol\'s message in the conversation', log, [['Hello, we met at the market?', 'relayed']]);
  assert.equal(await bob.page.getByTestId('chat-contact').count(), 1, 'Carol among the people');

  // A declined request is deleted.
  const eve = await newPerson();
  await createVault(eve.page);
  await waitOnline(eve.page);
  await api(eve.page, 'network.ping', bobAddr);
  await api(eve.page, 'chat.send', bobDID, 'Hi!');
  const eveRow = requests.getByTestId('chat-request').filter({ hasText: 'Hi!' });
  await eveRow.waitFor({ timeout: 30_000 });
  await eveRow.getByRole('button', { name: /^Decline / }).click();
  await requests.waitFor({ state: 'hidden' });
  assert.deepEqual(await api(bob.page, 'chat.requests'), []);
});
