// <planet-graph>: the trust graph as the vault knows it — the person's own
// relationships and those their contacts chose to share — drawn as a picture,
// with the same people as a list beside it (the picture is one image to
// assistive technology; the list is how to explore it). Choosing someone
// shows how the person is connected to them. Below, the person decides which
// contacts may see their own relationships.
//
// The layout is computed here and is deterministic: the person at the centre,
// contacts on a ring around them in name order, everyone else on an outer
// ring next to whoever links them in. No scores, no ranks: the graph shows
// who knows whom, not how much anyone counts.

import { planet, errorMessage } from '../lib/api.js';
import * as store from '../lib/store.js';
import { el, alertBox, field } from '../lib/elements.js';
import { plural } from '../lib/format.js';

/** @typedef {import('../planet.d.ts').Contact} Contact */
/** @typedef {import('../planet.d.ts').TrustGraphView} TrustGraphView */
/** @typedef {TrustGraphView['nodes'][number]} GraphNode */
/** @typedef {TrustGraphView['edges'][number]} GraphEdge */
/** @typedef {{x: number, y: number}} Point */

const SVG = 'http://www.w3.org/2000/svg';
/** The layout's coordinate space; the picture shows the part that holds people, scaled to its box. */
const SIZE = 640;
const CENTRE = SIZE / 2;
const INNER = 165;
const OUTER = 270;

