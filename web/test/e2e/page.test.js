// End to end, a person's public page: made in PLANET's page (a did:webvh
// created and signed in the vault, published to the person's own server,
// then a signed profile and a post), read by someone with no vault in
// another browser with scripts off, and with them on (the page's own script
// verifies the log and every document in the visitor's browser); the log
// resolves at the server's resolver and didwebvh's own rules hold; then the
// person rotates the update key and edits the post, and the page still
// verifies with the change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onServer, api, eventually } from '../pages.js';
import { visitor, startServer } from '../lib.js';

const site = onServer();
const { newPerson, createVault } = site;

test('a person publishes a page with a post; a visitor reads and verifies it; a key rotation and an edit keep it verified', { timeout: 300_000 }, async () => {
  const alice = await newPerson();
  await createVault(alice.page);
  await api(alice.page, 'setSettings', { name: 'Alice' });
  await eventually('Alice at her mediator', async () => (await api(alice.page, 'network.status')).mediator.state === 'online', 60_000);
  const nav = alice.page.getByRole('navigation', { name: 'Sections' });
  await nav.getByRole('link', { name: 'Your page', exact: true }).click();

  // A name already taken by the server is refused in words; a free one is taken.
  await alice.page.getByTestId('page-name').fill('didcomm');
  await alice.page.getByTestId('page-create').click();
  await alice.page.getByRole('alert').filter({ hasText: /reserved/ }).waitFor({ timeout: 30_000 });
  await alice.page.getByTestId('page-name').fill('alice');
  await alice.page.getByTestId('page-create').click();
  const didText = await alice.page.getByTestId('page-did').textContent({ timeout: 30_000 });
  assert.match(didText, /^did:webvh:[1-9A-HJ-NP-Za-km-z]{46}:planet\.localhost%3A\d+:alice$/);
  const pageURL = await alice.page.getByTestId('page-url').getAttribute('href');
  const port = new URL(site.server.url).port;
  assert.equal(pageURL, `http://planet.localhost:${port}/alice/`);

  // The server's resolver verifies the published log.
  const resolved = await (await fetch(`${site.server.url}1.0/identifiers/${encodeURIComponent(didText)}`)).json();
  assert.equal(resolved.didDocument.id, didText);
  assert.ok(resolved.didDocument.assertionMethod.some((m) => m.endsWith('#key-1')), JSON.stringify(resolved.didDocument));

  // Profile and a post, signed and published from the page.
  await alice.page.getByTestId('profile-name').fill('Alice Liddell');
  await alice.page.getByTestId('profile-summary').fill('Gardener, letter writer.');
  await alice.page.getByTestId('profile-links').fill('Garden https://garden.example/alice');
  await alice.page.getByTestId('profile-save').click();
  await alice.page.getByRole('status').filter({ hasText: 'Published.' }).waitFor({ timeout: 30_000 });
  await alice.page.getByTestId('post-title').fill('First light');
  await alice.page.getByTestId('post-body').fill('The tomatoes are **red**, see [the seeds](https://seeds.example/t).\n\nFinally, after <script>alert(1)</script> weeks.');
  // The preview shows the Markdown as the page will, the HTML as text.
  await alice.page.getByTestId('post-preview-toggle').click();
  const preview = alice.page.getByTestId('post-preview');
  await preview.locator('strong', { hasText: 'red' }).waitFor({ timeout: 10_000 });
  assert.equal(await preview.locator('a').getAttribute('rel'), 'nofollow ugc noopener');
  assert.equal(await preview.locator('script').count(), 0);
  assert.match(await preview.textContent(), /after <script>alert\(1\)<\/script> weeks/);
  await alice.page.getByTestId('post-publish').click();
  await alice.page.getByTestId('page-post').filter({ hasText: 'First light' }).waitFor({ timeout: 30_000 });

  // A visitor with no vault and scripts off reads it: an h-card, an
  // h-entry, the text escaped, the server's own verification in words.
  const plain = await visitor({ javaScript: false });
  const noJS = plain.page;
  await noJS.goto(pageURL);
  assert.equal(await noJS.locator('.h-card .p-name').first().textContent(), 'Alice Liddell');
  await noJS.getByRole('link', { name: 'First light' }).click();
  const entry = noJS.locator('.h-entry');
  assert.equal(await entry.locator('.p-name').first().textContent(), 'First light');
  assert.match(await entry.locator('.e-content').textContent(), /Finally, after <script>alert\(1\)<\/script> weeks\./);
  assert.equal(await entry.locator('.e-content strong').textContent(), 'red');
  const seeds = entry.locator('.e-content a');
  assert.equal(await seeds.getAttribute('href'), 'https://seeds.example/t');
  assert.equal(await seeds.getAttribute('rel'), 'nofollow ugc noopener');
  assert.equal(await entry.locator('.e-content script').count(), 0);
  assert.equal(await noJS.locator('script:not([src])').count(), 0, 'no inline script');
  assert.equal(await noJS.locator('#verification li.not-verified').count(), 0);
  assert.match(await noJS.locator('#browser-check').textContent(), /turn on scripts/);
  await plain.close();

  // The same page with scripts on: the visitor's browser checks the log
  // and the documents itself.
  const withJS = await visitor();
  const visit = withJS.page;
  await visit.goto(pageURL);
  await visit.locator('#browser-check.ok').waitFor({ timeout: 30_000 });
  assert.match(await visit.locator('#browser-check').textContent(), /Your browser verified this page itself/);

  // The feed lists the post.
  const feed = await (await fetch(`${site.server.url}alice/feed.atom`)).text();
  assert.match(feed, /<title[^>]*>First light<\/title>/);

  // Rotation, then an edit: still verified, with the change.
  await alice.page.getByTestId('page-rotate').click();
  await alice.page.getByRole('status').filter({ hasText: /Rotated: key 1/ }).waitFor({ timeout: 30_000 });
  await alice.page.getByTestId('page-post').filter({ hasText: 'First light' }).getByTestId('post-edit').click();
  await alice.page.getByTestId('post-body').fill('The tomatoes are red. Edited after the rotation.');
  await alice.page.getByTestId('post-publish').click();
  await eventually('the edit in the vault', async () => {
    const pg = await api(alice.page, 'page.get');
    return pg.key === 1 && pg.versions === 2 && pg.posts[0].body.includes('Edited after the rotation');
  });
  await eventually('the edit on the server', async () =>
    (await (await fetch(`${site.server.url}alice/posts/first-light`)).text()).includes('Edited after the rotation'));
  await visit.goto(`${pageURL}posts/first-light`);
  await visit.locator('#browser-check.ok').waitFor({ timeout: 30_000 });
  assert.match(await visit.locator('.h-entry .e-content').textContent(), /Edited after the rotation/);
  assert.equal(await visit.locator('li.not-verified').count(), 0);
  await withJS.close();

  // Bob, in PLANET, looks Alice up by her page's address: his PLANET
  // verifies it and offers to connect; he asks, by her did:webvh, and she
  // accepts in her Connect section.
  const bob = await newPerson();
  await createVault(bob.page);
  await api(bob.page, 'setSettings', { name: 'Bob' });
  await eventually('Bob at his mediator', async () => (await api(bob.page, 'network.status')).mediator.state === 'online', 60_000);
  await bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connect', exact: true }).click();
  await bob.page.getByTestId('lookup-input').fill(pageURL);
  await bob.page.getByTestId('lookup-submit').click();
  const found = bob.page.getByTestId('lookup-result');
  await found.getByRole('heading', { name: 'Alice Liddell' }).waitFor({ timeout: 30_000 });
  assert.equal(await found.getByTestId('lookup-verified').textContent(), 'Verified here:');
  await found.getByTestId('lookup-connect').click();
  assert.equal(await bob.page.getByTestId('connect-did').inputValue(), didText);
  await bob.page.getByTestId('connect-note').fill('Bob, who read your tomato post');
  await bob.page.getByTestId('connect-submit').click();
  await bob.page.getByRole('status').filter({ hasText: 'Request sent' }).waitFor({ timeout: 30_000 });
  await nav.getByRole('link', { name: 'Connect', exact: true }).click();
  const asked = alice.page.getByRole('list', { name: 'Requests for you' }).getByTestId('relationship-request').filter({ hasText: 'Bob' });
  await asked.waitFor({ timeout: 30_000 });
  await asked.getByRole('button', { name: 'Accept' }).click();
  await eventually('Bob connected to Alice by her did:webvh', async () => {
    const { relationships } = await api(bob.page, 'relationships.list');
    return relationships.some((r) => r.peer === didText && r.state === 'established');
  });

  // Alice chooses to show that relationship on her page.
  await nav.getByRole('link', { name: 'Your page', exact: true }).click();
  await alice.page.getByTestId('profile-show').check({ timeout: 30_000 });
  await alice.page.getByTestId('profile-save').click();
  await alice.page.getByRole('status').filter({ hasText: 'Published.' }).waitFor({ timeout: 30_000 });
  const html = await (await fetch(`${site.server.url}alice/`)).text();
  assert.match(html, /<ul class="relationships">\s*<li class="h-card"><span class="p-name">Bob<\/span>/);

  // Alice asks Bob for a relationship credential; he issues it; she shows
  // it on her page (whois.vp), where the server verifies it by Bob's key.
  const aliceRel = (await api(alice.page, 'relationships.list')).relationships.find((r) => r.state === 'established');
  await api(alice.page, 'relationships.requestCredential', aliceRel.id, 'for my page');
  const bobAsked = await eventually('Bob asked for a credential', async () =>
    (await api(bob.page, 'relationships.list')).credentials.find((c) => c.direction === 'asked-of-me' && c.state === 'requested'));
  await api(bob.page, 'relationships.issueCredential', bobAsked.id);
  await eventually('Alice holds it', async () =>
    (await api(alice.page, 'relationships.list')).credentials.some((c) => c.state === 'issued' && c.credential?.verified));
  await nav.getByRole('link', { name: 'Connect', exact: true }).click();
  await nav.getByRole('link', { name: 'Your page', exact: true }).click();
  await alice.page.getByTestId('whois-show').first().check({ timeout: 30_000 });
  await alice.page.getByTestId('whois-save').click();
  await alice.page.getByRole('region', { name: 'Credentials' }).getByRole('status').filter({ hasText: 'Published.' }).waitFor({ timeout: 30_000 });
  assert.equal((await api(alice.page, 'page.whois')).credentials.length, 1);
  const shown = await (await fetch(`${site.server.url}alice/`)).text();
  assert.match(shown, /<ul class="credentials">\s*<li class="verified">[^<]*<data[^>]*>did:peer:2[^<]*<\/data> says they know/);
  const vp = await (await fetch(`${site.server.url}alice/whois.vp`)).json();
  assert.equal(vp.holder, didText);
  assert.equal(vp.proof.proofPurpose, 'assertionMethod');
});

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

