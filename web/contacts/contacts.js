// <planet-contacts>: the people in the vault.

import { planet } from '../lib/api.js';
import { el } from '../lib/elements.js';
import { RecordSection } from '../ui/record-list.js';

/** @typedef {import('../planet.d.ts').Contact} Contact */
/** @typedef {import('../planet.d.ts').ContactInput} ContactInput */

/** @extends {RecordSection<Contact, ContactInput>} */
export class ContactsSection extends RecordSection {
  constructor() {
    super({
      heading: 'Contacts',
      singular: 'contact',
      intro: 'People you know, with their DID when you have it.',
      empty: 'No contacts yet. Add the first one above.',
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'did', label: 'DID', code: true, placeholder: 'did:key:z6Mk…', hint: 'Optional. Their decentralised identifier, if they gave you one.' },
        { key: 'notes', label: 'Notes', multiline: true },
      ],
      nameOf: (c) => c.name,
      describe: (c) => [
        c.did ? el('p', { class: 'hint', 'data-testid': 'contact-origin' }, originText(c.did)) : null,
        c.did ? el('p', {}, el('code', { class: 'did' }, c.did)) : null,
        c.notes ? el('p', { class: 'prose' }, c.notes) : null,
      ],
      order: (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }),
      store: () => planet.contacts,
    });
  }
}

/**
 * Where a contact is from, by their DID: a did:key is a PLANET vault's own,
 * reached through the relay or browser to browser; any other DID (a
 * did:peer:2 with a DIDComm service) is someone on the First Person
 * Network, reached through their mediator.
 * @param {string} did
 */
function originText(did) {
  return did.startsWith('did:key:')
    ? 'On PLANET: messages go browser to browser, or wait in their mailbox'
    : 'On the First Person Network: messages go through their mediator';
}

customElements.define('planet-contacts', ContactsSection);