/**
 * Creates an SVG element.
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function svg(tag, attrs = {}, ...children) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

export class GraphSection extends HTMLElement {
  /** @type {TrustGraphView | null} */
  #graph = null;
  /** @type {string} the DID of the person chosen, or "" */
  #selected = '';
  /** Bumped on each choice, so a slow answer for an earlier one is dropped. */
  #asked = 0;

  #alert = alertBox();
  #sharingAlert = alertBox();
  #picture = el('div', { class: 'graph-picture' }, el('p', { class: 'loading' }, 'Loading…'));
  #people = el('ul', { class: 'graph-people', 'aria-label': 'People in your trust graph' });
  #byContext = el('input', { type: 'search', autocomplete: 'off' });
  /** @type {Set<string> | null} the DIDs the context filter keeps; null when it is empty */
  #matching = null;
  #detailHeading = el('h2', { id: 'graph-detail-heading', tabindex: -1 }, 'How you are connected');
  #detail = el('div', { class: 'stack graph-detail-body', 'aria-live': 'polite' },
    el('p', { class: 'hint' }, 'Choose someone, in the list or in the picture, to see how you are connected to them.'));
  #sharing = el('ul', { class: 'sharing-list', 'aria-label': 'Sharing' });

  /** @type {(() => void) | undefined} unsubscribes from the store */
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
    this.#byContext.addEventListener('input', () => this.#filter());
    this.append(
      el('h1', { tabindex: -1 }, 'Trust graph'),
      el('p', { class: 'lead' },
        'Who you know, and who they know: your own relationships, and those your contacts chose to share with you.'),
      this.#alert.node,
      el('div', { class: 'graph-layout' },
        el('section', { class: 'card stack graph-card', 'aria-labelledby': 'graph-picture-heading' },
          el('h2', { id: 'graph-picture-heading' }, 'Your network'),
          this.#picture,
          legend()),
        el('div', { class: 'graph-side' },
          el('section', { class: 'card stack', 'aria-labelledby': 'graph-people-heading' },
            el('h2', { id: 'graph-people-heading' }, 'People'),
            field('Find by how you know them', this.#byContext, 'Shows the people you are connected to whose relationship mentions it, such as "choir".'),
            this.#people),
          el('section', { class: 'card stack', 'aria-labelledby': 'graph-detail-heading' },
            this.#detailHeading,
            this.#detail))),
      el('section', { class: 'card stack', 'aria-labelledby': 'sharing-heading' },
        el('h2', { id: 'sharing-heading' }, 'Sharing'),
        el('p', { class: 'hint' },
          'Sharing lets a contact see your relationships — who you know and how — so they can find how they are connected to others. You can turn it off any time.'),
        this.#sharingAlert.node,
        this.#sharing));
  }

  /** Reads the graph and the contacts again. */
  async #load() {
    try {
      const [graph, contacts] = await Promise.all([planet.graph.get(), planet.contacts.list()]);
      this.#alert.clear();
      this.#graph = graph;
      if (this.#selected && !graph.nodes.some((n) => n.did === this.#selected)) this.#selected = '';
      this.#showPicture(graph);
      this.#showPeople(graph);
      this.#showSharing(contacts);
      if (this.#selected) this.#explain(this.#selected, false);
    } catch (err) {
      this.#alert.show(`Your trust graph could not be read: ${errorMessage(err)}`);
    }
  }

  /** @param {string} did */
  #nameOf(did) {
    const n = this.#graph?.nodes.find((x) => x.did === did);
    return n ? displayName(n) : shortDID(did);
  }

  /** @param {TrustGraphView} graph */
  #showPicture(graph) {
    const at = layout(graph);
    const edges = graph.edges.filter((e) => at.has(e.a) && at.has(e.b));
    const lines = svg('g', { class: 'graph-edges' });
    const marks = svg('g', { class: 'graph-marks' });
    for (const e of drawn(edges)) {
      const a = /** @type {Point} */ (at.get(e.a));
      const b = /** @type {Point} */ (at.get(e.b));
      const kind = ['graph-edge', e.sharedBy ? 'shared' : '', e.oneSided ? 'one-sided' : ''].filter(Boolean).join(' ');
      const bend = e.a === graph.me || e.b === graph.me ? null : bendOf(a, b);
      if (bend) {
        lines.append(svg('path', { class: kind, d: `M${r1(a.x)} ${r1(a.y)} Q${r1(bend.x)} ${r1(bend.y)} ${r1(b.x)} ${r1(b.y)}` }));
      } else {
        lines.append(svg('line', { class: kind, x1: r1(a.x), y1: r1(a.y), x2: r1(b.x), y2: r1(b.y) }));
      }
      if (e.oneSided) {
        // The middle of the line, or of the curve (its point at t = ½).
        const c = bend ?? { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        marks.append(svg('circle', {
          class: 'graph-one-sided-mark', r: 5,
          cx: r1((a.x + 2 * c.x + b.x) / 4), cy: r1((a.y + 2 * c.y + b.y) / 4),
        }));
      }
    }
    const nodes = svg('g', { class: 'graph-nodes' });
    for (const n of graph.nodes) {
      const p = at.get(n.did);
      if (!p) continue;
      const kind = n.me ? 'me' : n.contact ? 'contact' : 'other';
      const radius = n.me ? 20 : n.contact ? 15 : 11;
      const label = n.me ? 'You' : displayName(n);
      const g = svg('g', { class: `graph-node ${kind}${n.did === this.#selected ? ' selected' : ''}`, 'data-did': n.did },
        svg('circle', { cx: r1(p.x), cy: r1(p.y), r: radius }),
        svg('text', { x: r1(p.x), y: r1(p.y + radius + 15), 'text-anchor': 'middle' }, truncate(label, 16)));
      if (!n.me) g.addEventListener('click', () => this.#choose(n.did, false));
      nodes.append(g);
    }
    const picture = svg('svg', {
      viewBox: frame([...at.values()]), role: 'img', 'data-testid': 'trust-graph',
      'aria-label': `${plural(graph.nodes.length, 'person', 'people')}, ${plural(edges.length, 'relationship', 'relationships')}`,
      class: 'graph-svg',
    }, lines, marks, nodes);
    this.#picture.replaceChildren(picture);
    if (graph.nodes.length <= 1) {
      this.#picture.append(el('p', { class: 'hint' },
        'Only you so far. Connect with people by invitation, and they appear here.'));
    }
  }

  /** Keeps, in the list of people, those the context filter finds. */
  async #filter() {
    const words = this.#byContext.value.trim();
    if (!words) {
      this.#matching = null;
    } else {
      try {
        const found = await planet.graph.connections(words);
        if (words !== this.#byContext.value.trim()) return; // typed on meanwhile
        this.#matching = new Set(found.map((c) => c.did));
      } catch (err) {
        this.#alert.show(errorMessage(err));
        return;
      }
    }
    if (this.#graph) this.#showPeople(this.#graph);
  }

  /** @param {TrustGraphView} graph */
  #showPeople(graph) {
    const matching = this.#matching;
    const others = graph.nodes.filter((n) => !n.me && (!matching || matching.has(n.did))).sort((a, b) =>
      Number(b.contact) - Number(a.contact) ||
      displayName(a).localeCompare(displayName(b), undefined, { sensitivity: 'base' }) ||
      a.did.localeCompare(b.did));
    if (others.length === 0) {
      this.#people.replaceChildren(el('li', { class: 'empty' }, matching ? 'Nobody you know that way.' : 'Nobody yet.'));
      return;
    }
    this.#people.replaceChildren(...others.map((n) => {
      const aboutId = `graph-about-${hashOf(n.did)}`;
      return el('li', { class: 'graph-person-row' },
        el('button', {
          type: 'button', class: 'graph-person', 'data-testid': 'graph-person', 'data-did': n.did,
          'aria-describedby': aboutId, 'aria-pressed': n.did === this.#selected ? 'true' : 'false',
          onclick: () => this.#choose(n.did, true),
        }, displayName(n)),
        el('span', { class: 'meta', id: aboutId }, n.contact ? 'your contact' : this.#linkedThrough(n.did)));
    }));
  }

  /**
   * "through Alice and Bob": the contacts whose shared relationships bring
   * someone who is not a contact into the graph.
   * @param {string} did
   */
  #linkedThrough(did) {
    const graph = this.#graph;
    if (!graph) return '';
    const contacts = new Set(graph.nodes.filter((n) => n.contact).map((n) => n.did));
    const via = new Set();
    for (const e of graph.edges) {
      if (e.a === did && contacts.has(e.b)) via.add(e.b);
      if (e.b === did && contacts.has(e.a)) via.add(e.a);
    }
    const names = [...via].map((d) => this.#nameOf(d)).sort((a, b) => a.localeCompare(b));
    return names.length ? `knows ${listOf(names)}` : 'further out';
  }

  /**
   * @param {string} did
   * @param {boolean} fromList the choice came from the list (keep focus there)
   */
  #choose(did, fromList) {
    this.#selected = did;
    for (const b of this.#people.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', b.dataset.did === did ? 'true' : 'false');
    }
    for (const g of this.#picture.querySelectorAll('.graph-node')) {
      g.classList.toggle('selected', g.getAttribute('data-did') === did);
    }
    this.#explain(did, !fromList);
  }

  /**
   * Shows how the person is connected to did.
   * @param {string} did
   * @param {boolean} moveFocus
   */
  async #explain(did, moveFocus) {
    const asked = ++this.#asked;
    const name = this.#nameOf(did);
    this.#detailHeading.textContent = `You and ${name}`;
    if (moveFocus) this.#detailHeading.focus();
    try {
      const [{ paths }, mutual] = await Promise.all([planet.graph.paths(did), planet.graph.mutual(did)]);
      if (asked !== this.#asked) return;
      const body = [];
      if (paths.length === 0) {
        body.push(el('p', { class: 'graph-no-path', 'data-testid': 'no-path' },
          `You and ${name} are not connected within three steps.`));
      } else {
        body.push(el('h3', {}, paths.length === 1 ? 'How you are connected' : `${paths.length} ways you are connected`),
          el('ol', { class: 'graph-paths' },
            paths.map((p) => el('li', { class: 'graph-path', 'data-testid': 'path-explanation' }, p.explain))));
      }
      body.push(el('h3', {}, 'People you both know'),
        mutual.length
          ? el('ul', { class: 'graph-mutual', 'data-testid': 'mutual' },
            mutual.map((d) => this.#nameOf(d)).sort((a, b) => a.localeCompare(b)).map((n) => el('li', {}, n)))
          : el('p', { class: 'hint', 'data-testid': 'mutual' }, 'Nobody you both know yet.'));
      this.#detail.replaceChildren(...body);
    } catch (err) {
      if (asked !== this.#asked) return;
      this.#detail.replaceChildren(el('p', { class: 'alert', role: 'alert' },
        `How you are connected could not be worked out: ${errorMessage(err)}`));
    }
  }

  /** @param {Contact[]} contacts */
  #showSharing(contacts) {
    const connected = contacts
      .filter((c) => c.did && c.connected)
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    if (connected.length === 0) {
      this.#sharing.replaceChildren(el('li', { class: 'empty' },
        'Once you are connected with someone, you can choose here whether they see your relationships.'));
      return;
    }
    this.#sharing.replaceChildren(...connected.map((c) => {
      const box = el('input', { type: 'checkbox', checked: Boolean(c.sharingGraph), 'data-did': c.did });
      box.addEventListener('change', async () => {
        const on = box.checked;
        this.#sharingAlert.clear();
        box.disabled = true;
        try {
          await planet.sharing.set(c.did, on);
          c.sharingGraph = on;
        } catch (err) {
          box.checked = !on;
          this.#sharingAlert.show(`${on ? 'Not shared' : 'Still shared'} with ${c.name}: ${errorMessage(err)}`);
        } finally {
          box.disabled = false;
        }
      });
      return el('li', {}, el('label', { class: 'check' }, box, `Share my connections with ${c.name}`));
    }));
  }
}

