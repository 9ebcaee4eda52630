// The page's store: what the views show that can change under them, as
// topics they subscribe to instead of each polling the core on its own timer.
//
//   - contacts: the trust network changed (the core's planet-contacts event:
//     an invitation accepted, an introduction answered, the mailbox read), or
//     the page itself changed contacts (see changed).
//   - chat: a message may have arrived (the core's planet-chat event), or the
//     page sent one.
//   - network: the tab's node as network.status() reports it, one reading
//     shared by every view that shows it. The core announces no event when a
//     relay or peer connects, so the store reads it once a second while at
//     least one view subscribes, and at once after contacts or chat news;
//     with no subscriber nothing is read.
//
// Subscribing returns the function that unsubscribes; a view calls it when it
// leaves the page (disconnectedCallback).

import { planet, CHAT_EVENT, CONTACTS_EVENT } from './api.js';

/** @typedef {import('../planet.d.ts').NetworkStatus} NetworkStatus */

/** How often the network status is read while a view shows it. */
const NETWORK_EVERY_MS = 1000;

/**
 * News that something changed, with no value: subscribers read what they
 * show again.
 */
export class Topic {
  /** @type {Set<() => void>} */
  #listeners = new Set();

  /**
   * @param {() => void} listener
   * @returns {() => void} unsubscribes
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** Tells every subscriber. */
  publish() {
    for (const fn of [...this.#listeners]) {
      try {
        fn();
      } catch (err) {
        console.error(err);
      }
    }
  }

  get subscribed() {
    return this.#listeners.size > 0;
  }
}

/**
 * The network status, read for all subscribers at once. A reading that fails
 * is handed out as {status: null, error}.
 */
class NetworkReading {
  /** @type {Set<(status: NetworkStatus | null, error: unknown) => void>} */
  #listeners = new Set();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #timer;
  #busy = false;
  #again = false;

  /**
   * Calls listener with a reading now and with every later one.
   * @param {(status: NetworkStatus | null, error: unknown) => void} listener
   * @returns {() => void} unsubscribes
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    this.#timer ??= setInterval(() => this.refresh(), NETWORK_EVERY_MS);
    this.refresh();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Reads the status now (once, if a reading is under way: after it). */
  async refresh() {
    if (this.#listeners.size === 0) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#again = false;
    /** @type {NetworkStatus | null} */
    let status = null;
    /** @type {unknown} */
    let error = null;
    try {
      status = await planet.network.status();
    } catch (err) {
      error = err;
    } finally {
      this.#busy = false;
    }
    for (const fn of [...this.#listeners]) fn(status, error);
    if (this.#again) await this.refresh();
  }
}

export const contacts = new Topic();
export const chat = new Topic();
export const network = new NetworkReading();

/**
 * Says that the page itself changed something, so that every view showing it
 * reads it again: one refresh after a mutation, wherever it was made.
 * @param {'contacts' | 'chat'} topic
 */
export function changed(topic) {
  (topic === 'contacts' ? contacts : chat).publish();
  network.refresh();
}

window.addEventListener(CONTACTS_EVENT, () => changed('contacts'));
window.addEventListener(CHAT_EVENT, () => changed('chat'));
