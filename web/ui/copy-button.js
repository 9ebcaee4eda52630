// A "Copy" button and the status line beside it that says how it went.
// Where the page may not use the clipboard (no permission, or an insecure
// context), it selects the text instead so that the person can copy it with
// the keyboard or the menu, and says so.

import { el, statusLine } from '../lib/elements.js';

/**
 * @param {object} opts
 * @param {string} opts.label the button's text, e.g. "Copy DID"
 * @param {string} opts.text what goes to the clipboard
 * @param {() => void} opts.select selects the text on the page, for the fallback
 * @param {[string, number]} opts.copied the status after copying, and for how many ms
 * @param {[string, number]} opts.selected the status after the fallback, and for how many ms
 * @returns {HTMLElement} a row with the button and its status line
 */
export function copyButton({ label, text, select, copied, selected }) {
  const status = statusLine();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.show(...copied);
    } catch {
      select();
      status.show(...selected);
    }
  };
  return el('div', { class: 'row' },
    el('button', { type: 'button', class: 'button', onclick: copy }, label),
    status.node);
}