/**
 * Where each person goes in the picture.
 * @param {TrustGraphView} graph
 * @returns {Map<string, Point>}
 */
function layout(graph) {
  /** @type {Map<string, Point>} */
  const at = new Map();
  /** @type {Map<string, number>} angle of each placed person */
  const angle = new Map();
  const byName = (/** @type {GraphNode} */ a, /** @type {GraphNode} */ b) =>
    displayName(a).localeCompare(displayName(b)) || a.did.localeCompare(b.did);
  const me = graph.nodes.find((n) => n.me || n.did === graph.me);
  if (me) at.set(me.did, { x: CENTRE, y: CENTRE });

  const contacts = graph.nodes.filter((n) => n !== me && n.contact).sort(byName);
  contacts.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / contacts.length;
    angle.set(n.did, a);
    at.set(n.did, polar(INNER, a));
  });

  /** @type {Map<string, string[]>} */
  const neighbours = new Map();
  for (const e of graph.edges) {
    if (!neighbours.has(e.a)) neighbours.set(e.a, []);
    if (!neighbours.has(e.b)) neighbours.set(e.b, []);
    /** @type {string[]} */ (neighbours.get(e.a)).push(e.b);
    /** @type {string[]} */ (neighbours.get(e.b)).push(e.a);
  }

  // Everyone else, grouped by the first placed person (in name order) who
  // links them in; people linked to nobody placed share a last group.
  const rest = graph.nodes.filter((n) => n !== me && !n.contact).sort(byName);
  /** @type {Map<string, GraphNode[]>} anchor DID ("" for none) → people */
  const groups = new Map();
  let left = rest;
  while (left.length) {
    const next = [];
    let placedAny = false;
    for (const n of left) {
      const anchors = (neighbours.get(n.did) ?? []).filter((d) => angle.has(d));
      if (anchors.length === 0) {
        next.push(n);
        continue;
      }
      anchors.sort((x, y) => /** @type {number} */ (angle.get(x)) - /** @type {number} */ (angle.get(y)));
      const anchor = anchors[0];
      if (!groups.has(anchor)) groups.set(anchor, []);
      /** @type {GraphNode[]} */ (groups.get(anchor)).push(n);
      angle.set(n.did, /** @type {number} */ (angle.get(anchor)));
      placedAny = true;
    }
    if (!placedAny) {
      groups.set('', next);
      break;
    }
    left = next;
  }

  // Each group is spread over the slice of the outer ring around its anchor;
  // then, in angle order, everyone on the outer ring is pushed apart enough
  // not to overlap (someone linked in only by an outer person lands beside
  // them), and the whole ring turned back so that people stay, on average,
  // where they were meant to be.
  const slice = (2 * Math.PI) / Math.max(contacts.length, 1);
  /** @type {{did: string, want: number, a: number}[]} */
  const outer = [];
  for (const [anchor, people] of groups) {
    const centre = anchor === '' ? Math.PI / 2 : /** @type {number} */ (angle.get(anchor));
    const step = anchor === '' ? (2 * Math.PI) / people.length : Math.min((slice * 0.8) / people.length, 0.3);
    people.forEach((n, i) => {
      const want = turn(centre + (i - (people.length - 1) / 2) * step, -Math.PI / 2 - slice / 2);
      outer.push({ did: n.did, want, a: want });
    });
  }
  outer.sort((x, y) => x.want - y.want || x.did.localeCompare(y.did));
  const gap = Math.min(0.3, (2 * Math.PI) / Math.max(outer.length, 1));
  for (let i = 1; i < outer.length; i++) outer[i].a = Math.max(outer[i].a, outer[i - 1].a + gap);
  const drift = outer.reduce((sum, o) => sum + (o.a - o.want), 0) / Math.max(outer.length, 1);
  for (const o of outer) at.set(o.did, polar(OUTER, o.a - drift));
  return at;
}

