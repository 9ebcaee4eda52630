// The browser's Storage API: how much room the vault uses and whether the
// browser promises not to evict it when the disk fills up.

import { humanSize } from './format.js';

/** Whether this browser can tell us anything about storage at all. */
export const supported = typeof navigator !== 'undefined' && 'storage' in navigator;

/**
 * Asks the browser to keep this site's data (the vault) even under storage
 * pressure. Browsers decide without asking in most cases (e.g. installed
 * apps, bookmarked or often used sites).
 * @returns {Promise<boolean>} whether storage is persistent now
 */
export async function requestPersistence() {
  if (!supported || !navigator.storage.persist) return false;
  try {
    if (await navigator.storage.persisted()) return true;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

/** @returns {Promise<boolean | null>} null when the browser cannot say */
export async function isPersistent() {
  if (!supported || !navigator.storage.persisted) return null;
  try {
    return await navigator.storage.persisted();
  } catch {
    return null;
  }
}

/** @returns {Promise<string | null>} "Using 1.2 MB of 10 GB", or null when unknown */
export async function usage() {
  if (!supported || !navigator.storage.estimate) return null;
  try {
    const { usage: used = 0, quota } = await navigator.storage.estimate();
    return quota ? `Using ${humanSize(used)} of ${humanSize(quota)}` : `Using ${humanSize(used)}`;
  } catch {
    return null;
  }
}
