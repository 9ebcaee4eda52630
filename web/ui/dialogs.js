// Modal dialogs built on <dialog>: the browser handles focus trapping,
// Escape and making the rest of the page inert.

import { el, uid } from '../lib/elements.js';

/**
 * Asks before deleting something. Resolves true for "Delete", false for
 * "Cancel", Escape or a click outside.
 * @param {Element} host where the dialog lives; removing the host removes it
 * @param {{title: string, message: string}} text
 * @returns {Promise<boolean>}
 */
export function confirmDelete(host, { title, message }) {
  const headingId = uid('dialog-title');
  const cancel = el('button', { type: 'submit', value: 'cancel', class: 'button', autofocus: true }, 'Cancel');
  const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': headingId, closedby: 'any' },
    el('form', { method: 'dialog', class: 'stack' },
      el('h2', { id: headingId }, title),
      el('p', {}, message),
      el('div', { class: 'row end' },
        cancel,
        el('button', { type: 'submit', value: 'delete', class: 'button danger' }, 'Delete'))));
  host.append(dialog);
  dialog.showModal();
  cancel.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'delete');
      dialog.remove();
    }, { once: true });
  });
}

/**
 * Shows a photo large, in a dialog labelled with its name.
 * @param {Element} host
 * @param {string} name
 * @param {string} url an object URL; the caller revokes it after `closed`
 * @returns {Promise<void>} resolves when the viewer closes
 */
export function showPhoto(host, name, url) {
  const headingId = uid('viewer-title');
  const close = el('button', { type: 'submit', class: 'button', autofocus: true }, 'Close');
  const img = el('img', { src: url, alt: name });
  const problem = el('p', { class: 'hint', hidden: true },
    'This browser cannot show this photo. Download it to open it in another app.');
  img.addEventListener('error', () => {
    img.hidden = true;
    problem.hidden = false;
  });
  const dialog = el('dialog', { class: 'dialog viewer', 'aria-labelledby': headingId, closedby: 'any' },
    el('form', { method: 'dialog', class: 'stack' },
      el('div', { class: 'row spread' },
        el('h2', { id: headingId, class: 'viewer-title' }, name),
        close),
      el('div', { class: 'viewer-image' }, img, problem)));
  host.append(dialog);
  dialog.showModal();
  close.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve();
    }, { once: true });
  });
}