test('a person gives their page a picture and moves it to another server, which then serves it verified while the old one redirects', { timeout: 300_000 }, async () => {
  const other = await startServer();
  try {
    const dora = await newPerson();
    await createVault(dora.page);
    await dora.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Your page', exact: true }).click();
    await dora.page.getByTestId('page-name').fill('dora');
    await dora.page.getByTestId('page-create').click();
    await dora.page.getByTestId('page-did').waitFor({ timeout: 30_000 });
    await dora.page.getByTestId('profile-name').fill('Dora');
    await dora.page.getByTestId('profile-save').click();
    await dora.page.getByRole('status').filter({ hasText: 'Published.' }).waitFor({ timeout: 30_000 });
    await dora.page.getByTestId('profile-picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
    await dora.page.getByRole('status').filter({ hasText: 'Picture published.' }).waitFor({ timeout: 30_000 });
    await dora.page.getByTestId('post-title').fill('Moving day');
    await dora.page.getByTestId('post-body').fill('Packing the boxes.');
    await dora.page.getByTestId('post-publish').click();
    await dora.page.getByTestId('page-post').filter({ hasText: 'Moving day' }).waitFor({ timeout: 30_000 });
    const before = await api(dora.page, 'page.get');

    // The move, to the other server by its loopback name.
    const otherPort = new URL(other.url).port;
    await dora.page.getByTestId('page-move-server').fill(`http://planet.localhost:${otherPort}/`);
    await dora.page.getByTestId('page-move').click();
    await eventually('the page moved', async () => (await api(dora.page, 'page.get')).url === `http://planet.localhost:${otherPort}/dora/`);
    const after = await api(dora.page, 'page.get');
    assert.equal(after.did.split(':')[2], before.did.split(':')[2], 'the same SCID');
    assert.match(after.did, new RegExp(`:planet\\.localhost%3A${otherPort}:dora$`));

    // The old server redirects to the new place; the new one renders the
    // page with its picture, and a visitor's browser verifies it there.
    const old = await fetch(`${site.server.url}dora/did.jsonl`, { redirect: 'manual' });
    assert.equal(old.status, 301);
    assert.equal(old.headers.get('location'), `http://planet.localhost:${otherPort}/dora/did.jsonl`);
    const html = await (await fetch(`${other.url}dora/`)).text();
    assert.match(html, /class="p-name">Dora</);
    assert.match(html, /<img[^>]+class="u-photo"[^>]+src="[^"]*avatar-[0-9a-f]+\.png"/);
    const v = await visitor();
    try {
      await v.page.goto(after.url);
      await v.page.locator('#browser-check.ok').waitFor({ timeout: 30_000 });
    } finally {
      await v.close();
    }
  } finally {
    await other.stop();
  }
});
