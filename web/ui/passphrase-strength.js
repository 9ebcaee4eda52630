// <planet-strength>: how strong a candidate passphrase is, as the core rates
// it (planet.passphraseStrength), with the core's warning and suggestions.

import { planet } from '../lib/api.js';
import { el, uid } from '../lib/elements.js';

/** @typedef {import('../planet.d.ts').Strength} Strength */

const words = ['Very weak', 'Weak', 'Fair', 'Good', 'Strong'];

export class PassphraseStrength extends HTMLElement {
  /** @type {HTMLMeterElement} */
  #meter;
  /** @type {HTMLSpanElement} */
  #word;
  /** @type {HTMLParagraphElement} */
  #warning;
  /** @type {HTMLUListElement} */
  #suggestions;

  /** @param {string} [label] the meter's accessible name */
  constructor(label = 'Passphrase strength') {
    super();
    const id = uid('strength');
    // low/high put scores 0–1 in the red region, 2 in amber and 3–4
    // (acceptable to the core) in green.
    this.#meter = el('meter', { id, min: 0, max: 4, low: 1.5, high: 2.5, optimum: 4, value: 0 });
    this.#word = el('span', { class: 'strength-word', 'aria-hidden': 'true' });
    this.#warning = el('p', { class: 'strength-warning', hidden: true });
    this.#suggestions = el('ul', { class: 'strength-suggestions', hidden: true });
    this.feedbackId = uid('strength-feedback');
    this.className = 'strength';
    this.append(
      el('div', { class: 'strength-row' },
        el('label', { for: id }, label), this.#meter, this.#word),
      el('div', { id: this.feedbackId, class: 'strength-feedback' }, this.#warning, this.#suggestions),
    );
  }

  /**
   * Rates a passphrase and shows the result.
   * @param {string} passphrase
   * @returns {Strength | null} null for an empty passphrase or if the core could not rate it
   */
  rate(passphrase) {
    if (!passphrase) {
      this.#show(null);
      return null;
    }
    /** @type {Strength | null} */
    let strength = null;
    try {
      strength = planet.passphraseStrength(passphrase);
    } catch {
      // The core checks again on submit; an unrated passphrase just shows no meter reading.
    }
    this.#show(strength);
    return strength;
  }

  /** @param {Strength | null} s */
  #show(s) {
    const score = s ? s.score : 0;
    this.#meter.value = score;
    this.#meter.setAttribute('aria-valuetext', s ? `${words[score]}, ${score} of 4` : 'Not rated');
    this.#word.textContent = s ? words[score] : '';
    this.dataset.score = s ? String(score) : '';
    this.#warning.textContent = s?.warning ?? '';
    this.#warning.hidden = !s?.warning;
    this.#suggestions.replaceChildren(...(s?.suggestions ?? []).map((t) => el('li', {}, t)));
    this.#suggestions.hidden = !s?.suggestions?.length;
  }
}

customElements.define('planet-strength', PassphraseStrength);
