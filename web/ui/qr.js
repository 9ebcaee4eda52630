// A QR code of some text, drawn by the core. The core's SVG goes in as an
// image (from a Blob URL), never as markup, so nothing in it can run or
// reach the page.

import { planet, errorMessage } from '../lib/api.js';
import { el } from '../lib/elements.js';

/** @typedef {import('../lib/blobs.js').ObjectURLs} ObjectURLs */

/**
 * @param {ObjectURLs} urls where the image's URL is kept, to be revoked with the view
 * @param {string} text
 * @param {string} alt the image's accessible name
 * @param {number} size in CSS pixels, both ways
 * @returns {HTMLElement} the image, or a line saying why there is none
 */
export function qrImage(urls, text, alt, size) {
  try {
    const url = urls.create(new Blob([planet.qrSVG(text)], { type: 'image/svg+xml' }));
    return el('img', { src: url, alt, width: size, height: size });
  } catch (err) {
    return el('p', { class: 'hint' }, `No QR code: ${errorMessage(err)}`);
  }
}
