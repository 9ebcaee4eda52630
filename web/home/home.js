// <planet-home>: who you are (DID, peer ID, a QR code to share the DID), how
// the tab's network node stands with its relays (updated live), and what the
// vault holds.

import { planet, errorMessage } from '../lib/api.js';
import * as store from '../lib/store.js';
import { ObjectURLs } from '../lib/blobs.js';
import { el, alertBox } from '../lib/elements.js';
import { copyButton } from '../ui/copy-button.js';
import { qrImage } from '../ui/qr.js';
import { plural } from '../lib/format.js';

/** @typedef {import('../planet.d.ts').Identity} Identity */
/** @typedef {import('../planet.d.ts').ImportSummary} ImportSummary */
/** @typedef {import('../planet.d.ts').Counts} Counts */
/** @typedef {import('../planet.d.ts').NetworkStatus} NetworkStatus */
/** @typedef {import('../planet.d.ts').RelayStatus} RelayStatus */
/** @typedef {import('../planet.d.ts').PeerConnection} PeerConnection */

export class HomeSection extends HTMLElement {
  /** @type {Identity | null} */
  identity = null;
  /** @type {ImportSummary | null} */
  imported = null;

  #urls = new ObjectURLs();
  /** @type {(() => void)[]} what to call to unsubscribe from the store */
  #unsubscribe = [];

