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
        c.did ? el('p', {}, el('code', { class: 'did' }, c.did)) : null,
        c.notes ? el('p', { class: 'prose' }, c.notes) : null,
      ],
      order: (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }),
      store: () => planet.contacts,
    });
  }
}

customElements.define('planet-contacts', ContactsSection);
