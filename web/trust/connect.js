// <planet-connect>: relationships on the First Person Network. Anyone's DID
// (the one their app shares, from PLANET or any other First Person Network
// client) is enough to ask them for a relationship, with a note saying who
// you are. Their requests wait here to be accepted, declined or blocked,
// never in the chat list. Once both agreed, either can ask the other for a
// relationship credential (VRC), which the other issues or declines.
//
// The lists are read again whenever the core says a trust-network message
// was handled (planet-contacts, through the store): answers arrive at any
// time, and the page shows them without a reload.

import { planet, errorMessage } from '../lib/api.js';
import * as store from '../lib/store.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { humanDate } from '../lib/format.js';

/** @typedef {import('../planet.d.ts').FPNRelationship} FPNRelationship */
/** @typedef {import('../planet.d.ts').FPNCredentialExchange} FPNCredentialExchange */
/** @typedef {import('../planet.d.ts').Delivery} Delivery */

/** A DID shortened for a line of text: its method and the ends of the rest. */
function shortDID(/** @type {string} */ did) {
  return did.length > 32 ? `${did.slice(0, 16)}…${did.slice(-6)}` : did;
}

/** How to call the other side of a relationship. */
function who(/** @type {FPNRelationship} */ r) {
  return r.name || shortDID(r.peer);
}

/** What a relationship's state means, in words. */
function stateText(/** @type {FPNRelationship} */ r) {
  switch (r.state) {
    case 'requested': return 'Request sent; waiting for their answer.';
    case 'pending': return 'Asks to connect with you.';
    case 'accepted': return 'You accepted; waiting for their confirmation.';
    case 'established': return 'Connected.';
    case 'rejected': return r.reason ? `Declined your request: “${r.reason}”` : 'Declined your request.';
    case 'declined': return 'You declined their request.';
  }
  return r.state;
}

/** What a credential exchange stands at, in words. */
function credentialText(/** @type {FPNCredentialExchange} */ v, /** @type {string} */ name) {
  const mine = v.direction === 'asked-by-me';
  switch (v.state) {
    case 'requested': return mine ? `You asked ${name} for a relationship credential; waiting.` : `${name} asks you for a relationship credential.`;
    case 'rejected': return mine ? `${name} declined to issue a credential${v.reason ? `: “${v.reason}”` : '.'}` : 'You declined to issue a credential.';
    case 'issued': {
      const c = v.credential;
      const holds = c?.verified ? 'verified' : `does not verify: ${c?.problem ?? 'unknown problem'}`;
      return mine ? `${name} issued you a relationship credential (${holds}).` : `You issued ${name} a relationship credential (${holds}).`;
    }
  }
  return v.state;
}

