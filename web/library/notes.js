// <planet-notes>: private notes, kept encrypted in the vault.

import { planet } from '../lib/api.js';
import { el } from '../lib/elements.js';
import { RecordSection } from '../ui/record-list.js';

/** @typedef {import('../planet.d.ts').Note} Note */
/** @typedef {import('../planet.d.ts').NoteInput} NoteInput */

/** @extends {RecordSection<Note, NoteInput>} */
export class NotesSection extends RecordSection {
  constructor() {
    super({
      heading: 'Notes',
      singular: 'note',
      intro: 'Private notes, encrypted in your vault.',
      empty: 'No notes yet. Write the first one above.',
      fields: [
        { key: 'title', label: 'Title', required: true },
        { key: 'body', label: 'Body', multiline: true },
      ],
      nameOf: (n) => n.title,
      describe: (n) => [n.body ? el('p', { class: 'prose' }, n.body) : null],
      // Most recently changed first.
      order: (a, b) => (changed(b) - changed(a)) || 0,
      store: () => planet.notes,
    });
  }
}

/** @param {Note} n */
function changed(n) {
  return Date.parse(n.updated || n.created);
}

customElements.define('planet-notes', NotesSection);
