// Object URLs for decrypted bytes. Each one keeps plaintext reachable from the
// page, so every URL is owned by a set that revokes it when the view that
// needed it goes away (and all of them go when the vault locks).

/** A group of object URLs released together. */
export class ObjectURLs {
  /** @type {Set<string>} */
  #urls = new Set();

  /**
   * @param {Blob} blob
   * @returns {string}
   */
  create(blob) {
    const url = URL.createObjectURL(blob);
    this.#urls.add(url);
    return url;
  }

  /** @param {string} url */
  revoke(url) {
    if (this.#urls.delete(url)) URL.revokeObjectURL(url);
  }

  revokeAll() {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls.clear();
  }
}

/**
 * Object URLs handed to the browser for downloads or new tabs: those must
 * outlive the click that made them, so they are revoked after a while or at
 * the latest when the vault locks.
 */
export const handedOut = new ObjectURLs();

const HAND_OUT_MS = 5 * 60 * 1000;

/**
 * An object URL that stays valid for a few minutes.
 * @param {Blob} blob
 */
export function shortLivedURL(blob) {
  const url = handedOut.create(blob);
  setTimeout(() => handedOut.revoke(url), HAND_OUT_MS);
  return url;
}

/**
 * Saves a blob as a file through the browser's download.
 * @param {Blob} blob
 * @param {string} name
 */
export function downloadBlob(blob, name) {
  const a = document.createElement('a');
  a.href = shortLivedURL(blob);
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * The bytes with their MIME type attached, when the core did not attach one.
 * @param {Blob} blob
 * @param {string} type
 */
export function withType(blob, type) {
  return blob.type || !type ? blob : new Blob([blob], { type });
}