  connectedCallback() {
    if (this.childElementCount) return;
    const alert = alertBox();
    const identityCard = el('section', { class: 'card identity', 'aria-labelledby': 'identity-heading' },
      el('h2', { id: 'identity-heading' }, 'Your identity'),
      el('p', { class: 'loading' }, 'Loading…'));
    const countsCard = el('section', { class: 'card', 'aria-labelledby': 'counts-heading' },
      el('h2', { id: 'counts-heading' }, 'In your vault'),
      el('p', { class: 'loading' }, 'Loading…'));
    const network = new NetworkCard();
    this.append(
      el('h1', { tabindex: -1 }, 'Home'),
      ...(this.imported ? [el('p', { class: 'notice', role: 'status' }, importSummaryText(this.imported))] : []),
      alert.node,
      el('div', { class: 'home-grid' }, identityCard, network.node, countsCard),
    );
    this.#load(identityCard, countsCard, alert);
    this.#unsubscribe.push(
      store.network.subscribe((status, err) => {
        network.show(status, err);
        this.#showShareDID(status?.shareDid ?? '');
      }),
      // Shows the counts again when the trust network brought a contact.
      store.contacts.subscribe(() => {
        planet.counts().then((c) => countsCard.lastElementChild?.replaceWith(countsView(c)), () => {});
      }));
  }

  disconnectedCallback() {
    for (const fn of this.#unsubscribe.splice(0)) fn();
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

  /** The DID to share, shown once the tab is at its mediator. */
  #share = el('div', { class: 'share-did', hidden: true, 'data-testid': 'share' });
  #shared = '';

  /**
   * Shows the DID to share (with a QR code), or hides it while there is none.
   * @param {string} did
   */
  #showShareDID(did) {
    if (did === this.#shared) return;
    this.#shared = did;
    this.#share.hidden = !did;
    if (!did) {
      this.#share.replaceChildren();
      return;
    }
    const code = el('code', { class: 'did', 'data-testid': 'share-did' }, did);
    this.#share.replaceChildren(
      el('h3', {}, 'Reach me on the First Person Network'),
      el('p', { class: 'hint' },
        'Give this to anyone with a First Person Network app: it reaches you through your server, even while this tab is closed.'),
      code,
      copyButton({
        label: 'Copy the DID to share', text: did,
        select: () => getSelection()?.selectAllChildren(code),
        copied: ['Copied', 4000],
        selected: ['Selected: press Ctrl+C (or ⌘C) to copy', 8000],
      }),
      el('figure', { class: 'qr' }, qrImage(this.#urls, did, 'QR code of the DID to share', 200)),
    );
  }

  /** @param {Identity} identity */
  #identityView({ did, peerId }) {
    const code = el('code', { class: 'did', 'data-testid': 'did' }, did);
    return el('div', { class: 'identity-body' },
      el('div', { class: 'identity-text' },
        el('p', { class: 'hint' },
          'Your decentralised identifier (DID). Share it so that people can recognise you; it belongs to you, not to any company.'),
        code,
        copyButton({
          label: 'Copy DID', text: did,
          select: () => getSelection()?.selectAllChildren(code),
          copied: ['Copied', 4000],
          selected: ['Selected: press Ctrl+C (or ⌘C) to copy', 8000],
        }),
        el('dl', { class: 'facts' },
          el('dt', {}, 'Peer ID'),
          el('dd', {}, el('code', { class: 'peer-id', 'data-testid': 'peer-id' }, peerId))),
      ),
      el('figure', { class: 'qr' }, qrImage(this.#urls, did, 'QR code of your DID', 200)),
      this.#share,
    );
  }
}

/**
 * The network card: the node's state, each relay (connected, or
 * reconnecting with the reason), and how many peers the tab is connected to.
 * Only what changed is written again, so that assistive technology announces
 * changes, not every reading.
 */
class NetworkCard {
  summary = el('p', { class: 'network-summary', 'data-testid': 'network-state', role: 'status' }, 'Starting…');
  relays = el('ul', { class: 'relays', 'aria-label': 'Relays', 'data-testid': 'relays' });
  peers = el('p', { class: 'hint', 'data-testid': 'network-peers' });
  addressList = el('ul', { class: 'addresses', 'aria-label': 'Your addresses', 'data-testid': 'addresses' });
  addresses = el('details', { class: 'addresses-box', hidden: true },
    el('summary', {}, 'Your addresses'),
    el('p', { class: 'hint' }, 'Where other libp2p peers reach this tab: through your relay, then browser to browser by WebRTC.'),
    this.addressList);
  node = el('section', { class: 'card network', 'aria-labelledby': 'network-heading' },
    el('h2', { id: 'network-heading' }, 'Network'),
    el('p', { class: 'hint' }, 'Your vault reaches the people you connect with through a relay; what you say to each other is encrypted end to end.'),
    this.summary, this.relays, this.peers, this.addresses);
  #last = '';

  /**
   * Shows a reading of the store's network status.
   * @param {NetworkStatus | null} status
   * @param {unknown} [err] why there is no status
   */
  show(status, err) {
    const failure = status ? '' : errorMessage(err);
    const now = Date.now();
    const summary = status ? summaryText(status) : `Network status unavailable: ${failure}`;
    const relays = status?.relays ?? [];
    const rows = relays.map((r) => relayText(r, now));
    const peers = status ? peersText(status) : '';
    const addrs = status?.addresses ?? [];
    const key = JSON.stringify([summary, rows, peers, status?.state, addrs]);
    if (key === this.#last) return;
    this.#last = key;
    this.node.dataset.state = status?.state ?? 'failed';
    if (this.summary.textContent !== summary) this.summary.textContent = summary;
    this.relays.replaceChildren(...relays.map((r, i) => {
      const state = r.connected ? 'connected' : (r.error ? 'reconnecting' : 'connecting');
      return el('li', { class: `relay ${state}`, 'data-testid': 'relay', 'data-state': state },
        el('span', { class: 'relay-name' }, relayName(r.addr)),
        el('span', { class: 'relay-state' }, rows[i]));
    }));
    this.relays.hidden = relays.length === 0;
    this.peers.textContent = peers;
    this.addressList.replaceChildren(...addrs.map((a) => el('li', {}, el('code', {}, a))));
    this.addresses.hidden = addrs.length === 0;
  }
}

/** @param {NetworkStatus} s */
function summaryText(s) {
  switch (s.state) {
    case 'starting': return 'Starting the network…';
    case 'no-relay': return s.error || 'No relay: nobody can reach you from this browser.';
    case 'failed': return `The network could not start: ${s.error ?? 'unknown reason'}`;
    case 'off': return 'The network is off while the vault is locked.';
  }
  const up = s.relays.filter((r) => r.connected).length;
  if (up === s.relays.length) return up === 1 ? 'Online: reachable through your relay.' : `Online: reachable through ${up} relays.`;
  if (up > 0) return `Online: reachable through ${up} of ${s.relays.length} relays.`;
  return 'Offline: reconnecting to the relay…';
}

/**
 * @param {RelayStatus} r
 * @param {number} now
 */
function relayText(r, now) {
  if (r.connected) return 'Connected';
  if (!r.error) return 'Connecting…';
  let text = `Reconnecting: ${r.error}`;
  if (r.retry) {
    const secs = Math.max(0, Math.round((Date.parse(r.retry) - now) / 1000));
    text += secs > 0 ? ` (next try in ${plural(secs, 'second', 'seconds')})` : ' (trying now)';
  }
  return text;
}

/**
 * A relay's multiaddr as a person reads it: host, port and transport.
 * @param {string} addr
 */
function relayName(addr) {
  const parts = addr.split('/');
  const at = (/** @type {string} */ name) => {
    const i = parts.indexOf(name);
    return i >= 0 ? parts[i + 1] : undefined;
  };
  const host = at('ip4') ?? (at('ip6') ? `[${at('ip6')}]` : undefined) ?? at('dns') ?? at('dns4') ?? at('dns6') ?? '?';
  const port = at('tcp') ?? at('udp');
  const transport = parts.includes('webtransport') ? 'WebTransport'
    : parts.includes('wss') || parts.includes('tls') ? 'secure WebSocket'
      : parts.includes('ws') ? 'WebSocket' : 'libp2p';
  return `Relay ${host}${port ? `:${port}` : ''} (${transport})`;
}

/** @param {NetworkStatus} s */
function peersText(s) {
  const relayIDs = new Set(s.relays.map((r) => r.addr.split('/p2p/').pop()));
  /** @type {Map<string, PeerConnection[]>} one entry per person, with all their connections */
  const people = new Map();
  for (const c of s.connections) {
    if (!relayIDs.has(c.peer)) people.set(c.peer, [...(people.get(c.peer) ?? []), c]);
  }
  if (people.size === 0) return '';
  const conns = [...people.values()];
  const webrtc = conns.filter((cs) => cs.some((c) => c.kind === 'webrtc')).length;
  const relayed = conns.filter((cs) => cs.every((c) => c.relayed)).length;
  const how = [webrtc && `${webrtc} by direct WebRTC`, relayed && `${relayed} through a relay`].filter(Boolean);
  return `Connected to ${plural(people.size, 'person', 'people')}${how.length ? ` (${how.join(', ')})` : ''}.`;
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
