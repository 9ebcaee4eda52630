// <planet-create>: the first-run screen. Either create a fresh vault with a
// new identity, or import an export from another browser or client.
// Emits `vault-opened` (detail: {identity, imported?}) once the vault is open.

import { planet, errorMessage } from '../lib/api.js';
import { markUnlockPrompt } from '../boot.js';
import { el, field, alertBox, whileBusy, uid } from '../lib/elements.js';
import { percent } from '../lib/format.js';
import { requestPersistence } from '../lib/storage.js';
import { PassphraseStrength } from '../ui/passphrase-strength.js';

/** @typedef {import('../planet.d.ts').Identity} Identity */
/** @typedef {import('../planet.d.ts').ImportSummary} ImportSummary */

/**
 * Inputs for choosing a new passphrase: "Passphrase", its strength and
 * "Confirm passphrase", plus the reason the form cannot be sent yet.
 */
function newPassphraseFields() {
  const pass = el('input', { type: 'password', autocomplete: 'new-password', required: true });
  const confirm = el('input', { type: 'password', autocomplete: 'new-password', required: true });
  const strength = new PassphraseStrength();
  pass.setAttribute('aria-describedby', strength.feedbackId);
  return {
    pass,
    confirm,
    nodes: [
      // A username field (never shown) lets password managers file the passphrase sensibly.
      el('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'PLANET vault', hidden: true }),
      field('Passphrase', pass),
      strength,
      field('Confirm passphrase', confirm),
    ],
    /** @returns {string} why the passphrase cannot be used yet, or "" */
    problem() {
      const s = strength.rate(pass.value);
      if (!pass.value) return 'Choose a passphrase.';
      if (s && !s.acceptable) return 'Choose a stronger passphrase.';
      if (!confirm.value) return 'Type the passphrase again to confirm it.';
      if (confirm.value !== pass.value) return 'The passphrases do not match.';
      return '';
    },
  };
}

export class CreateScreen extends HTMLElement {
  connectedCallback() {
    if (this.childElementCount) return;
    this.#showCreate();
    markUnlockPrompt();
  }

  #showCreate() {
    const chosen = newPassphraseFields();
    const why = el('p', { class: 'hint why', id: uid('why') });
    const submit = el('button', { type: 'submit', class: 'button primary', 'aria-describedby': why.id, disabled: true }, 'Create vault');
    const alert = alertBox();
    const form = el('form', { class: 'stack', novalidate: true }, chosen.nodes, why, alert.node, submit);

    const check = () => {
      why.textContent = chosen.problem();
      submit.disabled = why.textContent !== '';
    };
    form.addEventListener('input', check);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      check();
      if (submit.disabled) return;
      alert.clear();
      try {
        const identity = await whileBusy(form, () => planet.create(chosen.pass.value));
        await requestPersistence();
        this.#opened(identity);
      } catch (err) {
        alert.show(errorMessage(err));
        check();
      }
    });

    this.replaceChildren(el('main', { class: 'welcome' },
      el('div', { class: 'welcome-card card' },
        el('img', { class: 'welcome-logo', src: 'icons/icon.svg', alt: '', width: 56, height: 56 }),
        el('h1', {}, 'Create your vault'),
        el('p', { class: 'lead' },
          'PLANET keeps your identity, contacts, notes, photos and documents encrypted in this browser. ',
          'Your passphrase is the only key: nobody, not even PLANET, can recover it.'),
        form,
      ),
      el('div', { class: 'welcome-alt' },
        el('p', {}, 'Already have a PLANET export from another browser?'),
        el('button', { type: 'button', class: 'button', onclick: () => this.#showImport() }, 'Import a vault'),
      ),
    ));
    check();
    chosen.pass.focus();
  }

  #showImport() {
    const file = el('input', { type: 'file', accept: '.age,application/octet-stream', required: true });
    const exportPass = el('input', { type: 'password', autocomplete: 'off', required: true });
    const chosen = newPassphraseFields();
    const why = el('p', { class: 'hint why', id: uid('why') });
    const submit = el('button', { type: 'submit', class: 'button primary', 'aria-describedby': why.id, disabled: true }, 'Import vault');
    const progress = el('progress', { id: uid('import-progress') });
    const progressText = el('span', { class: 'progress-text' });
    const progressRow = el('div', { class: 'progress-row', hidden: true },
      el('label', { for: progress.id }, 'Import progress'), progress, progressText);
    const alert = alertBox();
    const form = el('form', { class: 'stack', novalidate: true },
      field('Vault export file', file, 'The .age file PLANET made when you exported your vault.'),
      field('Export passphrase', exportPass, 'The passphrase you chose when you exported it.'),
      el('p', { class: 'hint' }, 'Then choose the passphrase that will unlock the vault in this browser:'),
      chosen.nodes, why, progressRow, alert.node, submit);

    const check = () => {
      let problem = '';
      if (!file.files?.length) problem = 'Choose the export file.';
      else if (!exportPass.value) problem = 'Enter the passphrase of the export.';
      const passProblem = chosen.problem();
      why.textContent = problem || passProblem;
      submit.disabled = why.textContent !== '';
    };
    form.addEventListener('input', check);
    form.addEventListener('change', check);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      check();
      const chosenFile = file.files?.[0];
      if (submit.disabled || !chosenFile) return;
      alert.clear();
      progress.removeAttribute('value');
      progressText.textContent = '';
      progressRow.hidden = false;
      try {
        const summary = await whileBusy(form, () => planet.importVault(
          chosenFile, exportPass.value, chosen.pass.value,
          (done, total) => {
            if (total > 0) {
              progress.max = total;
              progress.value = done;
              progressText.textContent = percent(done, total);
            }
          }));
        // The import may leave the vault open or sealed; open it either way.
        const identity = (await planet.state()) === 'unlocked'
          ? await planet.identity()
          : await planet.unlock(chosen.pass.value);
        await requestPersistence();
        this.#opened(identity, summary);
      } catch (err) {
        progressRow.hidden = true;
        alert.show(errorMessage(err));
        check();
      }
    });

    this.replaceChildren(el('main', { class: 'welcome' },
      el('div', { class: 'welcome-card card' },
        el('img', { class: 'welcome-logo', src: 'icons/icon.svg', alt: '', width: 56, height: 56 }),
        el('h1', {}, 'Import a vault'),
        el('p', { class: 'lead' },
          'Bring your vault over from another browser or client: same identity, same contacts, notes, photos and documents. ',
          'Nothing is changed if the file cannot be read.'),
        form,
      ),
      el('div', { class: 'welcome-alt' },
        el('p', {}, 'Starting fresh?'),
        el('button', { type: 'button', class: 'button', onclick: () => this.#showCreate() }, 'Create a new vault instead'),
      ),
    ));
    check();
    file.focus();
  }

  /**
   * @param {Identity} identity
   * @param {ImportSummary} [imported]
   */
  #opened(identity, imported) {
    this.dispatchEvent(new CustomEvent('vault-opened', { bubbles: true, detail: { identity, imported } }));
  }
}

customElements.define('planet-create', CreateScreen);
