// <planet-settings>: your name, passphrase, auto-lock, storage, export, lock.

import { planet, errorMessage } from '../lib/api.js';
import { downloadBlob } from '../lib/blobs.js';
import { el, field, alertBox, statusLine, whileBusy, uid } from '../lib/elements.js';
import { isoDay, percent } from '../lib/format.js';
import { isPersistent, requestPersistence, usage } from '../lib/storage.js';
import { PassphraseStrength } from '../ui/passphrase-strength.js';

export class SettingsSection extends HTMLElement {
  connectedCallback() {
    if (this.childElementCount) return;
    this.append(
      el('h1', { tabindex: -1 }, 'Settings'),
      this.#nameCard(),
      this.#passphraseCard(),
      this.#autoLockCard(),
      this.#storageCard(),
      this.#exportCard(),
      this.#lockCard(),
      el('p', { class: 'hint version' }, `PLANET core ${planet.version}`),
    );
  }

  #nameCard() {
    const name = el('input', { type: 'text', autocomplete: 'name', maxlength: 200 });
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      field('Your name', name, 'How you appear to the people you connect with. It travels with your invitations and connections.'),
      alert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary' }, 'Save name'), status.node));
    planet.settings().then(
      (s) => { if (!name.value) name.value = s.name ?? ''; },
      (err) => alert.show(errorMessage(err)));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      try {
        const saved = await whileBusy(form, () => planet.profile.setName(name.value));
        name.value = saved.name;
        status.show('Saved.', 6000);
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    return card('Your name', [form]);
  }

  #passphraseCard() {
    const current = el('input', { type: 'password', autocomplete: 'current-password', required: true });
    const next = el('input', { type: 'password', autocomplete: 'new-password', required: true });
    const confirm = el('input', { type: 'password', autocomplete: 'new-password', required: true });
    const strength = new PassphraseStrength();
    next.setAttribute('aria-describedby', strength.feedbackId);
    const why = el('p', { class: 'hint why', id: uid('why') });
    const submit = el('button', { type: 'submit', class: 'button primary', 'aria-describedby': why.id, disabled: true }, 'Change passphrase');
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      el('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'PLANET vault', hidden: true }),
      field('Current passphrase', current),
      field('New passphrase', next),
      strength,
      field('Confirm new passphrase', confirm),
      why, alert.node, el('div', { class: 'row' }, submit, status.node));

