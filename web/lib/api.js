// The page's one door to the core. It waits for the core to start and hands
// out the API with every error turned into a PlanetError ({code, message}).
// A "locked" error anywhere means the vault closed under the page (auto-lock
// or another tab): the page hears about it through the `planet-locked` event
// on window and returns to the unlock screen.

import { ready as coreReady } from '../boot.js';

/** @typedef {import('../planet.d.ts').PlanetAPI} PlanetAPI */
/** @typedef {import('../planet.d.ts').PlanetError} PlanetError */
/** @typedef {import('../planet.d.ts').ErrorCode} ErrorCode */

/** Fired on window when a call fails because the vault is locked. */
export const LOCKED_EVENT = 'planet-locked';

/** Fired on window by the core when a chat message may have arrived. */
export const CHAT_EVENT = 'planet-chat';

/**
 * Fired on window by the core when a trust-network exchange (connection,
 * introduction, sharing) may have changed contacts, introductions or the graph.
 */
export const CONTACTS_EVENT = 'planet-contacts';

/**
 * The core's API. Set once `ready` has resolved; the screens only exist after
 * that, so they can use it directly.
 * @type {PlanetAPI}
 */
export let planet = /** @type {PlanetAPI} */ (/** @type {unknown} */ (null));

/** @type {Promise<PlanetAPI>} */
export const ready = coreReady.then((api) => {
  planet = guard(api);
  return planet;
});

/**
 * Turns anything thrown into a PlanetError with a message fit to show.
 * @param {unknown} err
 * @returns {PlanetError}
 */
export function asPlanetError(err) {
  if (err instanceof Error && typeof (/** @type {any} */ (err).code) === 'string') {
    return /** @type {PlanetError} */ (err);
  }
  const obj = /** @type {{code?: unknown, message?: unknown}} */ (typeof err === 'object' && err ? err : {});
  const message = typeof obj.message === 'string' ? obj.message : String(err);
  const wrapped = /** @type {PlanetError} */ (new Error(message || 'Something went wrong.'));
  wrapped.code = /** @type {ErrorCode} */ (typeof obj.code === 'string' ? obj.code : 'internal');
  wrapped.cause = err;
  return wrapped;
}

/**
 * The message to show for a failed call.
 * @param {unknown} err
 */
export function errorMessage(err) {
  return asPlanetError(err).message;
}

/**
 * @param {unknown} err
 * @returns {never}
 */
function fail(err) {
  const e = asPlanetError(err);
  if (e.code === 'internal') console.error(e.cause ?? e);
  if (e.code === 'locked') window.dispatchEvent(new Event(LOCKED_EVENT));
  throw e;
}

/**
 * Wraps the API object (and its namespaces: contacts, notes, files, network,
 * invitations, chat, credentials, profile, introductions, sharing, graph) so that
 * every method's errors, thrown or rejected, come out as PlanetErrors.
 * Values the methods return are passed through untouched.
 * @template {object} T
 * @param {T} target
 * @returns {T}
 */
function guard(target) {
  /** @type {Map<PropertyKey, unknown>} */
  const wrapped = new Map();
  return new Proxy(target, {
    get(obj, key) {
      /** @type {unknown} */
      const value = Reflect.get(obj, key);
      if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
      if (!wrapped.has(key)) {
        wrapped.set(key, typeof value === 'function'
          ? (/** @type {unknown[]} */ ...args) => {
              let result;
              try {
                result = Reflect.apply(value, obj, args);
              } catch (err) {
                fail(err);
              }
              return result instanceof Promise ? result.catch(fail) : result;
            }
          : guard(value));
      }
      return wrapped.get(key);
    },
  });
}