export class ConnectSection extends HTMLElement {
  #formAlert = alertBox();
  #listAlert = alertBox();
  #status = statusLine();
  #did = el('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: false, 'data-testid': 'connect-did', placeholder: 'did:peer:2…' });
  #note = el('textarea', { rows: 3, maxlength: 4096, 'data-testid': 'connect-note' });
  /** @type {HTMLFormElement} */
  #form = el('form', { class: 'stack', novalidate: true });
  #requests = el('ul', { class: 'relationships', 'aria-label': 'Requests for you' });
  #mine = el('ul', { class: 'relationships', 'aria-label': 'Your relationships' });
  /** @type {(() => void) | undefined} */
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
      field('Their DID', this.#did, 'The DID their app shares (PLANET shows it on Home). It names the server that delivers to them.'),
      field('A note for them', this.#note, 'Optional. Say who you are or how you met; they read it before they decide.'),
      this.#formAlert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary', 'data-testid': 'connect-submit' }, 'Ask to connect'), this.#status.node));
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#connect();
    });
    this.append(
      el('h1', { tabindex: -1 }, 'Connect'),
      el('p', { class: 'lead' },
        'Connect with anyone on the First Person Network, in PLANET or another app, by the DID they share. Each relationship gets its own private identifier, so the people you know cannot link your relationships together.'),
      el('div', { class: 'connect-layout' },
        el('div', { class: 'connect-lists' },
          el('section', { class: 'card stack', 'aria-labelledby': 'connect-heading' },
            el('h2', { id: 'connect-heading' }, 'Ask someone to connect'),
            this.#form),
          this.#lookupCard()),
        el('div', { class: 'connect-lists' },
          this.#listAlert.node,
          el('section', { class: 'card stack', 'aria-labelledby': 'requests-heading' },
            el('h2', { id: 'requests-heading' }, 'Requests for you'),
            this.#requests),
          el('section', { class: 'card stack', 'aria-labelledby': 'mine-heading' },
            el('h2', { id: 'mine-heading' }, 'Your relationships'),
            this.#mine))));
  }

  /** Someone's public page, looked up by its address or did:webvh and verified here. */
  #lookupCard() {
    const input = el('input', { type: 'text', autocomplete: 'off', spellcheck: false, 'data-testid': 'lookup-input', placeholder: 'https://… or did:webvh:…' });
    const alert = alertBox();
    const result = el('div', { class: 'stack', 'data-testid': 'lookup-result' });
    const form = el('form', { class: 'stack', novalidate: true },
      field('Their page', input, 'The address of their public page, or their did:webvh. PLANET checks every word before it shows it.'),
      alert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button', 'data-testid': 'lookup-submit' }, 'Look up')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      result.replaceChildren();
      try {
        const v = await whileBusy(form, () => planet.page.view(input.value));
        const ask = el('button', { type: 'button', class: 'button primary', 'data-testid': 'lookup-connect' }, 'Ask to connect');
        ask.addEventListener('click', () => {
          this.#did.value = v.did;
          this.#note.focus();
        });
        result.replaceChildren(el('div', { class: 'stack' },
          el('h3', {}, v.profile?.name || v.did),
          v.profile?.summary ? el('p', { class: 'prose' }, v.profile.summary) : null,
          v.profile?.links.length ? el('ul', {}, v.profile.links.map((l) => el('li', {}, el('a', { href: l.url, rel: 'noopener nofollow', target: '_blank' }, l.title)))) : null,
          v.posts.length ? el('p', {}, `${v.posts.length} post${v.posts.length === 1 ? '' : 's'}, the latest “${v.posts[0].title}”.`) : null,
          el('p', { class: v.problem ? 'alert' : 'hint', 'data-testid': 'lookup-verified' }, v.problem ? 'Something on this page does not verify:' : 'Verified here:'),
          el('ul', { class: 'hint' }, v.checks.map((c) => el('li', {}, c))),
          el('p', {}, el('a', { href: v.url, target: '_blank', rel: 'noopener' }, 'Open their page')),
          ask));
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    return el('section', { class: 'card stack', 'aria-labelledby': 'lookup-heading' },
      el('h2', { id: 'lookup-heading' }, 'Look someone up'), form, result);
  }

  async #connect() {
    this.#formAlert.clear();
    const did = this.#did.value.trim();
    if (!did) {
      this.#formAlert.show('Paste the DID they gave you.');
      this.#did.focus();
      return;
    }
    await whileBusy(this.#form, async () => {
      this.#status.show('Sending…');
      try {
        const r = await planet.relationships.connect(did, this.#note.value);
        this.#form.reset();
        this.#status.show(r.sent ? `Request sent to ${who(r)}.` : `Request kept, but not sent: ${r.notSent}`, r.sent ? 5000 : 0);
        store.changed('contacts');
      } catch (err) {
        this.#status.clear();
        this.#formAlert.show(errorMessage(err));
      }
    });
  }

  async #load() {
    try {
      const { relationships, credentials } = await planet.relationships.list();
      this.#listAlert.clear();
      const pending = relationships.filter((r) => r.state === 'pending');
      const others = relationships.filter((r) => r.state !== 'pending');
      this.#requests.replaceChildren(...(pending.length
        ? pending.map((r) => this.#requestRow(r))
        : [el('li', { class: 'empty' }, 'No requests waiting. When someone asks to connect with you, you decide here.')]));
      this.#mine.replaceChildren(...(others.length
        ? others.map((r) => this.#relationshipRow(r, credentials.filter((c) => c.relationship === r.id)))
        : [el('li', { class: 'empty' }, 'No relationships yet. Ask someone to connect, or share your DID from Home.')]));
    } catch (err) {
      this.#listAlert.show(`Your relationships could not be read: ${errorMessage(err)}`);
    }
  }

  /**
   * A row with buttons that each run one step and then read the lists again.
   * @param {HTMLElement} row
   * @param {[string, string, () => Promise<Delivery | void>][]} actions label, test id, step
   */
  #actions(row, actions) {
    const alert = alertBox();
    const bar = el('div', { class: 'row' });
    for (const [label, testid, run] of actions) {
      const button = el('button', { type: 'button', class: 'button', 'data-testid': testid }, label);
      button.addEventListener('click', async () => {
        alert.clear();
        bar.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        try {
          const d = await run();
          if (d && !d.sent) alert.show(`Done here, but not delivered: ${d.notSent}`);
          store.changed('contacts');
        } catch (err) {
          alert.show(errorMessage(err));
          bar.querySelectorAll('button').forEach((b) => { b.disabled = false; });
        }
      });
      bar.append(button);
    }
    row.append(bar, alert.node);
  }

  /** @param {FPNRelationship} r */
  #requestRow(r) {
    const row = el('li', { class: 'relationship', 'data-testid': 'relationship-request', dataset: { state: r.state } },
      el('h3', {}, who(r)),
      el('p', { class: 'meta' }, el('code', { class: 'did' }, r.peer), ` · ${humanDate(r.created)}`),
      r.reason ? el('blockquote', { class: 'relationship-note prose', 'data-testid': 'relationship-note' }, r.reason) : null);
    this.#actions(row, [
      ['Accept', 'relationship-accept', () => planet.relationships.accept(r.id)],
      ['Decline', 'relationship-decline', () => planet.relationships.decline(r.id)],
      ['Block', 'relationship-block', async () => {
        await planet.chat.block(r.peer);
        return planet.relationships.decline(r.id);
      }],
    ]);
    return row;
  }

  /**
   * @param {FPNRelationship} r
   * @param {FPNCredentialExchange[]} credentials
   */
  #relationshipRow(r, credentials) {
    const row = el('li', { class: 'relationship', 'data-testid': 'relationship', dataset: { state: r.state } },
      el('h3', {}, who(r)),
      el('p', { class: 'relationship-state', 'data-testid': 'relationship-state' }, stateText(r)),
      el('details', {},
        el('summary', {}, 'Details'),
        el('dl', { class: 'relationship-details' },
          el('dt', {}, 'Their DID'), el('dd', {}, el('code', { class: 'did' }, r.peer)),
          r.peerDid ? [el('dt', {}, 'Their DID for this relationship'), el('dd', {}, el('code', { class: 'did' }, r.peerDid))] : null,
          r.did ? [el('dt', {}, 'Your DID for this relationship'), el('dd', {}, el('code', { class: 'did' }, r.did))] : null,
          el('dt', {}, 'Since'), el('dd', {}, humanDate(r.created)))));
    if (credentials.length) {
      row.append(el('ul', { class: 'credentials', 'aria-label': `Credentials with ${who(r)}` },
        credentials.map((v) => this.#credentialRow(v, who(r)))));
    }
    if (r.state === 'established' && !credentials.some((v) => v.direction === 'asked-by-me' && v.state !== 'rejected')) {
      this.#actions(row, [['Ask for a relationship credential', 'credential-request', () => planet.relationships.requestCredential(r.id)]]);
    }
    return row;
  }

  /**
   * @param {FPNCredentialExchange} v
   * @param {string} name
   */
  #credentialRow(v, name) {
    const row = el('li', { class: 'credential', 'data-testid': 'credential', dataset: { state: v.state, direction: v.direction, verified: String(v.credential?.verified ?? '') } },
      el('p', {}, credentialText(v, name)),
      v.credential ? el('p', { class: 'meta' }, 'Digest ', el('code', {}, v.credential.digestMultibase ?? '')) : null);
    if (v.direction === 'asked-of-me' && v.state === 'requested') {
      this.#actions(row, [
        ['Issue', 'credential-issue', () => planet.relationships.issueCredential(v.id)],
        ['Decline', 'credential-decline', () => planet.relationships.declineCredential(v.id)],
      ]);
    }
    return row;
  }
}

customElements.define('planet-connect', ConnectSection);
