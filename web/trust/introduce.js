// <planet-introduce>: inviting someone new (<planet-invitations>),
// introducing two contacts to each other, and answering
// the introductions others made. An introduction tells both people who the
// other is and why they should meet; each says yes or no on their own, and
// when both say yes they are connected, as if one had invited the other.
//
// The lists are read again when the core says a trust-network exchange was
// handled (planet-contacts): answers arrive from the other side at any time.

import { planet, errorMessage } from '../lib/api.js';
import * as store from '../lib/store.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { humanDate } from '../lib/format.js';
import { InvitationsCard } from './invitations.js';

/** @typedef {import('../planet.d.ts').Contact} Contact */
/** @typedef {import('../planet.d.ts').ReceivedIntroduction} ReceivedIntroduction */
/** @typedef {import('../planet.d.ts').MadeIntroduction} MadeIntroduction */

export class IntroduceSection extends HTMLElement {
  /** @type {Contact[]} connected contacts with a DID, by name */
  #contacts = [];

  #formAlert = alertBox();
  #listAlert = alertBox();
  #status = statusLine();
  #first = el('select', { required: true });
  #second = el('select', { required: true });
  #note = el('textarea', { rows: 3, maxlength: 1000 });
  /** @type {HTMLFormElement} */
  #form = el('form', { class: 'stack', novalidate: true });
  #tooFew = el('p', { class: 'notice', hidden: true },
    'You need at least two connected contacts to introduce them. Connect with people by invitation first.');
  #received = el('ul', { class: 'introductions', 'aria-label': 'Introductions for you' });
  #made = el('ul', { class: 'introductions', 'aria-label': 'Introductions you made' });

  /** @type {(() => void) | undefined} unsubscribes from the store */
  #unsubscribe;

  connectedCallback() {
    if (!this.childElementCount) this.#build();
    this.#unsubscribe = store.contacts.subscribe(() => this.#load());
    this.#load();
  }

  disconnectedCallback() {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #build() {
    this.#form.append(
      this.#tooFew,
      el('div', { class: 'introduce-pair' },
        field('First person', this.#first),
        field('Second person', this.#second)),
      field('Why they should meet', this.#note, 'Both of them will read this. A sentence is enough.'),
      this.#formAlert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary' }, 'Introduce'), this.#status.node));
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#introduce();
    });
    this.append(
      el('h1', { tabindex: -1 }, 'Introduce'),
      el('p', { class: 'lead' },
        'Know two people who should know each other? Introduce them. Each of them is told who the other is and why you think they should meet, and each decides for themself. If both accept, they are connected, just as if one had invited the other.'),
      new InvitationsCard(),
      el('div', { class: 'introduce-layout' },
        el('section', { class: 'card stack', 'aria-labelledby': 'introduce-heading' },
          el('h2', { id: 'introduce-heading' }, 'Introduce two people'),
          this.#form),
        el('div', { class: 'introduce-lists' },
          this.#listAlert.node,
          el('section', { class: 'card stack', 'aria-labelledby': 'received-heading' },
            el('h2', { id: 'received-heading' }, 'Introductions for you'),
            this.#received),
          el('section', { class: 'card stack', 'aria-labelledby': 'made-heading' },
            el('h2', { id: 'made-heading' }, 'Introductions you made'),
            this.#made))));
  }

  /** Reads contacts and introductions again. */
  async #load() {
    try {
      const [contacts, intros] = await Promise.all([planet.contacts.list(), planet.introductions.list()]);
      this.#listAlert.clear();
      this.#contacts = contacts
        .filter((c) => c.did && c.connected)
        .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
      this.#showChoices();
      this.#showReceived(intros.received);
      this.#showMade(intros.made);
    } catch (err) {
      this.#listAlert.show(`Your introductions could not be read: ${errorMessage(err)}`);
    }
  }

  /** Fills both pickers, keeping what was chosen when it is still there. */
  #showChoices() {
    for (const select of [this.#first, this.#second]) {
      const was = select.value;
      select.replaceChildren(
        el('option', { value: '' }, 'Choose a contact…'),
        ...this.#contacts.map((c) => el('option', { value: c.did }, c.name)));
      if (this.#contacts.some((c) => c.did === was)) select.value = was;
    }
    this.#tooFew.hidden = this.#contacts.length >= 2;
  }

  /** @param {ReceivedIntroduction[]} list */
  #showReceived(list) {
    if (list.length === 0) {
      this.#received.replaceChildren(el('li', { class: 'empty' },
        'Nobody has introduced you to anyone yet. When a contact does, you can accept or decline here.'));
      return;
    }
    const pendingFirst = [...list].sort((a, b) =>
      Number(b.state === 'pending') - Number(a.state === 'pending') || b.received.localeCompare(a.received));
    this.#received.replaceChildren(...pendingFirst.map((r) => this.#receivedRow(r)));
  }

  /** @param {ReceivedIntroduction} r */
  #receivedRow(r) {
    const alert = alertBox();
    const state = el('p', { class: 'introduction-state', 'data-testid': 'introduction-state' }, receivedState(r));
    const row = el('li', { class: 'introduction', 'data-testid': 'received-introduction', dataset: { state: r.state } },
      el('h3', {}, `${r.otherName || 'Someone'}`),
      el('p', { class: 'meta' }, `Introduced by ${r.introducerName || 'a contact'} · ${humanDate(r.received)}`),
      r.note ? el('blockquote', { class: 'introduction-note prose' }, r.note) : null,
      state,
      alert.node);
    if (r.state === 'pending') {
      /** @param {boolean} accept */
      const answer = async (accept) => {
        alert.clear();
        buttons.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        state.textContent = accept ? 'Accepting…' : 'Declining…';
        try {
          const updated = await planet.introductions.answer(r.id, accept);
          const next = this.#receivedRow(updated);
          row.replaceWith(next);
          next.querySelector('h3')?.setAttribute('tabindex', '-1');
          /** @type {HTMLElement | null} */ (next.querySelector('h3'))?.focus();
        } catch (err) {
          state.textContent = receivedState(r);
          alert.show(errorMessage(err));
          buttons.querySelectorAll('button').forEach((b) => { b.disabled = false; });
        }
      };
      const buttons = el('div', { class: 'row' },
        el('button', { type: 'button', class: 'button primary small', onclick: () => answer(true) }, 'Accept'),
        el('button', { type: 'button', class: 'button small', onclick: () => answer(false) }, 'Decline'),
        el('span', { class: 'meta' }, `Answer by ${humanDate(r.expires)}`));
      row.append(buttons);
    }
    return row;
  }

  /** @param {MadeIntroduction[]} list */
  #showMade(list) {
    if (list.length === 0) {
      this.#made.replaceChildren(el('li', { class: 'empty' }, 'You have not introduced anyone yet.'));
      return;
    }
    const newest = [...list].sort((a, b) => b.created.localeCompare(a.created));
    this.#made.replaceChildren(...newest.map((m) => {
      const a = m.aName || 'Someone';
      const b = m.bName || 'someone';
      return el('li', { class: 'introduction', 'data-testid': 'made-introduction' },
        el('h3', {}, `${a} and ${b}`),
        el('p', { class: 'meta' }, humanDate(m.created)),
        m.note ? el('blockquote', { class: 'introduction-note prose' }, m.note) : null,
        el('ul', { class: 'introduction-sides', 'aria-label': 'Their answers' },
          el('li', { dataset: { state: m.stateA } }, `${a}: ${madeState(m.stateA)}`),
          el('li', { dataset: { state: m.stateB } }, `${b}: ${madeState(m.stateB)}`)));
    }));
  }

  async #introduce() {
    this.#formAlert.clear();
    this.#status.clear();
    const a = this.#first.value;
    const b = this.#second.value;
    if (!a || !b) {
      this.#formAlert.show('Choose the two people to introduce.');
      (a ? this.#second : this.#first).focus();
      return;
    }
    if (a === b) {
      this.#formAlert.show('Choose two different people.');
      this.#second.focus();
      return;
    }
    const nameOf = (/** @type {string} */ did) => this.#contacts.find((c) => c.did === did)?.name ?? 'them';
    this.#status.show('Introducing…');
    try {
      await whileBusy(this.#form, () => planet.introductions.introduce(a, b, this.#note.value.trim()));
      this.#status.show(`Introduced ${nameOf(a)} and ${nameOf(b)}. Each will be asked whether they want to connect.`, 8000);
      this.#first.value = '';
      this.#second.value = '';
      this.#note.value = '';
      await this.#load();
    } catch (err) {
      this.#status.clear();
      this.#formAlert.show(`Not introduced: ${errorMessage(err)}`);
    }
  }
}

/**
 * Where an introduction made to the person stands, in words.
 * @param {ReceivedIntroduction} r
 */
function receivedState(r) {
  const other = r.otherName || 'the other person';
  switch (r.state) {
    case 'pending': return 'Waiting for your answer.';
    case 'accepted': return `accepted — waiting for ${other}`;
    case 'declined': return 'declined';
    case 'connected': return 'connected';
    case 'other-declined': return `${other} declined`;
    default: return r.state;
  }
}

/**
 * Where one side of an introduction the person made stands, in words.
 * @param {MadeIntroduction['stateA']} s
 */
function madeState(s) {
  switch (s) {
    case 'pending': return 'not answered yet';
    case 'accepted': return 'accepted';
    case 'declined': return 'declined';
    case 'connected': return 'connected';
    default: return s;
  }
}

customElements.define('planet-introduce', IntroduceSection);
