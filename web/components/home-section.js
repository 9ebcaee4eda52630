// <planet-home>: who you are (DID, peer ID, a QR code to share the DID) and
// what the vault holds.

import { planet, errorMessage } from '../api.js';
import { ObjectURLs } from '../blobs.js';
import { el, alertBox, statusLine } from '../elements.js';
import { plural } from '../format.js';

/** @typedef {import('../planet.d.ts').Identity} Identity */
/** @typedef {import('../planet.d.ts').ImportSummary} ImportSummary */
/** @typedef {import('../planet.d.ts').Counts} Counts */

export class HomeSection extends HTMLElement {
  /** @type {Identity | null} */
  identity = null;
  /** @type {ImportSummary | null} */
  imported = null;

  #urls = new ObjectURLs();

  connectedCallback() {
    if (this.childElementCount) return;
    const alert = alertBox();
    const identityCard = el('section', { class: 'card identity', 'aria-labelledby': 'identity-heading' },
      el('h2', { id: 'identity-heading' }, 'Your identity'),
      el('p', { class: 'loading' }, 'Loading…'));
    const countsCard = el('section', { class: 'card', 'aria-labelledby': 'counts-heading' },
      el('h2', { id: 'counts-heading' }, 'In your vault'),
      el('p', { class: 'loading' }, 'Loading…'));
    this.append(
      el('h1', { tabindex: -1 }, 'Home'),
      ...(this.imported ? [el('p', { class: 'notice', role: 'status' }, importSummaryText(this.imported))] : []),
      alert.node,
      el('div', { class: 'home-grid' }, identityCard, countsCard),
    );
    this.#load(identityCard, countsCard, alert);
  }

  disconnectedCallback() {
    this.#urls.revokeAll();
  }

  /**
   * @param {HTMLElement} identityCard
   * @param {HTMLElement} countsCard
   * @param {ReturnType<typeof alertBox>} alert
   */
  async #load(identityCard, countsCard, alert) {
    try {
      const [identity, counts] = await Promise.all([
        this.identity ?? planet.identity(),
        planet.counts(),
      ]);
      identityCard.lastElementChild?.replaceWith(this.#identityView(identity));
      countsCard.lastElementChild?.replaceWith(countsView(counts));
    } catch (err) {
      alert.show(errorMessage(err));
    }
  }

  /** @param {Identity} identity */
  #identityView({ did, peerId }) {
    const copied = statusLine();
    const code = el('code', { class: 'did', 'data-testid': 'did' }, did);
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(did);
        copied.show('Copied', 4000);
      } catch {
        // No clipboard access (permission or insecure context): select the
        // text so that the person can copy it with the keyboard or menu.
        getSelection()?.selectAllChildren(code);
        copied.show('Selected: press Ctrl+C (or ⌘C) to copy', 8000);
      }
    };
    return el('div', { class: 'identity-body' },
      el('div', { class: 'identity-text' },
        el('p', { class: 'hint' },
          'Your decentralised identifier (DID). Share it so that people can recognise you; it belongs to you, not to any company.'),
        code,
        el('div', { class: 'row' },
          el('button', { type: 'button', class: 'button', onclick: copy }, 'Copy DID'),
          copied.node),
        el('dl', { class: 'facts' },
          el('dt', {}, 'Peer ID'),
          el('dd', {}, el('code', { class: 'peer-id', 'data-testid': 'peer-id' }, peerId))),
      ),
      el('figure', { class: 'qr' }, this.#qrImage(did)),
    );
  }

  /**
   * The DID as a QR code. The core's SVG goes in as an image (from a Blob
   * URL), never as markup, so nothing in it can run or reach the page.
   * @param {string} did
   */
  #qrImage(did) {
    try {
      const svg = planet.qrSVG(did);
      const url = this.#urls.create(new Blob([svg], { type: 'image/svg+xml' }));
      return el('img', { src: url, alt: 'QR code of your DID', width: 200, height: 200 });
    } catch (err) {
      return el('p', { class: 'hint' }, `No QR code: ${errorMessage(err)}`);
    }
  }
}

/** @param {Counts} counts */
function countsView(counts) {
  /** @type {[keyof Counts, string][]} */
  const rows = [['contacts', 'Contacts'], ['notes', 'Notes'], ['photos', 'Photos'], ['documents', 'Documents']];
  return el('dl', { class: 'counts' }, rows.map(([key, label]) =>
    el('div', { class: 'count' },
      el('dt', {}, label),
      el('dd', { 'data-testid': `count-${key}` }, counts[key]))));
}

/**
 * How an import went, in one sentence.
 * @param {ImportSummary} s
 */
export function importSummaryText(s) {
  return `Vault imported: ${plural(s.contacts, 'contact', 'contacts')}, ${plural(s.notes, 'note', 'notes')}, `
    + `${plural(s.photos, 'photo', 'photos')} and ${plural(s.documents, 'document', 'documents')}.`;
}

customElements.define('planet-home', HomeSection);
