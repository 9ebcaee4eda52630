// <planet-documents>: documents as a table of name, type, size and date.

import { el } from '../lib/elements.js';
import { humanDate, humanSize } from '../lib/format.js';
import { FilesSection } from './files.js';

/** @typedef {import('../planet.d.ts').FileInfo} FileInfo */

export class DocumentsSection extends FilesSection {
  constructor() {
    super({
      kind: 'document',
      heading: 'Documents',
      intro: 'Any file you want to keep safe: it is encrypted in your vault, in chunks, however large.',
      pickerLabel: 'Add documents',
      dropHint: 'Drop files here, or',
      noun: ['document', 'documents'],
      empty: 'No documents yet.',
    });
  }

  /** @param {FileInfo[]} files */
  renderList(files) {
    return el('table', { class: 'files-table' },
      el('caption', { class: 'visually-hidden' }, 'Documents in your vault'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Name'),
        el('th', { scope: 'col' }, 'Type'),
        el('th', { scope: 'col', class: 'num' }, 'Size'),
        el('th', { scope: 'col' }, 'Added'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el('tbody', {}, files.map((f) => el('tr', {},
        el('td', { class: 'name', 'data-label': 'Name' }, f.name),
        el('td', { 'data-label': 'Type', title: f.type || '' }, friendlyType(f)),
        el('td', { class: 'num', 'data-label': 'Size' }, humanSize(f.size)),
        el('td', { 'data-label': 'Added' }, el('time', { datetime: f.created }, humanDate(f.created))),
        el('td', { class: 'actions-cell' }, this.actions(f))))));
  }
}

/** @type {Record<string, string>} */
const typeNames = {
  'application/pdf': 'PDF',
  'text/plain': 'Text',
  'text/csv': 'CSV',
  'text/markdown': 'Markdown',
  'text/html': 'HTML',
  'application/json': 'JSON',
  'application/zip': 'ZIP archive',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.ms-excel': 'Excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.ms-powerpoint': 'PowerPoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'application/vnd.oasis.opendocument.text': 'OpenDocument text',
  'application/vnd.oasis.opendocument.spreadsheet': 'OpenDocument spreadsheet',
};

/**
 * A short name for the file's type: "PDF", "JPEG image", "TXT file".
 * @param {FileInfo} f
 */
function friendlyType(f) {
  const base = f.type.split(';')[0].trim().toLowerCase();
  if (typeNames[base]) return typeNames[base];
  const media = /^(image|audio|video)\/(?:x-)?([\w.+-]+)$/.exec(base);
  if (media) return `${media[2].toUpperCase()} ${media[1]}`;
  const ext = /\.([a-z0-9]{1,8})$/i.exec(f.name);
  if (ext) return `${ext[1].toUpperCase()} file`;
  return base || 'Unknown';
}

customElements.define('planet-documents', DocumentsSection);