    const check = () => {
      const s = strength.rate(next.value);
      let problem = '';
      if (!current.value) problem = 'Enter your current passphrase.';
      else if (!next.value) problem = 'Choose a new passphrase.';
      else if (s && !s.acceptable) problem = 'Choose a stronger passphrase.';
      else if (confirm.value !== next.value) problem = 'The new passphrases do not match.';
      why.textContent = problem;
      submit.disabled = problem !== '';
    };
    form.addEventListener('input', check);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      check();
      if (submit.disabled) return;
      alert.clear();
      status.show('Changing…');
      try {
        await whileBusy(form, () => planet.changePassphrase(current.value, next.value));
        form.reset();
        strength.rate('');
        status.show('Passphrase changed.', 8000);
      } catch (err) {
        status.clear();
        alert.show(errorMessage(err));
      }
      check();
    });
    check();
    return card('Passphrase', [
      el('p', { class: 'hint' }, 'Your passphrase unlocks the vault in this browser. Changing it does not change your identity.'),
      form,
    ]);
  }

  #autoLockCard() {
    const minutes = el('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', required: true, class: 'narrow' });
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      field('Auto-lock after (minutes)', minutes, 'PLANET locks itself after this many minutes without activity. 0 means never.'),
      alert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary' }, 'Save auto-lock'), status.node));
    planet.settings().then(
      (s) => { if (!minutes.value) minutes.value = String(s.autoLockMinutes); },
      (err) => alert.show(errorMessage(err)));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      const value = minutes.valueAsNumber;
      // The core knows the upper limit and says so if it is passed.
      if (!Number.isInteger(value) || value < 0) {
        alert.show('Enter a whole number of minutes (0 for never).');
        minutes.focus();
        return;
      }
      try {
        const saved = await whileBusy(form, () => planet.setSettings({ autoLockMinutes: value }));
        minutes.value = String(saved.autoLockMinutes);
        status.show(saved.autoLockMinutes === 0 ? 'Saved: auto-lock is off.' : 'Saved.', 6000);
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    return card('Auto-lock', [form]);
  }

  #storageCard() {
    const used = el('p', { 'data-testid': 'storage-usage' }, 'Checking storage…');
    const persistence = el('p', { 'data-testid': 'storage-persistence' });
    const keep = el('button', { type: 'button', class: 'button', hidden: true }, 'Keep data persistent');
    const status = statusLine();
    const show = async () => {
      used.textContent = (await usage()) ?? 'This browser does not report storage use.';
      const persistent = await isPersistent();
      if (persistent === null) {
        persistence.textContent = 'This browser does not say whether it will keep your data.';
      } else if (persistent) {
        persistence.textContent = 'Storage is persistent: the browser will not clear your vault to free up space.';
      } else {
        persistence.textContent = 'Storage is not persistent: the browser may clear your vault when space runs low. Export it regularly.';
      }
      keep.hidden = persistent !== false;
    };
    keep.addEventListener('click', async () => {
      const granted = await requestPersistence();
      status.show(granted
        ? 'Done: storage is persistent.'
        : 'The browser declined. Installing PLANET as an app, or bookmarking it, usually helps.', 10000);
      await show();
    });
    show();
    return card('Storage', [used, persistence, el('div', { class: 'row' }, keep, status.node)]);
  }

  #exportCard() {
    const pass = el('input', { type: 'password', autocomplete: 'new-password', required: true });
    const confirm = el('input', { type: 'password', autocomplete: 'new-password', required: true });
    const strength = new PassphraseStrength('Export passphrase strength');
    pass.setAttribute('aria-describedby', strength.feedbackId);
    const why = el('p', { class: 'hint why', id: uid('why') });
    const submit = el('button', { type: 'submit', class: 'button primary', 'aria-describedby': why.id, disabled: true }, 'Export vault');
    const progress = el('progress', { id: uid('export-progress') });
    const progressText = el('span', { class: 'progress-text' });
    const progressRow = el('div', { class: 'progress-row', hidden: true },
      el('label', { for: progress.id }, 'Export progress'), progress, progressText);
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      field('Export passphrase', pass, 'Anyone with the file and this passphrase can read your whole vault: choose a strong one.'),
      strength,
      field('Confirm export passphrase', confirm),
      why, progressRow, alert.node, el('div', { class: 'row' }, submit), status.node);
    const check = () => {
      let problem = '';
      const s = strength.rate(pass.value);
      if (!pass.value) problem = 'Choose a passphrase for the export file.';
      else if (s && !s.acceptable) problem = 'Choose a stronger passphrase: the export holds your identity.';
      else if (confirm.value !== pass.value) problem = 'The export passphrases do not match.';
      why.textContent = problem;
      submit.disabled = problem !== '';
    };
    form.addEventListener('input', check);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      check();
      if (submit.disabled) return;
      alert.clear();
      status.clear();
      progress.removeAttribute('value');
      progressText.textContent = '';
      progressRow.hidden = false;
      try {
        const blob = await whileBusy(form, () => planet.exportVault(pass.value, (done, total) => {
          if (total > 0) {
            progress.max = total;
            progress.value = done;
            progressText.textContent = percent(done, total);
          }
        }));
        const name = `planet-export-${isoDay()}.age`;
        downloadBlob(blob, name);
        form.reset();
        status.show(`Exported: ${name} is in your downloads.`);
      } catch (err) {
        alert.show(errorMessage(err));
      } finally {
        progressRow.hidden = true;
      }
      check();
    });
    check();
    return card('Export', [
      el('p', { class: 'hint' },
        'Save your whole vault — identity, contacts, notes, photos and documents — as one encrypted file ',
        '(age format, around a tar archive) that you can keep as a backup or open in another browser or client.'),
      form,
      el('p', { class: 'hint' },
        'To import an export, open PLANET in a browser or browser profile that has no vault yet: ',
        'import is offered on its first screen, so that it can never overwrite the vault you have here.'),
    ]);
  }

  #lockCard() {
    return card('Lock', [
      el('p', { class: 'hint' }, 'Locking wipes the keys from memory; your passphrase opens the vault again.'),
      el('div', { class: 'row' }, el('button', {
        type: 'button',
        class: 'button',
        onclick: () => this.dispatchEvent(new CustomEvent('lock-requested', { bubbles: true })),
      }, 'Lock now')),
    ]);
  }
}

/**
 * @param {string} title
 * @param {(Node | null)[]} content
 */
function card(title, content) {
  const id = uid('settings');
  return el('section', { class: 'card', 'aria-labelledby': id }, el('h2', { id }, title), content);
}

customElements.define('planet-settings', SettingsSection);
