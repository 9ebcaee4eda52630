// The shape shared by Contacts and Notes: a form that adds a record (or,
// after "Edit <name>", saves changes to one) and the list of records, each
// with "Edit <name>" and "Delete <name>" buttons.

import { errorMessage } from '../lib/api.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { humanDate } from '../lib/format.js';
import { confirmDelete } from '../ui/dialogs.js';

/**
 * @typedef {object} FieldSpec
 * @property {string} key record property and input key
 * @property {string} label visible label and accessible name
 * @property {boolean} [multiline] a <textarea> rather than an <input>
 * @property {boolean} [required]
 * @property {string} [placeholder]
 * @property {string} [hint]
 * @property {boolean} [code] machine text: no spellcheck or autocapitalisation
 */

/**
 * @typedef {{id: string, created: string, updated: string}} StoredRecord
 */

/**
 * @template {StoredRecord} R
 * @template I
 * @typedef {object} RecordKind
 * @property {string} heading the section's title, e.g. "Contacts"
 * @property {string} singular e.g. "contact", as in "Add contact"
 * @property {string} intro one line under the heading
 * @property {string} empty what the list says when there is nothing yet
 * @property {FieldSpec[]} fields
 * @property {(r: R) => string} nameOf what "Edit …" and "Delete …" call the record
 * @property {(r: R) => (Node | null)[]} describe the record's content in the list
 * @property {(a: R, b: R) => number} order list order
 * @property {() => {
 *   list(): Promise<R[]>,
 *   add(input: I): Promise<R>,
 *   update(id: string, input: I): Promise<R>,
 *   delete(id: string): Promise<void>,
 * }} store where the records live
 */

/**
 * @template {StoredRecord} R
 * @template I
 */
export class RecordSection extends HTMLElement {
  /** @type {RecordKind<R, I>} */
  kind;
  /** @type {R | null} the record the form is editing, or null when adding */
  #editing = null;
  /** @type {Map<string, HTMLInputElement | HTMLTextAreaElement>} */
  #inputs = new Map();
  #formAlert = alertBox();
  #listAlert = alertBox();
  #status = statusLine();
  /** @type {HTMLFormElement} */
  #form = el('form', { class: 'stack', novalidate: true });
  #formHeading = el('h2', {});
  #submit = el('button', { type: 'submit', class: 'button primary' });
  #cancel = el('button', { type: 'button', class: 'button', hidden: true }, 'Cancel');
  #list = el('ul', { class: 'records' });

  /** @param {RecordKind<R, I>} kind */
  constructor(kind) {
    super();
    this.kind = kind;
  }