/**
 * The part of the picture that holds people (with room for their names and
 * for lines bent outwards), so that a small network is not lost in a large
 * empty square.
 * @param {Point[]} points
 */
function frame(points) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const pad = { x: 80, top: 50, bottom: 50 };
  const min = 260;
  let x0 = Math.min(CENTRE, ...xs) - pad.x;
  let x1 = Math.max(CENTRE, ...xs) + pad.x;
  let y0 = Math.min(CENTRE, ...ys) - pad.top;
  let y1 = Math.max(CENTRE, ...ys) + pad.bottom;
  if (x1 - x0 < min) [x0, x1] = [(x0 + x1 - min) / 2, (x0 + x1 + min) / 2];
  if (y1 - y0 < min) [y0, y1] = [(y0 + y1 - min) / 2, (y0 + y1 + min) / 2];
  return [x0, y0, x1 - x0, y1 - y0].map(r1).join(' ');
}

/**
 * The relationships to draw: one line per pair of people, the person's own
 * (or a contact's first-hand) relationship preferred to a shared copy.
 * @param {GraphEdge[]} edges
 */
function drawn(edges) {
  /** @type {Map<string, GraphEdge>} */
  const byPair = new Map();
  for (const e of edges) {
    const key = e.a < e.b ? `${e.a} ${e.b}` : `${e.b} ${e.a}`;
    const had = byPair.get(key);
    if (!had || (had.sharedBy && !e.sharedBy) || (had.oneSided && !e.oneSided && Boolean(had.sharedBy) === Boolean(e.sharedBy))) byPair.set(key, e);
  }
  return [...byPair.values()];
}

