// The page as an installed app: installable, starts offline, and moves to a
// new version cleanly when the server has one.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, person, tempDir, root } from '../lib.js';

const cleanups = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

test('Chromium finds the page installable, and it starts offline', { timeout: 120_000 }, async () => {
  const server = await startServer();
  cleanups.push(() => server.stop());
  const p = await person();
  cleanups.push(() => p.close());
  const { page, context } = p;
  await page.goto(server.url);
  await page.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, [], 'Chromium reports no installability errors');

  await context.setOffline(true);
  await page.reload();
  await page.getByLabel('Passphrase', { exact: true }).fill('violet tugboat umbrella quince');
  await page.getByLabel('Confirm passphrase').fill('violet tugboat umbrella quince');
  await page.getByRole('button', { name: 'Create vault' }).click();
  assert.match(await page.getByTestId('did').textContent({ timeout: 30_000 }), /^did:key:z6Mk/, 'a vault is made offline');
  await context.setOffline(false);
});

test('a new version is picked up cleanly: one banner, one reload, one cache', { timeout: 180_000 }, async () => {
  const www = await tempDir('planet-www-');
  cleanups.push(() => rm(www, { recursive: true, force: true }));
  await cp(join(root, 'build/www'), www, { recursive: true });
  let server = await startServer({ www });
  const addr = new URL(server.url).host;
  const p = await person();
  cleanups.push(() => p.close());
  const { page } = p;
  await page.goto(server.url);
  await page.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  const first = await page.evaluate(async () => (await (await fetch('build.json')).json()).build);

  // The server restarts with a changed file: a new build.
  await server.stop();
  await appendFile(join(www, 'app.js'), '\n// a later version\n');
  await rm(join(www, 'app.js.br'), { force: true });
  await rm(join(www, 'app.js.gz'), { force: true });
  server = await startServer({ www, addr });
  cleanups.push(() => server.stop());
  const second = await page.evaluate(async () => (await (await fetch('build.json')).json()).build);
  assert.notEqual(second, first, 'the changed file changes the build id');

  await page.reload();
  const reload = page.getByRole('button', { name: 'Reload to update' });
  await reload.waitFor({ timeout: 60_000 });
  await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), reload.click()]);
  await page.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });
  await page.waitForFunction((b) => caches.keys().then((k) => k.length === 1 && k[0] === `planet-${b}`), second, { timeout: 30_000 });
  const script = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
  assert.ok(script, 'the page is controlled by the new worker');
  assert.ok(await page.evaluate(() => fetch('app.js').then((r) => r.text()).then((t) => t.includes('a later version'))), 'the page runs the new files');
});

test('a second tab waits while the first holds the vault, then takes over', { timeout: 120_000 }, async () => {
  const server = await startServer();
  cleanups.push(() => server.stop());
  const p = await person();
  cleanups.push(() => p.close());
  const first = p.page;
  await first.goto(server.url);
  await first.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });

  const second = await p.context.newPage();
  await second.goto(server.url);
  await second.getByText('PLANET is open in another tab').waitFor({ timeout: 30_000 });
  assert.equal(await second.evaluate(() => typeof globalThis.planet), 'undefined', 'the second tab has not opened the vault');

  await first.close();
  await second.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });
  assert.equal(await second.evaluate(() => planet.state()), 'none');
});
