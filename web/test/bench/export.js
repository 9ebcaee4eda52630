// Export files with many contacts, for timing batched record writes: an
// import writes all of an export's records in one vault update (one
// IndexedDB transaction), which is the batched write path PLANET has.
//
// Starting from a real export of a vault (for its identity and settings), it
// writes a new, valid export (docs/export-format.md) holding n generated
// contacts and nothing else.

import { randomBytes } from 'node:crypto';
import { Decrypter, Encrypter } from 'age-encryption';

/**
 * @param {Uint8Array} exported a real export file
 * @param {string} passphrase its passphrase, also used for the new file
 * @param {number} n how many contacts the new export holds
 * @param {string} did a DID to give the contacts
 * @returns {Promise<Uint8Array>}
 */
export async function exportWithContacts(exported, passphrase, n, did) {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  const entries = untar(await d.decrypt(exported));
  const json = (name) => JSON.parse(new TextDecoder().decode(entries.get(name)));

  const manifest = json('manifest.json');
  manifest.counts = { contacts: n, notes: 0, photos: 0, documents: 0 };
  const now = new Date().toISOString();
  const contacts = Array.from({ length: n }, (_, i) => ({
    id: randomBytes(13).toString('hex'),
    name: `Contact ${i}`,
    did,
    notes: `Met at the co-op AGM, table ${i % 40}. Introduced by a neighbour.`,
    created: now,
    updated: now,
  }));
  const enc = new TextEncoder();
  const tarball = tar([
    ['manifest.json', enc.encode(JSON.stringify(manifest))],
    ['identity.json', entries.get('identity.json')],
    ['settings.json', entries.get('settings.json')],
    ['contacts.json', enc.encode(JSON.stringify(contacts))],
  ]);

  const e = new Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(10); // the same small cost for every file; it is not what is timed
  return e.encrypt(tarball);
}

/**
 * Reads a tar archive's regular files (ustar, with PAX path records).
 * @param {Uint8Array} buf
 * @returns {Map<string, Uint8Array>}
 */
function untar(buf) {
  const out = new Map();
  const dec = new TextDecoder();
  const str = (b) => dec.decode(b).replace(/\0.*$/s, '');
  let off = 0;
  let paxPath = '';
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h.subarray(345, 500));
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(dec.decode(body))?.[1] ?? '';
      continue;
    }
    let name = str(h.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    if (paxPath) name = paxPath;
    paxPath = '';
    if (type === '0') out.set(name, body);
  }
  return out;
}

/**
 * Writes a ustar archive of regular files with short names.
 * @param {[string, Uint8Array][]} files
 */
function tar(files) {
  const blocks = [];
  const enc = new TextEncoder();
  const mtime = Math.floor(Date.now() / 1000);
  for (const [name, body] of files) {
    const h = new Uint8Array(512);
    const put = (off, s) => h.set(enc.encode(s), off);
    const octal = (off, width, v) => put(off, v.toString(8).padStart(width - 1, '0') + '\0');
    put(0, name);
    octal(100, 8, 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, body.length);
    octal(136, 12, mtime);
    put(148, '        '); // the checksum counts itself as spaces
    put(156, '0');
    put(257, 'ustar\0');
    put(263, '00');
    const sum = h.reduce((a, b) => a + b, 0);
    put(148, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const b of blocks) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}
