// Screenshots of the main screens, for comparing the page's look before and
// after a change by eye: node screenshots.js <out-dir> [www-dir]
// Beside each <name>.png it writes <name>.json, every element's computed
// style, so that two runs can also be compared exactly (styles-diff.js).
// Not a test: it asserts nothing.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, person } from './lib.js';

const PASS = 'violet tugboat umbrella quince';
const [out = 'screenshots', www] = process.argv.slice(2);
await mkdir(out, { recursive: true });
const server = await startServer(www ? { www } : {});
const p = await person();
const { page } = p;
const shot = async (name) => {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true, animations: 'disabled' });
  const styles = await page.evaluate(() => {
    /** @param {Element} e */
    const path = (e) => {
      const parts = [];
      for (let n = e; n && n !== document.documentElement; n = n.parentElement) {
        parts.unshift(`${n.tagName.toLowerCase()}${n.className && typeof n.className === 'string' ? `.${n.className.trim().split(/\s+/).join('.')}` : ''}:${[...(n.parentElement?.children ?? [])].indexOf(n)}`);
      }
      return parts.join(' > ');
    };
    /** @type {Record<string, Record<string, string>>} */
    const all = {};
    for (const e of document.querySelectorAll('body *')) {
      for (const pseudo of ['', '::before', '::after']) {
        const cs = getComputedStyle(e, pseudo || null);
        /** @type {Record<string, string>} */
        const props = {};
        for (const p of cs) props[p] = cs.getPropertyValue(p);
        all[path(e) + pseudo] = props;
      }
    }
    return all;
  });
  await writeFile(join(out, `${name}.json`), JSON.stringify(styles));
};
try {
  await page.goto(server.url);
  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  await page.waitForTimeout(300);
  await shot('01-create');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('Confirm passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByTestId('did').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  await page.locator('[data-testid=network-state]').evaluate((n) => { n.textContent = 'network'; });
  await page.locator('[data-testid=relays]').evaluate((n) => { n.replaceChildren(); });
  await shot('02-home');
  for (const [route, name] of [['contacts', '03-contacts'], ['chat', '04-chat'], ['introduce', '05-introduce'],
    ['graph', '06-graph'], ['notes', '07-notes'], ['photos', '08-photos'], ['documents', '09-documents'], ['settings', '10-settings']]) {
    await page.goto(`${server.url}#/${route}`);
    await page.waitForTimeout(1200);
    await shot(name);
  }
  await page.goto(`${server.url}#/contacts`);
  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByLabel('Passphrase', { exact: true }).waitFor();
  await page.waitForTimeout(300);
  await shot('11-unlock');
} finally {
  await p.close();
  await server.stop();
}
