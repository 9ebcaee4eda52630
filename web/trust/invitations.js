// <planet-invitations>: inviting someone new. The person writes how they
// know them, how long the invitation lasts and how many may use it; the
// invitation is a link to this page (and the same link as a QR code to show
// on a phone). Below, the invitations made so far, each with its uses left,
// and a way to withdraw one.

import { planet, errorMessage } from '../lib/api.js';
import { ObjectURLs } from '../lib/blobs.js';
import { el, field, alertBox, statusLine } from '../lib/elements.js';
import { copyButton } from '../ui/copy-button.js';
import { qrImage } from '../ui/qr.js';
import { humanDate, plural } from '../lib/format.js';

/** @typedef {import('../planet.d.ts').InvitationInfo} InvitationInfo */

const LIFETIMES = [
  ['1 hour', 1],
  ['1 day', 24],
  ['1 week', 24 * 7],
  ['30 days', 24 * 30],
];

export class InvitationsCard extends HTMLElement {
  #urls = new ObjectURLs();
  #list = el('ul', { class: 'invitations', 'aria-label': 'Your invitations' });
  #made = el('div', { class: 'stack', hidden: true });

  connectedCallback() {
    if (this.childElementCount) {
      this.refresh();
      return;
    }
    const alert = alertBox();
    const status = statusLine();
    const note = el('input', { type: 'text', maxlength: 280, autocomplete: 'off' });
    const hours = el('select', {}, LIFETIMES.map(([label, h]) => el('option', { value: String(h), selected: h === 24 * 7 }, label)));
    const uses = el('input', { type: 'number', min: 1, max: 100, value: '1', inputmode: 'numeric' });
    const create = el('button', { type: 'submit', class: 'button primary' }, 'Create invitation');
    const form = el('form', { class: 'stack' },
      field('How you know them', note, 'Optional. It goes into the relationship credentials you exchange, in your words.'),
      el('div', { class: 'row' }, field('Valid for', hours), field('How many people may use it', uses)),
      alert.node,
      el('div', { class: 'row' }, create, status.node));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      create.disabled = true;
      status.show('Creating…');
      try {
        const inv = await planet.invitations.create({ note: note.value, hours: Number(hours.value), uses: Number(uses.value) });
        status.clear();
        this.#show(inv.link, inv.expires, inv.uses);
        this.refresh();
      } catch (err) {
        status.clear();
        alert.show(errorMessage(err));
      } finally {
        create.disabled = false;
      }
    });
    this.append(
      el('section', { class: 'card', 'aria-labelledby': 'invitations-heading' },
        el('h2', { id: 'invitations-heading' }, 'Invite someone'),
        el('p', { class: 'hint' },
          'Send the link (or show the QR code) to someone you know. When they accept, you each hold a signed credential of your relationship.'),
        form,
        this.#made,
        el('h3', {}, 'Your invitations'),
        this.#list));
    this.refresh();
  }

  disconnectedCallback() {
    this.#urls.revokeAll();
  }

  /**
   * Shows a new invitation: its link, a copy button and its QR code.
   * @param {string} link
   * @param {string} expires RFC 3339
   * @param {number} uses
   */
  #show(link, expires, uses) {
    this.#urls.revokeAll();
    const text = el('input', { type: 'text', readonly: true, value: link, class: 'invitation-link' });
    this.#made.replaceChildren(
      field('Invitation link', text, `Valid until ${humanDate(expires)}, for ${plural(uses, 'person', 'people')}.`),
      copyButton({
        label: 'Copy link', text: link,
        select: () => text.select(),
        copied: ['Copied', 2000],
        selected: ['Select the link and copy it', 4000],
      }),
      el('figure', { class: 'qr' }, qrImage(this.#urls, link, 'QR code of the invitation link', 220)));
    this.#made.hidden = false;
  }

  async refresh() {
    /** @type {InvitationInfo[]} */
    let invs;
    try {
      invs = await planet.invitations.list();
    } catch (err) {
      this.#list.replaceChildren(el('li', { class: 'hint' }, errorMessage(err)));
      return;
    }
    if (!invs.length) {
      this.#list.replaceChildren(el('li', { class: 'hint' }, 'None yet.'));
      return;
    }
    this.#list.replaceChildren(...invs.map((inv) => this.#item(inv)));
  }

  /** @param {InvitationInfo} inv */
  #item(inv) {
    const expired = Date.parse(inv.expires) <= Date.now();
    const accepted = inv.acceptedBy.length;
    let state;
    if (inv.revoked) state = 'withdrawn';
    else if (expired) state = 'expired';
    else if (inv.usesLeft === 0) state = 'used';
    else state = `open until ${humanDate(inv.expires)}, ${plural(inv.usesLeft, 'use', 'uses')} left`;
    const item = el('li', { 'data-testid': 'invitation' },
      el('p', {}, inv.note ? `“${inv.note}”` : 'No note'),
      el('p', { class: 'hint' }, `${state}; accepted by ${plural(accepted, 'person', 'people')}.`));
    if (!inv.revoked && !expired && inv.usesLeft > 0) {
      const withdraw = el('button', { type: 'button', class: 'button' }, 'Withdraw');
      withdraw.setAttribute('aria-label', inv.note ? `Withdraw the invitation “${inv.note}”` : 'Withdraw this invitation');
      withdraw.addEventListener('click', async () => {
        withdraw.disabled = true;
        try {
          await planet.invitations.revoke(inv.id);
        } catch (err) {
          item.append(el('p', { class: 'alert', role: 'alert' }, errorMessage(err)));
        }
        this.refresh();
      });
      item.append(withdraw);
    }
    return item;
  }
}

customElements.define('planet-invitations', InvitationsCard);
