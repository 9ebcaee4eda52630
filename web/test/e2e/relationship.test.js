// End to end, relationships on the First Person Network: a PLANET tab and
// OpenVTC-shaped peers outside PLANET (web/test/interop/openvtc.mjs, written
// from OpenVTC's sources, carried by didcomm-node through the PLANET
// server's mediator) exchange relationship requests both ways, and
// relationship credentials (VRCs) both ways, each side verifying the
// other's proofs and credentials with its own code. The tab does it all
// through its page: the Connect section.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onServer, api, eventually } from '../pages.js';
import { MediatorPeer } from '../mediator-peer.js';
import * as ovtc from '../interop/openvtc.mjs';

const site = onServer();
const { newPerson, createVault } = site;

/** Opens the Connect section of page. */
async function openConnect(page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connect', exact: true }).click();
  await page.getByRole('heading', { name: 'Connect', level: 1 }).waitFor();
}

test('a PLANET tab and OpenVTC-shaped peers exchange relationships and VRCs that verify on both sides', { timeout: 300_000 }, async () => {
  const alice = await newPerson();
  await createVault(alice.page);
  await api(alice.page, 'setSettings', { name: 'Alice' });
  const status = await eventually('the tab online at its mediator', async () => {
    const s = await api(alice.page, 'network.status');
    return s.mediator.state === 'online' && s.shareDid ? s : undefined;
  }, 60_000);
  const aliceDID = status.shareDid;
  const mediator = await (await fetch(`${site.server.url}didcomm`)).json();

  // Dana, outside PLANET: a persona and a relationship DID, as OpenVTC
  // mints them, both at the same server's mediator.
  const dana = ovtc.newParty(mediator.did);
  const danaRel = ovtc.newParty(mediator.did);
  const danaPeer = await MediatorPeer.join(site.server.url, [dana, danaRel]);

  // Dana asks Alice, with a note; the request shows in Alice's Connect
  // section, not in her chat.
  const request = ovtc.relationshipRequest({ persona: dana, rel: danaRel, peerDID: aliceDID, reason: 'Dana, from the co-op garden', name: 'Dana' });
  await danaPeer.send(request);
  await openConnect(alice.page);
  const asked = alice.page.getByRole('list', { name: 'Requests for you' }).getByTestId('relationship-request').filter({ hasText: 'Dana' });
  await asked.waitFor({ timeout: 30_000 });
  assert.equal(await asked.getByTestId('relationship-note').textContent(), 'Dana, from the co-op garden');
  assert.deepEqual(await api(alice.page, 'chat.requests'), []);

  // Alice accepts in the page. Dana reads the accept and checks both of
  // its proofs with the peer's own code, then finalizes.
  await asked.getByRole('button', { name: 'Accept' }).click();
  const accept = (await danaPeer.next(ovtc.TYPES.accept)).message;
  const bound = ovtc.checkAccept(accept, { thid: request.id, requester: dana.did });
  assert.equal(bound.persona, aliceDID);
  assert.notEqual(bound.did, aliceDID, 'Alice answers with a relationship DID of its own');
  assert.match(bound.did, /^did:peer:2\./);
  const aliceRel = bound.did;
  await danaPeer.send(ovtc.relationshipFinalize({ persona: dana, peerDID: aliceDID, thid: request.id }));
  const danaRow = alice.page.getByRole('list', { name: 'Your relationships' }).getByTestId('relationship').filter({ hasText: 'Dana' });
  await danaRow.and(alice.page.locator('[data-state="established"]')).waitFor({ timeout: 30_000 });
  assert.equal(await danaRow.getByTestId('relationship-state').textContent(), 'Connected.');
  const contacts = await api(alice.page, 'contacts.list');
  assert.ok(contacts.some((c) => c.did === dana.did && c.name === 'Dana' && c.origin === 'relationship'), JSON.stringify(contacts));

  // Dana asks Alice for a VRC, between the relationship DIDs; Alice issues
  // it in the page; Dana verifies it with the peer's own code.
  const vrcAsk = ovtc.vrcRequest({ from: danaRel, to: aliceRel, reason: 'for the garden register' });
  await danaPeer.send(vrcAsk);
  const toIssue = danaRow.getByTestId('credential').and(alice.page.locator('[data-direction="asked-of-me"]'));
  await toIssue.waitFor({ timeout: 30_000 });
  await toIssue.getByRole('button', { name: 'Issue' }).click();
  const issued = (await danaPeer.next(ovtc.TYPES.vrcIssued)).message;
  assert.equal(issued.thid, vrcAsk.id);
  assert.equal(issued.from, aliceRel);
  const vrc = issued.body;
  const { digestMultibase } = ovtc.verifyVRC(vrc);
  assert.equal(vrc.issuer, aliceRel);
  assert.equal(vrc.credentialSubject.id, danaRel.did);
  assert.equal(vrc.issuerScope, 'pairwise');
  await toIssue.and(alice.page.locator('[data-state="issued"]')).waitFor({ timeout: 30_000 });
  assert.equal(await toIssue.locator('code').textContent(), digestMultibase, 'both sides compute one digest');

  // Alice asks Dana for one in the page; Dana issues it; Alice's page
  // shows it verified.
  await danaRow.getByRole('button', { name: 'Ask for a relationship credential' }).click();
  const theirAsk = (await danaPeer.next(ovtc.TYPES.vrcRequest)).message;
  assert.equal(theirAsk.from, aliceRel);
  assert.deepEqual(theirAsk.to, [danaRel.did]);
  const danaVRC = ovtc.issueVRC({ issuer: danaRel, subjectDID: aliceRel });
  // First a copy changed after signing: its proof no longer holds, and
  // Alice's PLANET drops it; then the credential as signed.
  const forged = structuredClone(danaVRC);
  forged.validFrom = '2020-01-01T00:00:00Z';
  await danaPeer.send(ovtc.vrcIssued({ from: danaRel, to: aliceRel, thid: theirAsk.id, credential: forged }));
  await danaPeer.send(ovtc.vrcIssued({ from: danaRel, to: aliceRel, thid: theirAsk.id, credential: danaVRC }));
  const received = danaRow.getByTestId('credential').and(alice.page.locator('[data-direction="asked-by-me"][data-state="issued"]'));
  await received.waitFor({ timeout: 30_000 });
  assert.equal(await received.getAttribute('data-verified'), 'true');
  assert.equal(await received.locator('code').textContent(), ovtc.digestMultibase(danaVRC));

  // The other way: Alice connects to Erin by the DID Erin shares, with a
  // note, from the page; Erin checks the request's proofs and accepts; the
  // tab finalizes by itself.
  const erin = ovtc.newParty(mediator.did);
  const erinRel = ovtc.newParty(mediator.did);
  const erinPeer = await MediatorPeer.join(site.server.url, [erin, erinRel]);
  await alice.page.getByTestId('connect-did').fill(erin.did);
  await alice.page.getByTestId('connect-note').fill('Alice here: we spoke at the library');
  await alice.page.getByTestId('connect-submit').click();
  await alice.page.getByRole('status').filter({ hasText: 'Request sent' }).waitFor({ timeout: 30_000 });
  const toErin = (await erinPeer.next(ovtc.TYPES.request)).message;
  const read = ovtc.checkRequest(toErin, { recipient: erin.did });
  assert.equal(read.persona, aliceDID);
  assert.equal(read.reason, 'Alice here: we spoke at the library');
  assert.equal(read.name, 'Alice');
  assert.notEqual(read.did, aliceRel, 'a new relationship DID for each relationship');
  await erinPeer.send(ovtc.relationshipAccept({ persona: erin, rel: erinRel, peerDID: aliceDID, thid: toErin.id }));
  const fin = (await erinPeer.next(ovtc.TYPES.finalize)).message;
  assert.equal(fin.thid, toErin.id);
  assert.equal(fin.from, aliceDID);
  const erinRow = alice.page.getByRole('list', { name: 'Your relationships' }).getByTestId('relationship')
    .and(alice.page.locator('[data-state="established"]')).filter({ hasText: erin.did });
  await erinRow.waitFor({ timeout: 30_000 });

  // What Alice keeps is the credential as signed, not the changed copy.
  const { credentials } = await api(alice.page, 'relationships.list');
  const mine = credentials.filter((c) => c.direction === 'asked-by-me');
  assert.equal(mine.length, 1);
  assert.equal(mine[0].credential.id, danaVRC.id);
  assert.equal(Date.parse(mine[0].credential.validFrom), Date.parse(danaVRC.validFrom));
  assert.equal(mine[0].credential.verified, true);
});
