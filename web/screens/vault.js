// <planet-vault>: the open vault. A header with the sections and the Lock
// button, and the current section, chosen by the location hash (#/contacts,
// #/chat/<did>, #/invite/<token>) through the router, so that the browser's
// back button moves between sections. Each section's module is loaded on its
// first visit; the service worker has them all cached for offline use.
// Emits `lock-requested` when the person presses Lock.

import { el } from '../lib/elements.js';
import { follow, lazy } from '../lib/router.js';
import { errorMessage } from '../lib/api.js';

/** @typedef {import('../planet.d.ts').Identity} Identity */
/** @typedef {import('../planet.d.ts').ImportSummary} ImportSummary */
/** @typedef {import('../lib/router.js').Params} Params */

/**
 * A section: its route, its name in the navigation, and how to make its view
 * once its module has loaded.
 * @typedef {object} Section
 * @property {string} path the route, e.g. "chat/:did?"
 * @property {string} name the first segment, which the navigation link points to
 * @property {string} label
 * @property {boolean} nav whether the navigation lists it
 * @property {(v: VaultScreen, params: Params) => Promise<HTMLElement>} make
 */

/**
 * @template M
 * @param {string} path
 * @param {string} label
 * @param {() => Promise<M>} load the section's module, by dynamic import
 * @param {(m: M, v: VaultScreen, params: Params) => HTMLElement} make
 * @param {boolean} [nav]
 * @returns {Section}
 */
function section(path, label, load, make, nav = true) {
  const module = lazy(load);
  return { path, name: path.split('/')[0], label, nav, make: async (v, params) => make(await module(), v, params) };
}

/** The sections, in navigation order. */
const sections = [
  section('home', 'Home', () => import('../home/home.js'),
    (m, v) => Object.assign(new m.HomeSection(), { identity: v.identity, imported: v.takeImported() })),
  section('contacts', 'Contacts', () => import('../contacts/contacts.js'), (m) => new m.ContactsSection()),
  section('chat/:did?', 'Chat', () => import('../chat/chat.js'),
    (m, _, params) => Object.assign(new m.ChatSection(), { did: params.did ?? '' })),
  section('connect', 'Connect', () => import('../trust/connect.js'), (m) => new m.ConnectSection()),
  section('introduce', 'Introduce', () => import('../trust/introduce.js'), (m) => new m.IntroduceSection()),
  section('graph', 'Trust graph', () => import('../trust/graph.js'), (m) => new m.GraphSection()),
  section('page', 'Your page', () => import('../page/page.js'), (m) => new m.PageSection()),
  section('notes', 'Notes', () => import('../library/notes.js'), (m) => new m.NotesSection()),
  section('photos', 'Photos', () => import('../library/photos.js'), (m) => new m.PhotosSection()),
  section('documents', 'Documents', () => import('../library/documents.js'), (m) => new m.DocumentsSection()),
  section('settings', 'Settings', () => import('../settings/settings.js'), (m) => new m.SettingsSection()),
  // An invitation link (#/invite/<token>) opened in the vault: not a section
  // of the navigation, a page of its own. The core reads the whole link.
  section('invite/:token*', 'Invitation', () => import('../trust/invite.js'),
    (m) => Object.assign(new m.InviteSection(), { link: location.href }), false),
];

export class VaultScreen extends HTMLElement {
  /** @type {Identity | null} */
  identity = null;
  /** @type {ImportSummary | null} set after an import, shown once on Home */
  imported = null;

  /** @type {HTMLElement} */
  #main = el('main', { class: 'content', id: 'content' });
  /** @type {Map<string, HTMLAnchorElement>} by section name */
  #links = new Map();
  /** @type {(() => void) | null} stops following the hash */
  #unfollow = null;
  /** Counts the routes shown, so that a section whose module loads late does not replace a later one. */
  #shown = 0;

  connectedCallback() {
    if (!this.childElementCount) {
      const nav = el('nav', { class: 'sections', 'aria-label': 'Sections' },
        el('ul', {}, sections.filter((s) => s.nav).map((s) => {
          const link = el('a', { href: `#/${s.name}` }, s.label);
          this.#links.set(s.name, link);
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
    this.#unfollow = follow(sections, sections[0], ({ route, params }) => this.#show(route, params));
  }

  disconnectedCallback() {
    this.#unfollow?.();
    this.#unfollow = null;
    this.#shown++;
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
   * @param {Section} section
   * @param {Params} params
   */
  async #show(section, params) {
    const turn = ++this.#shown;
    for (const [name, link] of this.#links) {
      if (name === section.name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = section.name === 'home' ? 'PLANET' : `${section.label} — PLANET`;
    /** @type {HTMLElement} */
    let view;
    try {
      view = await section.make(this, params);
    } catch (err) {
      view = el('div', {},
        el('h1', { tabindex: -1 }, section.label),
        el('p', { class: 'alert', role: 'alert' }, `This section could not be loaded: ${errorMessage(err)}`));
    }
    if (turn !== this.#shown) return;
    this.#main.replaceChildren(view);
    view.querySelector('h1')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  #lock() {
    this.dispatchEvent(new CustomEvent('lock-requested', { bubbles: true }));
  }
}

customElements.define('planet-vault', VaultScreen);
