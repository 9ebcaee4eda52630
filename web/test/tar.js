// A small reader of POSIX tar archives (ustar with PAX extended headers),
// enough to check an export's entries independently of the Go code.

/**
 * @param {Uint8Array} buf
 * @returns {Map<string, Uint8Array>} entry name → contents, in archive order
 */
export function untar(buf) {
  const out = new Map();
  const dec = new TextDecoder();
  const str = (b) => dec.decode(b).replace(/\0.*$/s, '');
  let off = 0;
  let pax = {};
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h.subarray(345, 500));
    let name = str(h.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = parsePax(body, dec);
      continue;
    }
    if (type === 'g') continue;
    if (pax.path) name = pax.path;
    pax = {};
    if (type === '0' || type === '\0') out.set(name, body);
  }
  return out;
}

// PAX records are "<length> <key>=<value>\n", the length counted in bytes.
function parsePax(body, dec) {
  const rec = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    const len = parseInt(dec.decode(body.subarray(i, sp)), 10);
    const line = dec.decode(body.subarray(sp + 1, i + len - 1));
    const eq = line.indexOf('=');
    rec[line.slice(0, eq)] = line.slice(eq + 1);
    i += len;
  }
  return rec;
}
