// The shape shared by Photos and Documents: add files with a picker or by
// dropping them on the page, watch each upload's progress, and list what is
// stored with "Open <name>", "Download <name>" and "Delete <name>".

import { planet, errorMessage } from '../lib/api.js';
import { ObjectURLs, downloadBlob, shortLivedURL, withType } from '../lib/blobs.js';
import { el, alertBox, statusLine, uid } from '../lib/elements.js';
import { percent, plural } from '../lib/format.js';
import { makeThumbnail } from '../library/thumbnail.js';
import { confirmDelete, showPhoto } from '../ui/dialogs.js';

/** @typedef {import('../planet.d.ts').FileInfo} FileInfo */
/** @typedef {import('../planet.d.ts').FileKind} FileKind */

/**
 * @typedef {object} FilesKind
 * @property {FileKind} kind
 * @property {string} heading "Photos"
 * @property {string} intro
 * @property {string} pickerLabel "Add photos"
 * @property {string} dropHint
 * @property {string} [accept] for the picker, e.g. "image/*"
 * @property {(f: File) => boolean} [admits] which dropped files belong here
 * @property {string} [refused] why other dropped files were left out
 * @property {[string, string]} noun ["photo", "photos"]
 * @property {string} empty
 */

export class FilesSection extends HTMLElement {
  /** @type {FilesKind} */
  kind;
  /** Object URLs of what the list shows (thumbnails); replaced on each render. */
  listURLs = new ObjectURLs();
  /** Object URLs of photos open in the viewer. */
  #viewerURLs = new ObjectURLs();
  #alert = alertBox();
  #status = statusLine();
  #uploads = el('ul', { class: 'uploads' });
  #listHost = el('div', { class: 'files-list' });
  /** Uploads run one after another so memory stays bounded. */
  #queue = Promise.resolve();
  #pending = 0;
  #added = 0;
  // Dropping a file outside the drop zone would make the browser open it in
  // place of the page, which closes the vault. Swallow such drops.
  #swallow = (/** @type {DragEvent} */ e) => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  };

  /** @param {FilesKind} kind */
  constructor(kind) {
    super();
    this.kind = kind;
  }

