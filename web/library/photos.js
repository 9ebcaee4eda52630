// <planet-photos>: photos as a grid of previews.

import { el } from '../lib/elements.js';
import { FilesSection } from './files.js';

/** @typedef {import('../planet.d.ts').FileInfo} FileInfo */

const imageName = /\.(jpe?g|png|gif|webp|avif|heic|heif|bmp|tiff?)$/i;

export class PhotosSection extends FilesSection {
  constructor() {
    super({
      kind: 'photo',
      heading: 'Photos',
      intro: 'Your photos, encrypted in your vault. Previews are made in this browser before upload.',
      pickerLabel: 'Add photos',
      dropHint: 'Drop photos here, or',
      accept: 'image/*',
      // Some systems report no type for formats they do not know (e.g. HEIC).
      admits: (f) => f.type.startsWith('image/') || (!f.type && imageName.test(f.name)),
      refused: 'Not added because they are not images (add them under Documents)',
      noun: ['photo', 'photos'],
      empty: 'No photos yet.',
    });
  }

  /** @param {FileInfo[]} files */
  renderList(files) {
    return el('ul', { class: 'photo-grid' }, files.map((f) => el('li', { class: 'photo card' },
      f.thumbnail
        ? el('img', { class: 'thumb', src: this.listURLs.create(f.thumbnail), alt: f.name, loading: 'lazy', decoding: 'async' })
        : el('div', { class: 'thumb thumb-none', role: 'img', 'aria-label': f.name }, el('span', { 'aria-hidden': 'true' }, 'No preview')),
      el('p', { class: 'photo-name', title: f.name }, f.name),
      this.actions(f))));
  }
}

customElements.define('planet-photos', PhotosSection);
