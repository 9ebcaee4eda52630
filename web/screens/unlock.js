// <planet-unlock>: asks for the passphrase of the vault in this browser.
// Emits `vault-opened` (detail: {identity}) once the vault is open, or
// `vault-missing` if there turns out to be no vault in this browser.

import { planet, asPlanetError } from '../lib/api.js';
import { markUnlockPrompt } from '../boot.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { requestPersistence } from '../lib/storage.js';

export class UnlockScreen extends HTMLElement {
  /** Why the vault is locked, shown above the form ("" for nothing). */
  reason = '';

  connectedCallback() {
    if (this.childElementCount) return;
    const pass = el('input', { type: 'password', autocomplete: 'current-password', required: true });
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      el('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'PLANET vault', hidden: true }),
      field('Passphrase', pass),
      alert.node,
      el('button', { type: 'submit', class: 'button primary' }, 'Unlock'),
      status.node);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      if (!pass.value) {
        alert.show('Enter your passphrase.');
        pass.focus();
        return;
      }
      status.show('Unlocking…');
      try {
        const identity = await whileBusy(form, () => planet.unlock(pass.value));
        status.clear();
        pass.value = '';
        await requestPersistence();
        this.dispatchEvent(new CustomEvent('vault-opened', { bubbles: true, detail: { identity } }));
      } catch (err) {
        status.clear();
        const e = asPlanetError(err);
        if (e.code === 'no_vault') {
          this.dispatchEvent(new CustomEvent('vault-missing', { bubbles: true }));
          return;
        }
        alert.show(e.message);
        pass.focus();
        pass.select();
      }
    });

    this.append(el('main', { class: 'welcome' },
      el('div', { class: 'welcome-card card' },
        el('img', { class: 'welcome-logo', src: 'icons/icon.svg', alt: '', width: 56, height: 56 }),
        el('h1', {}, 'Unlock your vault'),
        this.reason ? el('p', { class: 'notice' }, this.reason) : null,
        el('p', { class: 'lead' }, 'Enter your passphrase to open PLANET.'),
        form,
      ),
    ));
    pass.focus();
    markUnlockPrompt();
  }
}

customElements.define('planet-unlock', UnlockScreen);