  connectedCallback() {
    window.addEventListener('dragover', this.#swallow);
    window.addEventListener('drop', this.#swallow);
    if (this.childElementCount) return;
    this.append(
      el('h1', { tabindex: -1 }, this.kind.heading),
      el('p', { class: 'lead' }, this.kind.intro),
      this.#dropZone(),
      this.#uploads,
      this.#status.node,
      this.#alert.node,
      this.#listHost,
    );
    this.refresh();
  }

  disconnectedCallback() {
    window.removeEventListener('dragover', this.#swallow);
    window.removeEventListener('drop', this.#swallow);
    this.listURLs.revokeAll();
    this.#viewerURLs.revokeAll();
  }

  #dropZone() {
    const input = el('input', { type: 'file', id: uid('picker'), class: 'file-input', multiple: true, accept: this.kind.accept });
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      this.#add(files);
    });
    const zone = el('div', { class: 'dropzone' },
      el('p', { class: 'drop-hint' }, this.kind.dropHint),
      input,
      el('label', { for: input.id, class: 'button primary' }, this.kind.pickerLabel));
    let depth = 0;
    zone.addEventListener('dragenter', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      depth += 1;
      zone.classList.add('over');
    });
    zone.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    zone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove('over');
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      zone.classList.remove('over');
      this.#add([...(e.dataTransfer?.files ?? [])]);
    });
    return zone;
  }

  /** @param {File[]} files */
  #add(files) {
    this.#alert.clear();
    const admits = this.kind.admits ?? (() => true);
    const refused = files.filter((f) => !admits(f));
    if (refused.length) {
      this.#alert.show(`${this.kind.refused ?? 'Not added'}: ${refused.map((f) => f.name).join(', ')}`);
    }
    for (const file of files.filter(admits)) {
      const row = this.#uploadRow(file.name);
      this.#pending += 1;
      this.#queue = this.#queue.then(() => this.#upload(file, row));
    }
  }

  /** @param {string} name */
  #uploadRow(name) {
    const progress = el('progress', { id: uid('upload'), max: 1, value: 0 });
    const text = el('span', { class: 'progress-text' }, 'Waiting');
    const row = el('li', { class: 'progress-row' },
      el('label', { for: progress.id }, `Uploading ${name}`), progress, text);
    this.#uploads.append(row);
    return { row, progress, text };
  }

  /**
   * @param {File} file
   * @param {{row: HTMLLIElement, progress: HTMLProgressElement, text: HTMLSpanElement}} ui
   */
  async #upload(file, { row, progress, text }) {
    try {
      /** @type {{kind: FileKind, name: string, thumbnail?: Blob, onProgress: (done: number, total: number) => void}} */
      const opts = {
        kind: this.kind.kind,
        name: file.name,
        onProgress: (done, total) => {
          if (total > 0) {
            progress.max = total;
            progress.value = done;
            text.textContent = percent(done, total);
          }
        },
      };
      if (this.kind.kind === 'photo') {
        text.textContent = 'Preparing';
        const thumbnail = await makeThumbnail(file);
        if (thumbnail) opts.thumbnail = thumbnail;
      }
      text.textContent = '0%';
      await planet.files.add(file, opts);
      row.remove();
      this.#added += 1;
    } catch (err) {
      progress.remove();
      text.remove();
      row.classList.add('failed');
      row.append(
        el('span', { role: 'alert' }, `Could not add ${file.name}: ${errorMessage(err)}`),
        el('button', { type: 'button', class: 'button small', 'aria-label': `Dismiss ${file.name}`, onclick: () => row.remove() }, 'Dismiss'));
    } finally {
      this.#pending -= 1;
    }
    if (this.#pending === 0 && this.#added) {
      this.#status.show(`Added ${plural(this.#added, ...this.kind.noun)}.`, 6000);
      this.#added = 0;
    }
    await this.refresh();
  }

  /** Reloads the list from the vault. */
  async refresh() {
    /** @type {FileInfo[]} */
    let files;
    try {
      files = await planet.files.list(this.kind.kind);
    } catch (err) {
      this.#alert.show(errorMessage(err));
      return;
    }
    files.sort((a, b) => (Date.parse(b.created) - Date.parse(a.created)) || a.name.localeCompare(b.name));
    this.listURLs.revokeAll();
    this.#listHost.replaceChildren(files.length
      ? this.renderList(files)
      : el('p', { class: 'empty' }, this.kind.empty));
  }

  /**
   * The list of stored files; subclasses lay it out.
   * @param {FileInfo[]} files
   * @returns {HTMLElement}
   */
  renderList(files) {
    return el('ul', {}, files.map((f) => el('li', {}, f.name, this.actions(f))));
  }

  /**
   * The buttons for one file.
   * @param {FileInfo} file
   */
  actions(file) {
    return el('div', { class: 'row actions' },
      this.#action('Open', file, () => this.#open(file)),
      this.#action('Download', file, () => this.#download(file)),
      el('button', { type: 'button', class: 'button small danger-text', 'aria-label': `Delete ${file.name}`, onclick: () => this.#delete(file) }, 'Delete'));
  }

  /**
   * A button that reads the file, busy while it does.
   * @param {string} verb
   * @param {FileInfo} file
   * @param {() => Promise<void>} work
   */
  #action(verb, file, work) {
    const button = el('button', { type: 'button', class: 'button small', 'aria-label': `${verb} ${file.name}` }, verb);
    button.addEventListener('click', async () => {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      this.#alert.clear();
      try {
        await work();
      } catch (err) {
        this.#alert.show(errorMessage(err));
      } finally {
        button.disabled = false;
        button.removeAttribute('aria-busy');
      }
    });
    return button;
  }

  /**
   * Decrypts a file into a Blob labelled with its type.
   * @param {FileInfo} file
   */
  async #read(file) {
    this.#status.show(`Decrypting ${file.name}…`);
    try {
      const blob = await planet.files.read(file.id, (done, total) => {
        if (total > 0) this.#status.show(`Decrypting ${file.name}… ${percent(done, total)}`);
      });
      return withType(blob, file.type);
    } finally {
      this.#status.clear();
    }
  }

  /** @param {FileInfo} file */
  async #open(file) {
    if (file.kind === 'photo' || isViewableImage(file.type)) {
      const url = this.#viewerURLs.create(await this.#read(file));
      await showPhoto(this, file.name, url);
      this.#viewerURLs.revoke(url);
      return;
    }
    const shownAs = safeToShow(file.type);
    if (!shownAs) {
      // Opening arbitrary types (HTML, SVG, XML…) in a tab of this origin
      // could run what is inside them next to the vault: save those instead.
      downloadBlob(await this.#read(file), file.name);
      this.#status.show(`${file.name} cannot be shown safely in the browser, so it was downloaded.`, 8000);
      return;
    }
    const blob = await this.#read(file);
    const url = shortLivedURL(new Blob([blob], { type: shownAs }));
    const tab = window.open(url, '_blank');
    if (tab) {
      tab.opener = null;
    } else {
      downloadBlob(blob, file.name);
      this.#status.show(`The browser blocked a new tab, so ${file.name} was downloaded.`, 8000);
    }
  }

  /** @param {FileInfo} file */
  async #download(file) {
    downloadBlob(await this.#read(file), file.name);
  }

  /** @param {FileInfo} file */
  async #delete(file) {
    const ok = await confirmDelete(this, {
      title: `Delete “${file.name}”?`,
      message: `This ${this.kind.noun[0]} will be removed from your vault. This cannot be undone.`,
    });
    if (!ok) return;
    try {
      await planet.files.delete(file.id);
    } catch (err) {
      this.#alert.show(errorMessage(err));
      return;
    }
    this.#status.show(`Deleted ${file.name}.`, 5000);
    await this.refresh();
    this.querySelector('h1')?.focus();
  }
}

/** @param {string} type */
function isViewableImage(type) {
  return /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)$/.test(type);
}

/**
 * The type to open a document as in a new tab, or "" when it should only be
 * downloaded. Only types the browser renders without running anything.
 * @param {string} type
 */
function safeToShow(type) {
  const base = type.split(';')[0].trim().toLowerCase();
  if (base === 'application/pdf' || /^(audio|video)\//.test(base) || isViewableImage(base)) return base;
  if (base === 'text/plain' || base === 'text/csv' || base === 'text/markdown' || base === 'application/json') {
    return 'text/plain;charset=utf-8';
  }
  return '';
}