  connectedCallback() {
    if (this.childElementCount) return;
    const { kind } = this;
    for (const spec of kind.fields) {
      const input = spec.multiline
        ? el('textarea', { rows: spec.key === 'body' ? 6 : 3 })
        : el('input', { type: 'text', autocomplete: 'off' });
      if (spec.required) input.required = true;
      if (spec.placeholder) input.placeholder = spec.placeholder;
      if (spec.code) {
        input.spellcheck = false;
        input.setAttribute('autocapitalize', 'off');
        input.classList.add('mono');
      }
      input.name = spec.key;
      this.#inputs.set(spec.key, input);
    }
    this.#form.append(
      this.#formHeading,
      ...kind.fields.map((spec) => field(spec.label, /** @type {HTMLInputElement} */ (this.#inputs.get(spec.key)), spec.hint)),
      this.#formAlert.node,
      el('div', { class: 'row' }, this.#submit, this.#cancel),
    );
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#save();
    });
    this.#cancel.addEventListener('click', () => this.#startAdding(true));

    this.append(
      el('h1', { tabindex: -1 }, kind.heading),
      el('p', { class: 'lead' }, kind.intro),
      el('div', { class: 'record-layout' },
        el('div', {},
          el('section', { class: 'card record-form' }, this.#form)),
        el('div', {},
          this.#status.node,
          this.#listAlert.node,
          this.#list)),
    );
    this.#startAdding(false);
    this.#refresh();
  }

  /** @param {boolean} focus */
  #startAdding(focus) {
    this.#editing = null;
    this.#form.reset();
    this.#formAlert.clear();
    this.#formHeading.textContent = `Add a ${this.kind.singular}`;
    this.#submit.textContent = `Add ${this.kind.singular}`;
    this.#cancel.hidden = true;
    this.#form.classList.remove('editing');
    if (focus) this.#firstInput().focus();
  }

  /** @param {R} record */
  #startEditing(record) {
    this.#editing = record;
    this.#formAlert.clear();
    for (const [key, input] of this.#inputs) {
      input.value = String(/** @type {Record<string, unknown>} */ (record)[key] ?? '');
    }
    this.#formHeading.textContent = `Edit ${this.kind.singular}`;
    this.#submit.textContent = `Save ${this.kind.singular}`;
    this.#cancel.hidden = false;
    this.#form.classList.add('editing');
    this.#firstInput().focus();
  }

  #firstInput() {
    return /** @type {HTMLInputElement} */ (this.#inputs.get(this.kind.fields[0].key));
  }

  async #save() {
    this.#formAlert.clear();
    /** @type {Record<string, string>} */
    const input = {};
    for (const spec of this.kind.fields) {
      const control = /** @type {HTMLInputElement} */ (this.#inputs.get(spec.key));
      const value = spec.multiline ? control.value : control.value.trim();
      if (spec.required && !value) {
        this.#formAlert.show(`${spec.label} is required.`);
        control.focus();
        return;
      }
      input[spec.key] = value;
    }
    const store = this.kind.store();
    const editing = this.#editing;
    const Singular = capitalised(this.kind.singular);
    try {
      await whileBusy(this.#form, () => (editing
        ? store.update(editing.id, /** @type {I} */ (input))
        : store.add(/** @type {I} */ (input))));
    } catch (err) {
      // Keep what the person typed so that they can fix it.
      this.#formAlert.show(errorMessage(err));
      return;
    }
    this.#status.show(editing ? `${Singular} saved.` : `${Singular} added.`, 5000);
    this.#startAdding(true);
    await this.#refresh();
  }

  async #refresh() {
    /** @type {R[]} */
    let records;
    try {
      records = await this.kind.store().list();
    } catch (err) {
      this.#listAlert.show(errorMessage(err));
      return;
    }
    this.#listAlert.clear();
    records.sort(this.kind.order);
    this.#list.replaceChildren(...(records.length
      ? records.map((r) => this.#item(r))
      : [el('li', { class: 'empty' }, this.kind.empty)]));
  }

  /** @param {R} record */
  #item(record) {
    const name = this.kind.nameOf(record);
    return el('li', { class: 'card record' },
      el('h3', {}, name),
      this.kind.describe(record),
      el('p', { class: 'meta' }, record.updated && record.updated !== record.created
        ? `Updated ${humanDate(record.updated)}`
        : `Added ${humanDate(record.created)}`),
      el('div', { class: 'row' },
        el('button', { type: 'button', class: 'button small', 'aria-label': `Edit ${name}`, onclick: () => this.#startEditing(record) }, 'Edit'),
        el('button', { type: 'button', class: 'button small danger-text', 'aria-label': `Delete ${name}`, onclick: () => this.#delete(record) }, 'Delete')));
  }

  /** @param {R} record */
  async #delete(record) {
    const name = this.kind.nameOf(record);
    const ok = await confirmDelete(this, {
      title: `Delete “${name}”?`,
      message: `This ${this.kind.singular} will be removed from your vault. This cannot be undone.`,
    });
    if (!ok) return;
    try {
      await this.kind.store().delete(record.id);
    } catch (err) {
      this.#listAlert.show(errorMessage(err));
      return;
    }
    if (this.#editing?.id === record.id) this.#startAdding(false);
    this.#status.show(`${capitalised(this.kind.singular)} deleted.`, 5000);
    await this.#refresh();
    // The button that had focus is gone with its item.
    this.querySelector('h1')?.focus();
  }
}

/** @param {string} s */
function capitalised(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
