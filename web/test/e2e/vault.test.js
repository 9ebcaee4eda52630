// End to end, as a person would: through the page's controls, in real
// headless Chromium profiles, against the real server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { startServer, person, tempDir, root } from '../lib.js';
import { untar } from '../tar.js';

const PASS = 'violet tugboat umbrella quince';
const EXPORT_PASS = 'harbour lights at eleven';
const sha = (b) => createHash('sha256').update(b).digest('hex');

let server;
let files; // the originals a person uploads
let dir;
let exportPath;
const people = [];

before(async () => {
  server = await startServer();
  dir = await tempDir('planet-e2e-');
  files = {
    photo: { path: join(root, 'web/icons/icon-512.png'), name: 'icon-512.png' },
    doc: { path: join(dir, 'annual-report.bin'), name: 'annual-report.bin' },
  };
  await writeFile(files.doc.path, randomBytes(50 * 1024 * 1024)); // 50 MB
  for (const f of Object.values(files)) f.sha = sha(await readFile(f.path));
});

after(async () => {
  assert.deepEqual(violations, [], 'no Content-Security-Policy violations');
  for (const p of people) await p.close().catch(() => {});
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Content-Security-Policy violations each person's pages reported. */
const violations = [];

async function newPerson(opts) {
  const p = await person(opts);
  people.push(p);
  p.page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return p;
}

/** Lists the controls on the page that have no accessible name. */
async function unnamedControls(page) {
  const snapshot = await page.locator('body').ariaSnapshot();
  // Every button, link, textbox, checkbox, spinbutton and combobox line of
  // the ARIA snapshot carries its name in quotes; a bare role has none.
  return snapshot.split('\n')
    .map((l) => l.trim())
    .filter((l) => /^- (button|link|textbox|checkbox|spinbutton|combobox|slider|meter|progressbar)\b/.test(l))
    .filter((l) => !/^- \w+ "[^"]+"/.test(l));
}

/** Fills the create form and creates the vault. */
async function createVault(page) {
  await page.goto(server.url);
  const pass = page.getByLabel('Passphrase', { exact: true });
  await pass.fill('password1');
  await page.getByLabel('Confirm passphrase').fill('password1');
  await assert.doesNotReject(page.getByRole('button', { name: 'Create vault' }).isDisabled());
  assert.equal(await page.getByRole('button', { name: 'Create vault' }).isDisabled(), true, 'a weak passphrase must not be accepted');
  await pass.fill(PASS);
  await page.getByLabel('Confirm passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Create vault' }).click();
  const did = await page.getByTestId('did').textContent({ timeout: 30_000 });
  assert.match(did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
  return did;
}

async function unlock(page, passphrase = PASS) {
  await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

async function go(page, section) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click();
}

/** Downloads a file through its "Download <name>" control; returns its bytes. */
async function download(page, name) {
  const [dl] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByRole('button', { name: `Download ${name}` }).click(),
  ]);
  return readFile(await dl.path());
}

let did;

