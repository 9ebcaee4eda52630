// End to end, the trust network: four people in separate Chromium profiles,
// each tab running its own libp2p node against the real server's relay.
// Alice invites Bob (by link) and Carol; Carol invites Dave. Alice introduces
// Bob and Carol through the page; both accept and become connected, holding
// credentials that name Alice as introducer. Carol then shares her
// connections with Bob, whose trust graph shows how he reaches Dave.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onServer, waitOnline, unnamedControls, api, eventually } from '../pages.js';

const WHY = 'you both restore old bicycles';

const site = onServer();
const { newPerson, createVault } = site;

/** The contact of me whose DID is did, once it is connected. */
function connectedContact(me, did, what) {
  return eventually(what, async () => (await api(me.page, 'contacts.list')).find((c) => c.did === did && c.connected));
}

/** The relationship credentials me holds between x and y, once there is one each way. */
async function credentialsBetween(me, x, y) {
  const pair = [x, y].sort().join();
  return eventually(`credentials each way between ${x} and ${y}`, async () => {
    const creds = (await api(me.page, 'credentials.list')).filter((k) => !k.sharedBy && [k.issuer, k.subject].sort().join() === pair);
    return creds.some((k) => k.issuer === x) && creds.some((k) => k.issuer === y) && creds;
  });
}

