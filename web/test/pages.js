// What the end-to-end tests over the network share: a real server for the
// test file, people in their own Chromium profiles whose pages are watched
// for Content-Security-Policy violations, and small steps in the page.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, person } from './lib.js';

export const PASS = 'violet tugboat umbrella quince';

/**
 * Starts a server before the file's tests and stops it after them, closing
 * every person made with newPerson and checking that no page reported a
 * Content-Security-Policy violation.
 */
export function onServer() {
  /** @type {{ server: any, people: any[], violations: string[] }} */
  const site = { server: undefined, people: [], violations: [] };
  before(async () => {
    site.server = await startServer();
  });
  after(async () => {
    for (const p of site.people) await p.close().catch(() => {});
    await site.server?.stop();
    assert.deepEqual(site.violations, [], 'no Content-Security-Policy violations');
  });
  return {
    get server() { return site.server; },
    /**
     * A person in a fresh Chromium profile (or the profile in opts.dir),
     * whose pages may connect to others by WebRTC over loopback: the media
     * permission lets ICE offer 127.0.0.1 rather than mDNS names.
     */
    async newPerson(opts) {
      const p = await person({ webrtc: true, ...opts });
      await p.context.grantPermissions(['camera', 'microphone']);
      site.people.push(p);
      p.page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) site.violations.push(m.text());
      });
      return p;
    },
    /** Creates a vault through the page; returns the DID shown on Home. */
    async createVault(page) {
      await page.goto(site.server.url);
      await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
      await page.getByLabel('Confirm passphrase').fill(PASS);
      await page.getByRole('button', { name: 'Create vault' }).click();
      return page.getByTestId('did').textContent({ timeout: 30_000 });
    },
  };
}

/** Waits until Home shows every relay connected; returns the relays' rows. */
export async function waitOnline(page) {
  const card = page.getByRole('region', { name: 'Network' });
  await card.getByTestId('relay').first().waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="relay"]')];
    return rows.length > 0 && rows.every((r) => r.getAttribute('data-state') === 'connected');
  }, null, { timeout: 30_000 });
  return card.getByTestId('relay').allTextContents();
}

/** Lists the controls on the page that have no accessible name. */
export async function unnamedControls(page) {
  const snapshot = await page.locator('body').ariaSnapshot();
  return snapshot.split('\n')
    .map((l) => l.trim())
    .filter((l) => /^- (button|link|textbox|checkbox|spinbutton|combobox|slider)\b/.test(l))
    .filter((l) => !/^- \w+ "[^"]+"/.test(l));
}

/** Calls the core's API in the page, planet.<path>(...args): {ok} or {code, message}. */
export function call(page, path, ...args) {
  return page.evaluate(async ([path, args]) => {
    const names = path.split('.');
    const method = names.pop();
    let target = globalThis.planet;
    for (const n of names) target = target[n];
    try {
      return { ok: await target[method](...args) };
    } catch (err) {
      return { code: err.code, message: err.message };
    }
  }, [path, args]);
}

/** Calls the core's API in the page and returns what it resolved to; a rejection throws. */
export async function api(page, path, ...args) {
  const r = await call(page, path, ...args);
  if (!('ok' in r)) throw new Error(`${path}: ${r.code}: ${r.message}`);
  return r.ok;
}

/** Polls until fn returns something truthy, and returns it. */
export async function eventually(what, fn, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