test('a person creates a vault, fills it, and finds everything after a reload', { timeout: 300_000 }, async () => {
  const a = await newPerson();
  const { page } = a;
  did = await createVault(page);

  await go(page, 'Contacts');
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('DID').fill('did:key:not-a-key');
  await page.getByLabel('Notes').fill('met at the co-op AGM');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('alert').filter({ hasText: /did/i }).waitFor();
  assert.equal(await page.getByLabel('Name').inputValue(), 'Ada Lovelace', 'a refused form keeps what was typed');
  await page.getByLabel('DID').fill('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('button', { name: 'Edit Ada Lovelace' }).waitFor();

  await go(page, 'Notes');
  await page.getByLabel('Title').fill('Garden plans');
  await page.getByLabel('Body').fill('Tomatoes by the south wall.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('button', { name: 'Edit Garden plans' }).waitFor();

  await go(page, 'Photos');
  await page.getByLabel('Add photos').setInputFiles(files.photo.path);
  await page.getByRole('img', { name: files.photo.name }).waitFor({ timeout: 60_000 });

  await go(page, 'Documents');
  await page.getByLabel('Add documents').setInputFiles(files.doc.path);
  await page.getByRole('button', { name: `Download ${files.doc.name}` }).waitFor({ timeout: 180_000 });

  // Every control in every section has an accessible name.
  for (const section of ['Home', 'Contacts', 'Notes', 'Photos', 'Settings', 'Documents']) {
    await go(page, section);
    await page.getByRole('heading', { level: 1, name: section }).or(page.getByRole('heading', { level: 2, name: section })).first().waitFor();
    assert.deepEqual(await unnamedControls(page), [], `controls without a name in ${section}`);
  }

  // Locking from anywhere returns to the unlock screen.
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await page.getByRole('button', { name: 'Unlock' }).waitFor();
  assert.equal(await page.evaluate(() => planet.state()), 'locked');
  await unlock(page);
  await page.getByRole('navigation', { name: 'Sections' }).waitFor({ timeout: 30_000 });

  // A new visit: the vault is locked and must be unlocked.
  await page.reload();
  await unlock(page, 'violet tugboat umbrella quinces');
  await page.getByRole('alert').filter({ hasText: /passphrase/i }).waitFor();
  await unlock(page);
  // The page comes back where the person left it: Documents.
  await page.getByRole('button', { name: `Download ${files.doc.name}` }).waitFor({ timeout: 30_000 });
  await go(page, 'Home');
  assert.equal(await page.getByTestId('did').textContent(), did);

  await go(page, 'Contacts');
  await page.getByRole('button', { name: 'Edit Ada Lovelace' }).waitFor();
  assert.ok(await page.getByText('met at the co-op AGM').isVisible());
  await go(page, 'Notes');
  await page.getByRole('button', { name: 'Edit Garden plans' }).waitFor();
  await go(page, 'Photos');
  await page.getByRole('img', { name: files.photo.name }).waitFor();
  assert.equal(sha(await download(page, files.photo.name)), files.photo.sha, 'photo comes back byte-identical');
  await go(page, 'Documents');
  assert.equal(sha(await download(page, files.doc.name)), files.doc.sha, '50 MB document comes back byte-identical');

  // Export, for the next test.
  await go(page, 'Settings');
  await page.getByLabel('Export passphrase', { exact: true }).fill(EXPORT_PASS);
  await page.getByLabel('Confirm export passphrase').fill(EXPORT_PASS);
  const [dl] = await Promise.all([
    page.waitForEvent('download', { timeout: 180_000 }),
    page.getByRole('button', { name: 'Export vault' }).click(),
  ]);
  assert.match(dl.suggestedFilename(), /^planet-export-\d{4}-\d{2}-\d{2}\.age$/);
  exportPath = join(dir, 'export.age');
  await dl.saveAs(exportPath);
});

test('the export opens with an independent age implementation and holds the originals', { timeout: 120_000 }, async () => {
  assert.ok(exportPath, 'the first test exported the vault');
  const d = new Decrypter();
  d.addPassphrase(EXPORT_PASS);
  const tar = await d.decrypt(await readFile(exportPath));
  const entries = untar(tar);
  const names = [...entries.keys()];
  assert.equal(names[0], 'manifest.json');
  const manifest = JSON.parse(new TextDecoder().decode(entries.get('manifest.json')));
  assert.equal(manifest.did, did);
  assert.deepEqual(manifest.counts, { contacts: 1, notes: 1, photos: 1, documents: 1, credentials: 0, messages: 0 });
  assert.equal(sha(entries.get(`photos/${files.photo.name}`)), files.photo.sha);
  assert.equal(sha(entries.get(`documents/${files.doc.name}`)), files.doc.sha);
  const vcf = new TextDecoder().decode(entries.get('contacts.vcf'));
  assert.match(vcf, /FN:Ada Lovelace/);
  const contacts = JSON.parse(new TextDecoder().decode(entries.get('contacts.json')));
  assert.equal(contacts[0].notes, 'met at the co-op AGM');
});

test('the stock age tool decrypts the export too', { timeout: 120_000 }, async () => {
  assert.ok(exportPath, 'the first test exported the vault');
  // age asks for the passphrase on a terminal only; script(1) gives it one.
  const out = join(dir, 'export-by-age.tar');
  execFileSync('script', ['-qec', `age -d -o '${out}' '${exportPath}'`, '/dev/null'], { input: `${EXPORT_PASS}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  const entries = untar(await readFile(out));
  assert.equal(sha(entries.get(`documents/${files.doc.name}`)), files.doc.sha);
  assert.equal(JSON.parse(new TextDecoder().decode(entries.get('manifest.json'))).did, did);
});

test('import into a fresh browser profile restores the same person; bad files change nothing', { timeout: 300_000 }, async () => {
  assert.ok(exportPath, 'the first test exported the vault');
  const b = await newPerson();
  const { page } = b;
  await page.goto(server.url);

  // A damaged file first: refused with a clear message, nothing created.
  const bytes = await readFile(exportPath);
  const truncated = join(dir, 'truncated.age');
  await writeFile(truncated, bytes.subarray(0, bytes.length - 4096));
  await importVia(page, truncated, EXPORT_PASS);
  await page.getByRole('alert').filter({ hasText: /damaged|incomplete/i }).waitFor({ timeout: 120_000 });
  await importVia(page, exportPath, 'not the export passphrase');
  await page.getByRole('alert').filter({ hasText: /passphrase is wrong/i }).waitFor({ timeout: 60_000 });
  assert.equal(await page.evaluate(() => planet.state()), 'none', 'a refused import leaves no vault');

  await importVia(page, exportPath, EXPORT_PASS);
  assert.equal(await page.getByTestId('did').textContent({ timeout: 180_000 }), did, 'same DID after import');
  await go(page, 'Contacts');
  await page.getByRole('button', { name: 'Edit Ada Lovelace' }).waitFor();
  await go(page, 'Documents');
  assert.equal(sha(await download(page, files.doc.name)), files.doc.sha, 'document byte-identical after import');
});

async function importVia(page, file, exportPass) {
  const fileField = page.getByLabel('Vault export file');
  const reveal = page.getByRole('button', { name: 'Import a vault' });
  await fileField.or(reveal).first().waitFor({ timeout: 30_000 });
  if (!(await fileField.isVisible())) await reveal.click();
  await page.getByLabel('Vault export file').setInputFiles(file);
  await page.getByLabel('Export passphrase').fill(exportPass);
  const form = page.locator('form').filter({ has: page.getByLabel('Vault export file') });
  await form.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await form.getByLabel('Confirm passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Import vault' }).click();
}
