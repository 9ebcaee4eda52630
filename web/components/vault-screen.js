// <planet-vault>: the open vault. A header with the sections and the Lock
// button, and the current section, chosen by the location hash (#/contacts)
// so that the browser's back button moves between sections.
// Emits `lock-requested` when the person presses Lock.

import { el } from '../elements.js';
import { HomeSection } from './home-section.js';
import { ContactsSection } from './contacts-section.js';
import { ChatSection } from './chat-section.js';
import { NotesSection } from './notes-section.js';
import { PhotosSection } from './photos-section.js';
import { DocumentsSection } from './documents-section.js';
import { SettingsSection } from './settings-section.js';
import { InviteSection } from './invite-section.js';
import { IntroduceSection } from './introduce-section.js';
import { GraphSection } from './graph-section.js';

/** @typedef {import('../planet.d.ts').Identity} Identity */
/** @typedef {import('../planet.d.ts').ImportSummary} ImportSummary */

/**
 * The sections, in navigation order.
 * @type {{route: string, label: string, make: (v: VaultScreen) => HTMLElement}[]}
 */
const sections = [
  { route: 'home', label: 'Home', make: (v) => Object.assign(new HomeSection(), { identity: v.identity, imported: v.takeImported() }) },
  { route: 'contacts', label: 'Contacts', make: () => new ContactsSection() },
  { route: 'chat', label: 'Chat', make: () => new ChatSection() },
  { route: 'introduce', label: 'Introduce', make: () => new IntroduceSection() },
  { route: 'graph', label: 'Trust graph', make: () => new GraphSection() },
  { route: 'notes', label: 'Notes', make: () => new NotesSection() },
  { route: 'photos', label: 'Photos', make: () => new PhotosSection() },
  { route: 'documents', label: 'Documents', make: () => new DocumentsSection() },
  { route: 'settings', label: 'Settings', make: () => new SettingsSection() },
];

/**
 * An invitation link (#/invite/<token>) opened in the vault: not a section
 * of the navigation, a page of its own.
 */
const invitation = { route: 'invite', label: 'Invitation', make: () => Object.assign(new InviteSection(), { link: location.href }) };

/** @param {string} hash */
function routeOf(hash) {
  const route = hash.replace(/^#\/?/, '');
  if (route.startsWith('invite/')) return invitation;
  return sections.find((s) => s.route === route) ?? sections[0];
}

export class VaultScreen extends HTMLElement {
  /** @type {Identity | null} */
  identity = null;
  /** @type {ImportSummary | null} set after an import, shown once on Home */
  imported = null;

  /** @type {HTMLElement} */
  #main = el('main', { class: 'content', id: 'content' });
  /** @type {Map<string, HTMLAnchorElement>} */
  #links = new Map();
  #onHashChange = () => this.#show(routeOf(location.hash), true);

  connectedCallback() {
    if (!this.childElementCount) {
      const nav = el('nav', { class: 'sections', 'aria-label': 'Sections' },
        el('ul', {}, sections.map((s) => {
          const link = el('a', { href: `#/${s.route}` }, s.label);
          this.#links.set(s.route, link);
          return el('li', {}, link);
        })));
      this.append(
        el('a', { class: 'skip-link', href: '#content', onclick: (/** @type {Event} */ e) => {
          e.preventDefault();
          this.#main.querySelector('h1')?.focus();
        } }, 'Skip to content'),
        el('header', { class: 'topbar' },
          el('div', { class: 'topbar-inner' },
            el('span', { class: 'brand' },
              el('img', { src: 'icons/icon.svg', alt: '', width: 28, height: 28 }), 'PLANET'),
            nav,
            el('button', { type: 'button', class: 'button lock-button', onclick: () => this.#lock() }, 'Lock'))),
        this.#main,
      );
    }
    window.addEventListener('hashchange', this.#onHashChange);
    this.#show(routeOf(location.hash), true);
  }

  disconnectedCallback() {
    window.removeEventListener('hashchange', this.#onHashChange);
    // Drop the section (and with it every decrypted thing on screen).
    this.#main.replaceChildren();
  }

  /** The import summary, once. */
  takeImported() {
    const s = this.imported;
    this.imported = null;
    return s;
  }

  /**
   * @param {(typeof sections)[number]} section
   * @param {boolean} moveFocus
   */
  #show(section, moveFocus) {
    for (const [route, link] of this.#links) {
      if (route === section.route) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = section.route === 'home' ? 'PLANET' : `${section.label} — PLANET`;
    const view = section.make(this);
    this.#main.replaceChildren(view);
    if (moveFocus) view.querySelector('h1')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  #lock() {
    this.dispatchEvent(new CustomEvent('lock-requested', { bubbles: true }));
  }
}

customElements.define('planet-vault', VaultScreen);