/** Opens a section from the navigation. */
async function openSection(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Connects inviter and invitee by an invitation accepted through the API. */
async function connect(inviter, invitee, note) {
  const inv = await api(inviter.page, 'invitations.create', { note, hours: 2 });
  await api(invitee.page, 'invitations.accept', inv.link);
  await connectedContact(inviter, invitee.did, `${inviter.name} to have ${invitee.name} as a contact`);
  await connectedContact(invitee, inviter.did, `${invitee.name} to have ${inviter.name} as a contact`);
}

test('an introduction through the page connects two people, and shared connections explain a path', { timeout: 600_000 }, async () => {
  const [alice, bob, carol, dave] = [await newPerson(), await newPerson(), await newPerson(), await newPerson()];
  for (const [p, name] of [[alice, 'Alice'], [bob, 'Bob'], [carol, 'Carol'], [dave, 'Dave']]) {
    p.did = await createVault(p.page);
    p.name = name;
    await waitOnline(p.page);
    await api(p.page, 'profile.setName', name);
  }

  // Alice invites Bob in the page: the link and its QR code; he opens the
  // link in his vault and accepts.
  await openSection(alice.page, 'Introduce');
  await alice.page.getByLabel('How you know them').fill('neighbours');
  await alice.page.getByLabel('Valid for').selectOption({ label: '1 day' });
  await alice.page.getByRole('button', { name: 'Create invitation' }).click();
  const link = await alice.page.getByLabel('Invitation link').inputValue();
  assert.ok(link.startsWith(`${site.server.url}#/invite/`), link);
  await alice.page.getByRole('img', { name: 'QR code of the invitation link' }).waitFor();
  await alice.page.getByTestId('invitation').filter({ hasText: 'neighbours' }).filter({ hasText: '1 use left' }).waitFor();
  await bob.page.goto(link);
  await bob.page.getByRole('heading', { level: 1, name: 'Invitation' }).waitFor();
  await bob.page.getByRole('button', { name: 'Accept invitation' }).click();
  await bob.page.getByRole('status').filter({ hasText: /^Connected/ }).waitFor({ timeout: 60_000 });
  await connectedContact(alice, bob.did, 'Alice to have Bob as a contact');
  for (const me of [alice, bob]) {
    for (const k of await credentialsBetween(me, alice.did, bob.did)) {
      assert.equal(k.type, 'RelationshipCredential');
      assert.equal(k.verified, true, k.problem);
    }
  }
  await connect(alice, carol, 'choir');
  await connect(carol, dave, 'climbing partners');

  // Alice introduces Bob and Carol in the page.
  await openSection(alice.page, 'Introduce');
  const first = alice.page.getByLabel('First person');
  await eventually('Bob and Carol among the people Alice can introduce', async () => {
    const options = await first.locator('option').allTextContents();
    return options.includes('Bob') && options.includes('Carol');
  });
  await first.selectOption({ label: 'Bob' });
  await alice.page.getByLabel('Second person').selectOption({ label: 'Carol' });
  await alice.page.getByLabel('Why they should meet').fill(WHY);
  assert.deepEqual(await unnamedControls(alice.page), [], 'controls without a name on Introduce');
  await alice.page.getByRole('button', { name: 'Introduce', exact: true }).click();
  const made = alice.page.getByTestId('made-introduction').filter({ hasText: 'Bob' }).filter({ hasText: 'Carol' });
  await made.waitFor({ timeout: 60_000 });
  const [intro] = (await api(alice.page, 'introductions.list')).made;
  assert.deepEqual([intro.a, intro.b, intro.aName, intro.bName, intro.note], [bob.did, carol.did, 'Bob', 'Carol', WHY]);

  // Bob and Carol each see it and accept.
  for (const [me, other] of [[bob, carol], [carol, bob]]) {
    await openSection(me.page, 'Introduce');
    const received = me.page.getByTestId('received-introduction').filter({ hasText: other.name });
    await received.waitFor({ timeout: 60_000 });
    const text = await received.textContent();
    assert.ok(text.includes('Alice') && text.includes(WHY), `the introduction tells who and why: ${text}`);
    assert.deepEqual(await unnamedControls(me.page), [], `controls without a name on ${me.name}'s Introduce`);
    await received.getByRole('button', { name: 'Accept', exact: true }).click();
    await eventually(`${me.name}'s answer to show`, async () => {
      const t = await received.textContent();
      return /accepted — waiting for|connected/.test(t) && !(await received.getByRole('button', { name: 'Accept', exact: true }).count());
    }, 60_000);
  }
  await bob.page.getByTestId('received-introduction').filter({ hasText: /connected/ }).waitFor({ timeout: 60_000 });

  // Bob and Carol are contacts, introduced by Alice, with credentials that say so.
  for (const [me, other] of [[bob, carol], [carol, bob]]) {
    const c = await connectedContact(me, other.did, `${me.name} to have ${other.name} as a contact`);
    assert.equal(c.name, other.name);
    assert.equal(c.origin, 'introduced');
    assert.equal(c.introducedBy, alice.did);
    for (const k of await credentialsBetween(me, bob.did, carol.did)) {
      assert.equal(k.verified, true, k.problem);
      assert.equal(k.introducedBy, alice.did);
      assert.equal(k.context, WHY);
    }
    const [r] = (await api(me.page, 'introductions.list')).received;
    assert.deepEqual([r.introducer, r.introducerName, r.other, r.otherName, r.state],
      [alice.did, 'Alice', other.did, other.name, 'connected']);
  }
  // Alice's page shows both sides connected.
  await eventually('Alice to see both connected', async () => {
    const t = await made.textContent();
    return t.includes('Bob: connected') && t.includes('Carol: connected');
  }, 60_000);

  // Carol shares her connections with Bob from her Trust graph section.
  await openSection(carol.page, 'Trust graph');
  const share = carol.page.getByRole('checkbox', { name: 'Share my connections with Bob' });
  await share.check();
  await eventually('Carol to share with Bob', async () =>
    (await api(carol.page, 'contacts.list')).find((c) => c.did === bob.did)?.sharingGraph === true);
  assert.deepEqual(await unnamedControls(carol.page), [], "controls without a name on Carol's Trust graph");

  // Bob's trust graph reaches Dave through Carol.
  const daveShared = () => api(bob.page, 'graph.get').then((g) => g.nodes.some((n) => n.did === dave.did) && g);
  const graph = await eventually('Dave in Bob\'s trust graph', daveShared);
  await openSection(bob.page, 'Trust graph');
  const picture = bob.page.getByRole('img', { name: /people/ }).and(bob.page.getByTestId('trust-graph'));
  await eventually('the picture to count the people', async () =>
    (await picture.getAttribute('aria-label'))?.startsWith(`${graph.nodes.length} people, `));
  assert.equal(graph.nodes.length, 4, JSON.stringify(graph.nodes));
  const daveName = graph.nodes.find((n) => n.did === dave.did).name;
  const daveButton = bob.page.getByTestId('graph-person').and(bob.page.locator(`[data-did="${dave.did}"]`));
  await daveButton.waitFor();
  assert.ok((await daveButton.textContent()).includes(daveName), 'Dave listed by the name Bob knows him by');
  await daveButton.click();
  const explanation = bob.page.getByTestId('path-explanation').first();
  await explanation.waitFor({ timeout: 30_000 });
  const told = await bob.page.getByTestId('path-explanation').allTextContents();
  assert.ok(told.some((t) => t.includes('Carol') && t.includes(daveName)), `a path through Carol to Dave: ${told}`);
  const { paths } = await api(bob.page, 'graph.paths', dave.did);
  assert.ok(paths.some((p) => p.dids.join() === [bob.did, carol.did, dave.did].join()), JSON.stringify(paths));
  assert.deepEqual(await api(bob.page, 'graph.mutual', carol.did), [alice.did]);
  assert.deepEqual(await unnamedControls(bob.page), [], "controls without a name on Bob's Trust graph");

  // Bob finds his connections by how he knows them: the introduction's note.
  await bob.page.getByLabel('Find by how you know them').fill('BICYCLES');
  await eventually('only Carol listed for "bicycles"', async () => {
    const listed = await bob.page.getByTestId('graph-person').allTextContents();
    return listed.length === 1 && listed[0].includes('Carol');
  });
  const byContext = await api(bob.page, 'graph.connections', 'bicycles');
  assert.deepEqual(byContext.map((c) => c.did), [carol.did]);
  assert.equal(byContext[0].context, WHY);
  await bob.page.getByLabel('Find by how you know them').fill('');
  await eventually('everyone listed again', async () => (await bob.page.getByTestId('graph-person').count()) === 3);
});
