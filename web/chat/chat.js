// <planet-chat>: talking with contacts. On one side the contacts that have a
// DID, each with whether the tab is connected to them now; on the other the
// conversation with the one picked: the messages in order (an ARIA log, so
// new ones are announced), each of the person's own with its state and how
// it went, each of the other's with how it came (directly from their device,
// relayed by the server, from the mailbox, through a mediator), and a box to
// write in.
//
// The route #/chat/<did> opens the conversation with that contact.
//
// Below the people, Requests: what strangers (DIDs that are not contacts)
// wrote, one request per stranger, never in the list of people. Accepting
// one makes the stranger a contact and opens the conversation; declining
// deletes it; blocking deletes it and drops what that DID sends from then
// on. The list is read again at each planet-chat, so a request shows up as
// it arrives.
//
// The conversation is read again when the store says a message may have
// arrived (the core's planet-chat) and, while one of the person's own
// messages is still on its way (queued or sent) and the page is in view, at
// each reading of the network status, so that "sent" turns "delivered";
// presence follows the same readings. Only what changed is written again, so
// that the log announces new messages, not every refresh.

import { planet, errorMessage } from '../lib/api.js';
import { href } from '../lib/router.js';
import * as store from '../lib/store.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { humanDate, plural } from '../lib/format.js';

/** @typedef {import('../planet.d.ts').Contact} Contact */
/** @typedef {import('../planet.d.ts').ChatMessage} ChatMessage */
/** @typedef {import('../planet.d.ts').NetworkStatus} NetworkStatus */
/** @typedef {import('../planet.d.ts').ChatRequest} ChatRequest */

/** @typedef {'online' | 'offline' | 'unknown'} Presence */

export class ChatSection extends HTMLElement {
  /** The DID whose conversation to open once the contacts are read (from the route). */
  did = '';
  /** @type {Contact[]} contacts that have a DID, by name */
  #contacts = [];
  /** @type {Contact | null} the contact whose conversation is open */
  #current = null;
  /** @type {NetworkStatus | null} */
  #network = null;
  /** @type {Map<string, HTMLLIElement>} a message's id → its row in the log */
  #rows = new Map();
  /** @type {Map<string, HTMLLIElement>} a contact's DID → its row in the list */
  #contactRows = new Map();
  /** @type {(() => void)[]} what to call to unsubscribe from the store */
  #unsubscribe = [];
  /** One of the open conversation's own messages is still on its way. */
  #pending = false;
  #busy = false;
  /** A refresh was asked for while one ran: run again after it. */
  #again = false;

