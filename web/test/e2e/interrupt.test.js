// A tab closed in the middle of storing a large file leaves the vault as it
// was before: the file is simply not there, everything else is.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, person, tempDir } from '../lib.js';

const PASS = 'violet tugboat umbrella quince';
const cleanups = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

test('closing the tab mid-upload leaves the previous state intact', { timeout: 240_000 }, async () => {
  const server = await startServer();
  cleanups.push(() => server.stop());
  const dir = await tempDir('planet-interrupt-');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const big = join(dir, 'big.bin');
  // Compressible bytes are fine here: only the interruption matters.
  await writeFile(big, Buffer.alloc(300 * 1024 * 1024, 7));

  const p = await person();
  cleanups.push(() => p.close());
  let page = p.page;
  await page.goto(server.url);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('Confirm passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByTestId('did').waitFor({ timeout: 30_000 });
  await page.evaluate(() => planet.notes.add({ title: 'Before', body: 'kept' }));

  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Documents', exact: true }).click();
  await page.getByLabel('Add documents').setInputFiles(big);
  await page.waitForFunction(() => {
    const bar = document.querySelector('progress[value]');
    return bar && bar.value > 0 && bar.value < bar.max / 2;
  }, null, { timeout: 60_000, polling: 20 });
  await page.close({ runBeforeUnload: false });

  page = await p.context.newPage();
  await page.goto(server.url);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor({ timeout: 30_000 });
  const state = await page.evaluate(async () => ({
    notes: (await planet.notes.list()).map((n) => n.title),
    documents: (await planet.files.list('document')).map((f) => f.name),
  }));
  assert.deepEqual(state, { notes: ['Before'], documents: [] }, 'the note is there; the half-stored file is not');
  // Unlocking swept away the chunks the interrupted upload had written.
  const chunks = () => page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('planet-vault');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('kv').objectStore('kv').getAllKeys(IDBKeyRange.bound('b/', 'b0'));
      req.onsuccess = () => { resolve(req.result.length); open.result.close(); };
      req.onerror = () => reject(req.error);
    };
  }));
  assert.equal(await chunks(), 0, 'no chunks of the interrupted upload remain');

  // And the vault goes on working.
  const info = await page.evaluate(() => planet.files.add(new Blob(['after']), { kind: 'document', name: 'after.txt' }).then((f) => f.size));
  assert.equal(info, 5);
  assert.equal(await chunks(), 1, 'the new file is one chunk');
});
