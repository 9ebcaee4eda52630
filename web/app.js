// PLANET's page: which screen shows when. First run creates (or imports) a
// vault, a locked vault asks for its passphrase, an open vault shows its
// sections. Whenever the vault locks — the Lock button, auto-lock, or a call
// that finds it locked — everything decrypted leaves the page and the unlock
// screen returns.

import { ready, planet, asPlanetError, LOCKED_EVENT } from './lib/api.js';
import { serviceWorker } from './boot.js';
import { handedOut } from './lib/blobs.js';
import { el } from './lib/elements.js';
import { CreateScreen } from './screens/create.js';
import { UnlockScreen } from './screens/unlock.js';
import { VaultScreen } from './screens/vault.js';
import { watchForUpdates } from './ui/update-banner.js';

/** @typedef {import('./planet.d.ts').Identity} Identity */
/** @typedef {import('./planet.d.ts').ImportSummary} ImportSummary */

const root = /** @type {HTMLElement} */ (document.getElementById('app'));

/** @type {'create' | 'unlock' | 'vault' | null} */
let screen = null;
/** Set while the page itself is locking, so the unlock screen shows no reason. */
let lockingOnPurpose = false;

function showCreate() {
  screen = 'create';
  root.replaceChildren(new CreateScreen());
}

/** @param {string} [reason] */
function showUnlock(reason = '') {
  if (screen === 'unlock') return;
  screen = 'unlock';
  const view = new UnlockScreen();
  view.reason = reason;
  root.replaceChildren(view);
  // Decrypted bytes handed to downloads or tabs must not outlive the session.
  handedOut.revokeAll();
}

/**
 * @param {Identity | null} identity
 * @param {ImportSummary | null} [imported]
 */
function showVault(identity, imported = null) {
  screen = 'vault';
  const view = new VaultScreen();
  view.identity = identity;
  view.imported = imported;
  root.replaceChildren(view);
}

function lockedByItself() {
  if (screen === 'vault') showUnlock(lockingOnPurpose ? '' : 'Your vault locked itself to keep it safe.');
}

async function lockNow() {
  lockingOnPurpose = true;
  try {
    await planet.lock();
  } catch (err) {
    console.error(asPlanetError(err));
  } finally {
    showUnlock();
    lockingOnPurpose = false;
  }
}

/**
 * Reports activity to the core so that auto-lock counts from the last thing
 * the person did; at most once a second, and only while the vault is open.
 */
function watchActivity() {
  let last = 0;
  const touch = () => {
    const now = performance.now();
    if (screen !== 'vault' || now - last < 1000) return;
    last = now;
    try {
      planet.touch();
    } catch {
      // A failed touch only means auto-lock may come a little early.
    }
  };
  for (const type of ['pointerdown', 'keydown', 'wheel']) {
    document.addEventListener(type, touch, { capture: true, passive: true });
  }
}

async function start() {
  try {
    await ready;
  } catch {
    return; // boot.js shows what went wrong
  }
  watchForUpdates(serviceWorker);
  planet.onLock(lockedByItself);
  window.addEventListener(LOCKED_EVENT, lockedByItself);
  root.addEventListener('vault-opened', (e) => {
    const { identity, imported } = /** @type {CustomEvent<{identity: Identity, imported?: ImportSummary}>} */ (e).detail;
    showVault(identity, imported ?? null);
  });
  root.addEventListener('vault-missing', showCreate);
  root.addEventListener('lock-requested', lockNow);
  watchActivity();

  let state;
  try {
    state = await planet.state();
  } catch (err) {
    root.replaceChildren(el('main', { class: 'welcome' },
      el('p', { class: 'alert', role: 'alert' }, asPlanetError(err).message)));
    return;
  }
  if (state === 'none') showCreate();
  else if (state === 'locked') showUnlock();
  else showVault(null);
}

start();