/**
 * The control point that bends a line between two people outwards, away
 * from the person at the centre, so that it does not run through them; for
 * people on opposite sides of the centre, sideways.
 * @param {Point} a
 * @param {Point} b
 * @returns {Point}
 */
function bendOf(a, b) {
  const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const length = Math.hypot(b.x - a.x, b.y - a.y);
  let dx = mid.x - CENTRE;
  let dy = mid.y - CENTRE;
  let d = Math.hypot(dx, dy);
  if (d < 1) {
    dx = -(b.y - a.y);
    dy = b.x - a.x;
    d = Math.hypot(dx, dy) || 1;
  }
  const out = 0.3 * length;
  return { x: mid.x + (dx / d) * out, y: mid.y + (dy / d) * out };
}

/**
 * An angle moved by whole turns into [from, from + 2π).
 * @param {number} a
 * @param {number} from
 */
function turn(a, from) {
  const full = 2 * Math.PI;
  return from + ((((a - from) % full) + full) % full);
}

/**
 * @param {number} radius
 * @param {number} a angle in radians
 * @returns {Point}
 */
function polar(radius, a) {
  return { x: CENTRE + radius * Math.cos(a), y: CENTRE + radius * Math.sin(a) };
}

/** @param {number} v */
function r1(v) {
  return Math.round(v * 10) / 10;
}

/** @param {GraphNode} n */
function displayName(n) {
  return n.name || `Someone (${shortDID(n.did)})`;
}

/** @param {string} did */
function shortDID(did) {
  return did.length > 20 ? `${did.slice(0, 12)}…${did.slice(-4)}` : did;
}

/**
 * @param {string} s
 * @param {number} max
 */
function truncate(s, max) {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** @param {string[]} names */
function listOf(names) {
  return new Intl.ListFormat(undefined, { style: 'long', type: 'conjunction' }).format(names);
}

/**
 * A short, stable token for an element id.
 * @param {string} s
 */
function hashOf(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

/** What the lines in the picture mean. */
function legend() {
  /** @param {string} kind */
  const sample = (kind) => {
    const pic = svg('svg', { viewBox: '0 0 40 12', width: 40, height: 12, 'aria-hidden': 'true', focusable: 'false' },
      svg('line', { class: `graph-edge ${kind}`, x1: 2, y1: 6, x2: 38, y2: 6 }));
    if (kind === 'one-sided') pic.append(svg('circle', { class: 'graph-one-sided-mark', cx: 20, cy: 6, r: 4 }));
    return pic;
  };
  return el('ul', { class: 'graph-legend', 'aria-label': 'What the lines mean' },
    el('li', {}, sample(''), 'one of your own relationships, or one a contact holds'),
    el('li', {}, sample('shared'), 'shared with you by a contact'),
    el('li', {}, sample('one-sided'), 'only one of the two has confirmed it'));
}

customElements.define('planet-graph', GraphSection);
