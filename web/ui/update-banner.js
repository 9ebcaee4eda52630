// <planet-update-banner>: tells the person a new version of PLANET has been
// downloaded and lets them switch to it. The new service worker waits until
// asked (it never takes over a running page by itself), so the page never
// mixes files from two versions.

import { el } from '../lib/elements.js';

/** How often an open page asks the server whether there is a new version. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

export class UpdateBanner extends HTMLElement {
  /** @type {ServiceWorker | null} */
  worker = null;

  connectedCallback() {
    if (this.childElementCount) return;
    this.setAttribute('role', 'region');
    this.setAttribute('aria-label', 'Update');
    const reload = el('button', { type: 'button', class: 'button primary small' }, 'Reload to update');
    reload.addEventListener('click', () => {
      reload.disabled = true;
      const worker = this.worker;
      if (!worker || worker.state !== 'installed') {
        // Another tab already switched to it (or it went away): just reload.
        location.reload();
        return;
      }
      navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
      worker.postMessage({ type: 'skip-waiting' });
    });
    this.append(
      el('p', { role: 'status' }, 'A new version of PLANET is ready.',
        el('span', { class: 'hint' }, ' Reloading locks your vault.')),
      reload,
    );
  }
}

customElements.define('planet-update-banner', UpdateBanner);

/**
 * Shows the banner whenever a new version is installed and waiting.
 * @param {Promise<ServiceWorkerRegistration | null>} registration
 */
export async function watchForUpdates(registration) {
  const reg = await registration;
  if (!reg) return;
  /** @param {ServiceWorker} worker */
  const offer = (worker) => {
    // Without a controller this is the first install, not an update.
    if (!navigator.serviceWorker.controller) return;
    let banner = document.querySelector('planet-update-banner');
    if (!banner) {
      banner = new UpdateBanner();
      document.body.append(banner);
    }
    /** @type {UpdateBanner} */ (banner).worker = worker;
  };
  /** @param {ServiceWorker | null} worker */
  const follow = (worker) => {
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  };
  if (reg.waiting) offer(reg.waiting);
  // An update may have started before the page was listening.
  follow(reg.installing);
  reg.addEventListener('updatefound', () => follow(reg.installing));
  const check = () => reg.update().catch(() => { /* offline: try again later */ });
  setInterval(check, CHECK_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check();
  });
}
