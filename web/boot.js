// Starting PLANET: the Go core (planet.wasm, run by Go's wasm_exec.js loader)
// installs `globalThis.planet` and then dispatches `planet-ready` on window.
// This module starts that as early as possible, shows a small loading state
// meanwhile, registers the service worker once the core is up, and records
// the performance marks the start-up benchmark reads.

/** @typedef {import('./planet.d.ts').PlanetAPI} PlanetAPI */

/** Performance marks, in the order they happen. */
export const marks = Object.freeze({
  start: 'planet-boot-start',
  instantiated: 'planet-wasm-instantiated',
  ready: 'planet-ready',
  /** The unlock (or create) screen is on screen and accepts input. */
  unlockPrompt: 'planet-unlock-prompt',
});

performance.mark(marks.start);

/**
 * Resolves to the core's API once it has started; rejects if it cannot start.
 * @type {Promise<PlanetAPI>}
 */
export const ready = startCore();

/**
 * Resolves to the service worker registration, or null where service workers
 * are unavailable (e.g. a non-secure origin). Registration waits until the
 * core has started and the page is idle, so that it never delays the first
 * screen and the first visit does not download planet.wasm twice at once.
 * @type {Promise<ServiceWorkerRegistration | null>}
 */
export const serviceWorker = ready.then(idle, idle).then(registerServiceWorker);

ready.then(hideLoading, showFailure);

/** @returns {Promise<PlanetAPI>} */
async function startCore() {
  if (typeof WebAssembly !== 'object') {
    throw new Error('This browser cannot run WebAssembly, which PLANET needs.');
  }
  if (typeof globalThis.Go !== 'function') {
    throw new Error('The PLANET loader (wasm_exec.js) did not load.');
  }
  const go = new globalThis.Go();
  // The core announces either planet-ready or, when it cannot open the vault
  // storage (e.g. IndexedDB refused in a private window), planet-failed with
  // the error as the event's detail.
  // While another tab holds the vault, the core waits for it and says so
  // with planet-waiting.
  window.addEventListener('planet-waiting', showWaiting, { once: true });
  const started = new Promise((resolve, reject) => {
    window.addEventListener('planet-ready', resolve, { once: true });
    window.addEventListener('planet-failed', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      reject(detail instanceof Error ? detail : new Error(String(detail?.message ?? detail)));
    }, { once: true });
  });
  const { instance } = await instantiate(go);
  performance.mark(marks.instantiated);
  // go.run resolves only when the Go program exits, which it must not do
  // before (or after) it is ready.
  const exited = go.run(instance).then(() => {
    throw new Error('The PLANET core stopped unexpectedly.');
  });
  await Promise.race([started, exited]);
  if (!globalThis.planet) {
    throw new Error('The PLANET core started without its API.');
  }
  performance.mark(marks.ready);
  return globalThis.planet;
}

/**
 * Streams and compiles planet.wasm; falls back to a buffered compile when the
 * server does not label it application/wasm.
 * @param {{importObject: WebAssembly.Imports}} go
 */
async function instantiate(go) {
  const response = fetch('planet.wasm').catch(() => {
    throw new Error('Could not download the PLANET core. Check your connection and try again.');
  });
  try {
    return await WebAssembly.instantiateStreaming(response, go.importObject);
  } catch (err) {
    const res = await response;
    if (!res.ok) {
      throw new Error(`Could not load the PLANET core (HTTP ${res.status}).`);
    }
    if (res.headers.get('content-type')?.startsWith('application/wasm')) throw err;
    const bytes = await (await fetch('planet.wasm')).arrayBuffer();
    return WebAssembly.instantiate(bytes, go.importObject);
  }
}

/** @returns {Promise<void>} */
function idle() {
  return new Promise((resolve) => {
    if ('requestIdleCallback' in window) requestIdleCallback(() => resolve(), { timeout: 2000 });
    else setTimeout(resolve, 200);
  });
}

/** @returns {Promise<ServiceWorkerRegistration | null>} */
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('sw.js', { scope: './' });
  } catch (err) {
    console.warn('PLANET will not work offline: service worker registration failed.', err);
    return null;
  }
}

function showWaiting() {
  const message = document.getElementById('boot-message');
  if (message) {
    message.textContent = 'PLANET is open in another tab. Switch to that tab, or close it and this one takes over.';
  }
  document.getElementById('boot')?.classList.add('boot-waiting');
}

function hideLoading() {
  document.getElementById('boot')?.remove();
}

/** @param {unknown} err */
function showFailure(err) {
  const box = document.getElementById('boot');
  if (!box) return;
  box.classList.add('boot-failed');
  box.removeAttribute('role');
  box.replaceChildren();
  const title = document.createElement('h1');
  title.textContent = 'PLANET could not start';
  const message = document.createElement('p');
  message.setAttribute('role', 'alert');
  message.textContent = err instanceof Error ? err.message : String(err);
  const retry = document.createElement('button');
  retry.type = 'button';
  retry.className = 'button';
  retry.textContent = 'Try again';
  retry.addEventListener('click', () => location.reload());
  box.append(title, message, retry);
  console.error(err);
}

let promptMarked = false;

/**
 * Records that the unlock (or create) prompt is shown and interactive.
 * Only the first call per page load counts.
 */
export function markUnlockPrompt() {
  if (promptMarked) return;
  promptMarked = true;
  performance.mark(marks.unlockPrompt);
}