  #listAlert = alertBox();
  #sendAlert = alertBox();
  #status = statusLine();
  #list = el('ul', { class: 'chat-contacts', 'aria-label': 'Contacts to chat with', 'data-testid': 'chat-contacts' });
  #withoutDID = el('p', { class: 'hint', hidden: true });
  #heading = el('h2', { id: 'chat-heading' }, 'Conversation');
  #presence = el('p', { class: 'presence', 'data-testid': 'chat-presence' });
  #log = el('ol', {
    class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-labelledby': 'chat-heading',
    tabindex: 0, 'data-testid': 'messages',
  });
  #empty = el('p', { class: 'empty', hidden: true }, 'No messages yet. Say hello below.');
  #text = el('textarea', { rows: 3, autocomplete: 'off', 'aria-keyshortcuts': 'Enter' });
  #send = el('button', { type: 'submit', class: 'button primary' }, 'Send');
  /** @type {HTMLFormElement} */
  #form = el('form', { class: 'stack chat-form', novalidate: true });
  #conversation = el('section', { class: 'card chat-conversation', 'aria-labelledby': 'chat-heading', hidden: true });
  #pick = el('p', { class: 'hint chat-pick' }, 'Pick a contact to open your conversation.');
  #requestsAlert = alertBox();
  #requests = el('ul', { class: 'chat-requests', 'aria-labelledby': 'chat-requests-heading', 'data-testid': 'chat-requests' });
  #requestsCard = el('section', { class: 'card chat-requests-card', 'aria-labelledby': 'chat-requests-heading', hidden: true });
  /** A reading of the requests runs; #requestsAgain: run again after it. */
  #requestsBusy = false;
  #requestsAgain = false;

  connectedCallback() {
    if (this.childElementCount) {
      this.#start();
      return;
    }
    this.#form.append(
      field('Message', this.#text, 'Enter sends; Shift+Enter starts a new line.'),
      this.#sendAlert.node,
      el('div', { class: 'row' }, this.#send, this.#status.node));
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#sendMessage();
    });
    this.#text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#form.requestSubmit();
      }
    });
    this.#conversation.append(this.#heading, this.#presence, this.#log, this.#empty, this.#form);
    this.#requestsCard.append(
      el('h2', { id: 'chat-requests-heading' }, 'Requests'),
      el('p', { class: 'hint' }, 'Messages from people who are not your contacts. Nothing goes back to them until you accept.'),
      this.#requestsAlert.node,
      this.#requests);
    this.append(
      el('h1', { tabindex: -1 }, 'Chat'),
      el('p', { class: 'lead' }, 'Messages with your contacts, encrypted end to end. When someone is away, what you write waits in their mailbox.'),
      el('div', { class: 'chat-layout' },
        el('section', { class: 'card chat-people', 'aria-labelledby': 'chat-people-heading' },
          el('h2', { id: 'chat-people-heading' }, 'People'),
          this.#listAlert.node,
          this.#list,
          this.#withoutDID),
        el('div', { class: 'chat-main' }, this.#pick, this.#conversation),
        this.#requestsCard));
    this.#loadContacts();
    this.#loadRequests();
    this.#start();
  }

  disconnectedCallback() {
    for (const fn of this.#unsubscribe.splice(0)) fn();
  }

  #start() {
    for (const fn of this.#unsubscribe.splice(0)) fn();
    this.#unsubscribe.push(
      store.chat.subscribe(() => {
        this.#refresh();
        this.#loadRequests();
      }),
      store.contacts.subscribe(() => this.#loadContacts()),
      store.network.subscribe((status) => {
        this.#network = status;
        this.#showPresence();
        if (this.#pending && document.visibilityState === 'visible') this.#refresh();
      }));
  }

  async #loadContacts() {
    try {
      const [all, network] = await Promise.all([planet.contacts.list(), planet.network.status().catch(() => null)]);
      this.#network = network;
      this.#listAlert.clear();
      const byName = (/** @type {Contact} */ a, /** @type {Contact} */ b) =>
        a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
      this.#contacts = all.filter((c) => c.did).sort(byName);
      const without = all.length - this.#contacts.length;
      this.#withoutDID.hidden = without === 0;
      this.#withoutDID.textContent = `${plural(without, 'contact has', 'contacts have')} no DID and cannot be chatted with; add their DID in Contacts.`;
      this.#showContacts();
      if (this.#current) {
        const again = this.#contacts.find((c) => c.did === this.#current?.did);
        if (again) this.#current = again;
        else this.#close();
      }
      this.#showPresence();
      if (this.did) {
        const wanted = this.#contacts.find((c) => c.did === this.did);
        this.did = '';
        if (wanted) this.#open(wanted);
      }
    } catch (err) {
      this.#listAlert.show(errorMessage(err));
    }
  }

  /** Reads the requests again and shows them. */
  async #loadRequests() {
    if (this.#requestsBusy) {
      this.#requestsAgain = true;
      return;
    }
    this.#requestsBusy = true;
    this.#requestsAgain = false;
    try {
      this.#showRequests(await planet.chat.requests());
      this.#requestsAlert.clear();
    } catch (err) {
      this.#requestsAlert.show(`Requests could not be read: ${errorMessage(err)}`);
    } finally {
      this.#requestsBusy = false;
    }
    if (this.#requestsAgain) await this.#loadRequests();
  }

  /** @param {ChatRequest[]} requests */
  #showRequests(requests) {
    this.#requestsCard.hidden = requests.length === 0;
    this.#requests.replaceChildren(...requests.map((r) => {
      const who = shortDID(r.from);
      const answer = async (/** @type {HTMLElement} */ row, /** @type {() => Promise<void>} */ act, /** @type {boolean} */ accepted) => {
        this.#requestsAlert.clear();
        const buttons = [...row.querySelectorAll('button')];
        buttons.forEach((b) => { b.disabled = true; });
        row.setAttribute('aria-busy', 'true');
        try {
          await act();
          if (accepted) {
            this.did = r.from;
            store.changed('contacts');
          }
          await this.#loadRequests();
        } catch (err) {
          this.#requestsAlert.show(`${who}: ${errorMessage(err)}`);
        } finally {
          row.removeAttribute('aria-busy');
          buttons.forEach((b) => { b.disabled = false; });
        }
      };
      const row = el('li', { class: 'chat-request', 'data-testid': 'chat-request', dataset: { from: r.from } });
      row.append(
        el('p', { class: 'chat-request-from' }, el('code', { title: r.from }, who), ' · ',
          plural(r.messages.length, 'message', 'messages'), ' · ', when(r.last)),
        el('ol', { class: 'chat-request-messages' },
          ...r.messages.map((m) => el('li', { class: 'prose', 'data-testid': 'request-message' }, m.text))),
        el('div', { class: 'row' },
          el('button', {
            type: 'button', class: 'button primary', 'aria-label': `Accept the request from ${who}`,
            onclick: () => answer(row, () => planet.chat.acceptRequest(r.from), true),
          }, 'Accept'),
          el('button', {
            type: 'button', class: 'button', 'aria-label': `Decline the request from ${who}`,
            onclick: () => answer(row, () => planet.chat.declineRequest(r.from), false),
          }, 'Decline'),
          el('button', {
            type: 'button', class: 'button danger', 'aria-label': `Block ${who}`,
            onclick: () => answer(row, () => planet.chat.block(r.from), false),
          }, 'Block')));
      return row;
    }));
  }

  #showContacts() {
    this.#contactRows.clear();
    if (this.#contacts.length === 0) {
      this.#list.replaceChildren(el('li', { class: 'empty' },
        'Nobody to chat with yet: connect with someone by invitation, or add a contact with their DID.'));
      return;
    }
    this.#list.replaceChildren(...this.#contacts.map((c) => {
      const stateId = `chat-presence-${c.id}`;
      const row = el('li', { class: 'chat-contact', 'data-testid': 'chat-contact' },
        el('button', {
          type: 'button', class: 'chat-contact-button', 'aria-describedby': stateId,
          onclick: () => this.#open(c),
        }, el('span', { class: 'chat-contact-name' }, c.name)),
        el('span', { class: 'chat-contact-state', id: stateId }));
      if (c.did === this.#current?.did) row.querySelector('button')?.setAttribute('aria-current', 'true');
      this.#contactRows.set(c.did, row);
      return row;
    }));
  }

  /** @param {Contact} contact */
  #presenceOf(contact) {
    /** @type {{presence: Presence, text: string}} */
    const offline = {
      presence: 'offline',
      text: contact.relays?.length ? 'offline — messages wait in their mailbox' : 'offline — messages wait here until they can be reached',
    };
    if (!contact.peerId) return { presence: /** @type {Presence} */ ('unknown'), text: 'presence unknown' };
    const conns = (this.#network?.connections ?? []).filter((c) => c.peer === contact.peerId);
    if (conns.length === 0) return offline;
    // Streams take a direct connection over a relayed one, as the node does.
    const how = conns.some((c) => c.kind === 'webrtc') ? 'direct WebRTC'
      : conns.some((c) => !c.relayed) ? 'direct' : 'relayed';
    return { presence: /** @type {Presence} */ ('online'), text: `online (${how})` };
  }

  #showPresence() {
    for (const c of this.#contacts) {
      const row = this.#contactRows.get(c.did);
      if (!row) continue;
      const { presence, text } = this.#presenceOf(c);
      row.dataset.presence = presence;
      const state = /** @type {HTMLElement} */ (row.querySelector('.chat-contact-state'));
      if (state.textContent !== text) state.textContent = text;
    }
    if (this.#current) {
      const { presence, text } = this.#presenceOf(this.#current);
      const line = `${this.#current.name} is ${text}.`;
      this.#presence.dataset.presence = presence;
      if (this.#presence.textContent !== line) this.#presence.textContent = line;
    }
  }

  /** @param {Contact} contact */
  #open(contact) {
    if (this.#current?.did !== contact.did) {
      this.#current = contact;
      this.#rows.clear();
      this.#log.replaceChildren();
      this.#sendAlert.clear();
      this.#status.clear();
      this.#text.value = '';
    }
    for (const [did, row] of this.#contactRows) {
      const button = row.querySelector('button');
      if (did === contact.did) button?.setAttribute('aria-current', 'true');
      else button?.removeAttribute('aria-current');
    }
    // The conversation open is in the address, so that a reload or a link
    // comes back to it; replacing the entry keeps Back going to the section
    // before.
    if (this.isConnected) history.replaceState(history.state, '', href('chat/:did?', { did: contact.did }));
    this.#heading.textContent = `Conversation with ${contact.name}`;
    this.#pick.hidden = true;
    this.#conversation.hidden = false;
    this.#showPresence();
    this.#refresh();
    this.#text.focus();
  }

  #close() {
    this.#current = null;
    this.#pending = false;
    if (this.isConnected) history.replaceState(history.state, '', href('chat/:did?'));
    this.#rows.clear();
    this.#log.replaceChildren();
    this.#conversation.hidden = true;
    this.#pick.hidden = false;
  }

  /** Reads the open conversation again. */
  async #refresh() {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#again = false;
    try {
      const contact = this.#current;
      const messages = contact ? await planet.chat.conversation(contact.did) : null;
      if (contact && messages && contact === this.#current) this.#showMessages(contact, messages);
    } catch (err) {
      if (this.#current) this.#sendAlert.show(`The conversation could not be read: ${errorMessage(err)}`);
    } finally {
      this.#busy = false;
    }
    if (this.#again) await this.#refresh();
  }

  /**
   * @param {Contact} contact
   * @param {ChatMessage[]} messages
   */
  #showMessages(contact, messages) {
    const atBottom = this.#log.scrollTop + this.#log.clientHeight >= this.#log.scrollHeight - 8;
    let added = false;
    /** @type {Element | null} */
    let next = this.#log.firstElementChild;
    for (const m of messages) {
      let row = this.#rows.get(m.id);
      if (!row) {
        row = messageRow(m, contact);
        this.#rows.set(m.id, row);
        added = true;
      } else {
        updateRow(row, m);
      }
      if (row !== next) this.#log.insertBefore(row, next);
      next = row.nextElementSibling;
    }
    this.#empty.hidden = messages.length > 0;
    this.#pending = messages.some((m) => m.state === 'queued' || m.state === 'sent');
    if (added && atBottom) this.#log.scrollTop = this.#log.scrollHeight;
  }

  async #sendMessage() {
    const contact = this.#current;
    if (!contact) return;
    const text = this.#text.value;
    this.#sendAlert.clear();
    if (!text.trim()) {
      this.#sendAlert.show('Write a message first.');
      this.#text.focus();
      return;
    }
    this.#status.show('Sending…');
    try {
      const sent = await whileBusy(this.#form, () => planet.chat.send(contact.did, text));
      if (this.#text.value === text) this.#text.value = '';
      this.#status.show(sentText(sent, contact.name), sent.state === 'queued' ? 10000 : 4000);
      await this.#refresh();
      this.#log.scrollTop = this.#log.scrollHeight;
    } catch (err) {
      this.#status.clear();
      this.#sendAlert.show(`Not sent: ${errorMessage(err)}`);
    }
    this.#text.focus();
  }
}

const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/**
 * A DID short enough to read: its method and the start and end of the rest.
 * @param {string} did
 */
function shortDID(did) {
  const i = did.lastIndexOf(':');
  const id = did.slice(i + 1);
  return id.length > 16 ? `${did.slice(0, i + 1)}${id.slice(0, 8)}…${id.slice(-6)}` : did;
}

/**
 * A message's time: the time alone for today, else the date too.
 * @param {string} rfc3339
 */
function when(rfc3339) {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toDateString() === new Date().toDateString() ? timeOnly.format(d) : humanDate(rfc3339);
}

/**
 * What became of a message just sent.
 * @param {ChatMessage & { waiting?: { code: string, message?: string } }} m
 * @param {string} name the other person's
 */
function sentText(m, name) {
  if (m.via === 'didcomm') {
    return m.waiting ? `Not sent: ${m.waiting.message}` : `Sent to ${name}'s mediator: it reaches them when their app picks it up`;
  }
  switch (m.state) {
    case 'delivered': return m.via === 'relayed' ? 'Delivered through the relay' : m.via === 'direct' ? 'Delivered directly' : 'Delivered';
    case 'sent': return `Sent: it waits in ${name}'s mailbox`;
  }
  return m.waiting?.code === 'mailbox_full'
    ? `Kept: ${name}'s mailbox is full; it goes by itself once they make room`
    : `Kept: neither ${name} nor their relay can be reached now; it goes by itself when one can be`;
}

/** How one of the person's own messages went, by its via. */
const WENT = new Map([['direct', 'directly'], ['relayed', 'through the relay'], ['mailbox', 'via mailbox']]);

/**
 * A message's small status: where one of the person's own stands and how it
 * went, how one of the other's came. "direct" is a stream from device to
 * device (WebRTC between browsers); "relayed" one through the relay, which
 * carries it sealed but sees when and how much. In words, never in colour
 * alone.
 * @param {ChatMessage} m
 */
function stateText(m) {
  if (m.via === 'didcomm') return m.state === 'received' ? 'via mediator' : 'sent to their mediator';
  const how = WENT.get(m.via);
  switch (m.state) {
    case 'queued': return 'waiting to be sent';
    case 'delivered': return how ? `delivered ${how}` : 'delivered';
    case 'sent': return how ? `sent ${how}, not delivered yet` : 'sent, not delivered yet';
    default: return m.via === 'mailbox' ? 'via mailbox' : m.via === 'relayed' ? 'relayed' : 'direct';
  }
}

/**
 * @param {ChatMessage} m
 * @param {Contact} contact
 */
function messageRow(m, contact) {
  const mine = m.state !== 'received';
  return el('li', { class: `message ${mine ? 'mine' : 'theirs'}`, 'data-testid': 'message', dataset: { state: m.state, via: m.via } },
    el('p', { class: 'message-text prose', 'data-testid': 'message-text' }, m.text),
    el('p', { class: 'message-meta' },
      el('span', { class: 'message-author' }, mine ? 'You' : contact.name),
      ' · ',
      el('time', { datetime: m.created }, when(m.created)),
      ' · ',
      el('span', { class: 'message-state', 'data-testid': 'message-state' }, stateText(m))));
}

/**
 * Writes a message's state again if it changed (e.g. sent → delivered).
 * @param {HTMLLIElement} row
 * @param {ChatMessage} m
 */
function updateRow(row, m) {
  if (row.dataset.state === m.state && row.dataset.via === m.via) return;
  row.dataset.state = m.state;
  row.dataset.via = m.via;
  const state = row.querySelector('.message-state');
  if (state) state.textContent = stateText(m);
}

customElements.define('planet-chat', ChatSection);
