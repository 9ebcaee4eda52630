// What the benchmark runs inside the page. Each function is handed to
// page.evaluate, which sends its source text to the page: so each one stands
// alone (no imports, nothing from this module's scope) and returns plain
// data. Times are from performance.now(), in milliseconds.
//
// The baselines are what a careful plain-JS app would do with the same
// browser: raw IndexedDB plus WebCrypto AES-256-GCM, written with the same
// durability ("relaxed") as PLANET's store, in databases of their own that
// are deleted afterwards.

/* global planet */

/**
 * Starts the core's page, or resolves at once if it is already up.
 * @returns {Promise<string>} the core's version
 */
export async function coreReady() {
  if (!globalThis.planet) {
    await new Promise((resolve, reject) => {
      window.addEventListener('planet-ready', resolve, { once: true });
      window.addEventListener('planet-failed', (e) => reject(e.detail), { once: true });
    });
  }
  return planet.version;
}

/**
 * Adds n contacts one call at a time: the total time, and the time of the
 * first and of the last tenth (does an add slow down as the vault fills?).
 */
export async function addContacts({ n, did }) {
  const tenth = Math.max(1, Math.floor(n / 10));
  const at = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (i === tenth || i === n - tenth) at.push(performance.now());
    await planet.contacts.add({ name: `Contact ${i}`, did, notes: `Met at the co-op AGM, table ${i % 40}. Introduced by a neighbour.` });
  }
  const t1 = performance.now();
  return { ms: t1 - t0, tenth, first: at[0] - t0, last: t1 - at[1] };
}

/** Locks the vault if it is open, then times unlock and the contact list. */
export async function unlockAndList(pass) {
  if ((await planet.state()) === 'unlocked') await planet.lock();
  const t0 = performance.now();
  await planet.unlock(pass);
  const t1 = performance.now();
  const list = await planet.contacts.list();
  const t2 = performance.now();
  return { unlock: t1 - t0, list: t2 - t1, total: t2 - t0, n: list.length };
}

/** The export of the whole vault, base64 (small: records only). */
export async function exportBase64(pass) {
  const blob = await planet.exportVault(pass);
  const u = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Imports an export (base64) into a browser without a vault, timed: the
 * whole import, and its tail, from the moment the last byte of the file has
 * been read (the key derivation is behind it by then) until the import
 * resolves: parsing the records, sealing them and writing them in one vault
 * update.
 */
export async function importBase64({ b64, exportPass, pass }) {
  const bin = atob(b64);
  const u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  const file = new Blob([u]);
  let lastByte = null;
  const t0 = performance.now();
  const summary = await planet.importVault(file, exportPass, pass, (done, total) => {
    if (done === total && lastByte === null) lastByte = performance.now();
  });
  const t1 = performance.now();
  if (lastByte === null) throw new Error('the import reported no progress');
  return { ms: t1 - t0, tail: t1 - lastByte, contacts: summary.contacts };
}

/** Size of the core's linear memory, from the instance the init script kept. */
export function wasmMemoryBytes() {
  const mem = globalThis.__benchWasmMemory;
  return mem ? mem.buffer.byteLength : null;
}

/**
 * Installed before any page script (context.addInitScript): keeps the wasm
 * instance's exported memory where wasmMemoryBytes finds it. The page itself
 * is unchanged; this only watches what it instantiates.
 */
export function keepWasmMemory() {
  const keep = (p) => p.then((r) => {
    const inst = r instanceof WebAssembly.Instance ? r : r.instance;
    if (inst?.exports?.mem instanceof WebAssembly.Memory) globalThis.__benchWasmMemory = inst.exports.mem;
    return r;
  });
  const streaming = WebAssembly.instantiateStreaming;
  const plain = WebAssembly.instantiate;
  WebAssembly.instantiateStreaming = function (...args) { return keep(streaming.apply(this, args)); };
  WebAssembly.instantiate = function (...args) { return keep(plain.apply(this, args)); };
}

/**
 * Makes a Blob of `bytes` bytes from `distinct` random 1 MiB pieces, repeated,
 * built in the page so its bytes never pass through the wasm heap; keeps it
 * as globalThis.__benchBlob.
 */
export function makeBlob({ bytes, distinct }) {
  const MiB = 1 << 20;
  const pieces = [];
  for (let p = 0; p < Math.min(Math.ceil(bytes / MiB), distinct); p++) {
    const u = new Uint8Array(MiB);
    for (let o = 0; o < u.length; o += 65536) crypto.getRandomValues(u.subarray(o, o + 65536));
    pieces.push(u);
  }
  const parts = [];
  for (let i = 0, left = bytes; left > 0; i++, left -= MiB) {
    const piece = pieces[i % pieces.length];
    parts.push(left >= MiB ? piece : piece.subarray(0, left));
  }
  globalThis.__benchBlob = new Blob(parts, { type: 'application/octet-stream' });
  return globalThis.__benchBlob.size;
}

/** Stores __benchBlob as a document, timed; keeps its id. */
export async function storeFile() {
  const t0 = performance.now();
  const info = await planet.files.add(globalThis.__benchBlob, { kind: 'document', name: 'bench.bin' });
  const ms = performance.now() - t0;
  globalThis.__benchFileId = info.id;
  return { ms, size: info.size };
}

/** Reads the stored document back into a Blob, timed; checks a sample of it. */
export async function readFile() {
  const t0 = performance.now();
  const blob = await planet.files.read(globalThis.__benchFileId);
  const ms = performance.now() - t0;
  const same = await sameSample(blob, globalThis.__benchBlob);
  return { ms, size: blob.size, same };

  async function sameSample(a, b) {
    if (a.size !== b.size) return false;
    for (const at of [0, Math.floor(a.size / 2), Math.max(0, a.size - 65536)]) {
      const x = new Uint8Array(await a.slice(at, at + 65536).arrayBuffer());
      const y = new Uint8Array(await b.slice(at, at + 65536).arrayBuffer());
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false;
    }
    return true;
  }
}

export async function deleteFile() {
  await planet.files.delete(globalThis.__benchFileId);
  delete globalThis.__benchFileId;
}

/**
 * Baseline for records: n small records (JSON, the size of a contact),
 * each sealed with WebCrypto AES-256-GCM.
 *  - seq: one awaited encrypt + one transaction per record, like one add per call;
 *  - batch: all encrypts in flight at once, then all puts in one transaction;
 *  - list: getAll of the seq records and a decrypt of each (median of listRuns).
 */
export async function baselineRecords({ nSeq, nBatch, listRuns, did }) {
  const h = idbHelpers();
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const record = (i) => enc.encode(JSON.stringify({
    name: `Contact ${i}`, did, notes: `Met at the co-op AGM, table ${i % 40}. Introduced by a neighbour.`,
    created: new Date().toISOString(), updated: new Date().toISOString(),
  }));
  const seal = async (pt) => {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, pt));
    const out = new Uint8Array(12 + ct.length);
    out.set(iv);
    out.set(ct, 12);
    return out;
  };
  const open = async (v) => new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: v.subarray(0, 12) }, key, v.subarray(12)));
  const id = (i) => `r/${String(i).padStart(8, '0')}`;

  const seqDB = await h.open('planet-bench-records-seq');
  const t0 = performance.now();
  for (let i = 0; i < nSeq; i++) {
    const v = await seal(record(i));
    const tx = seqDB.transaction('kv', 'readwrite', { durability: 'relaxed' });
    tx.objectStore('kv').put(v, id(i));
    await h.done(tx);
  }
  const seq = performance.now() - t0;

  const lists = [];
  let listed = 0;
  for (let r = 0; r < listRuns; r++) {
    const t = performance.now();
    const tx = seqDB.transaction('kv', 'readonly');
    const values = await h.req(tx.objectStore('kv').getAll());
    const records = await Promise.all(values.map(async (v) => JSON.parse(dec.decode(await open(v)))));
    lists.push(performance.now() - t);
    listed = records.length;
  }
  seqDB.close();

  const batchDB = await h.open('planet-bench-records-batch');
  const t1 = performance.now();
  const values = await Promise.all(Array.from({ length: nBatch }, (_, i) => seal(record(i))));
  const tx = batchDB.transaction('kv', 'readwrite', { durability: 'relaxed' });
  const store = tx.objectStore('kv');
  values.forEach((v, i) => store.put(v, id(i)));
  await h.done(tx);
  const batch = performance.now() - t1;
  batchDB.close();

  await h.remove('planet-bench-records-seq');
  await h.remove('planet-bench-records-batch');
  return { seq, batch, lists, listed };

  function idbHelpers() {
    const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    return {
      req,
      open(name) {
        const r = indexedDB.open(name, 1);
        r.onupgradeneeded = () => r.result.createObjectStore('kv');
        return req(r);
      },
      done: (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = tx.onabort = () => reject(tx.error); }),
      remove: (name) => new Promise((resolve) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = r.onerror = r.onblocked = () => resolve(); }),
    };
  }
}

/**
 * Baseline for files: __benchBlob through raw IndexedDB and WebCrypto
 * AES-256-GCM in 256 KiB chunks, 16 chunks per transaction as the vault
 * writes them, into a database of its own (replacing an earlier copy).
 */
export async function baselineStore() {
  const b = await fileBaseline();
  const blob = globalThis.__benchBlob;
  const n = Math.max(1, Math.ceil(blob.size / b.CHUNK));
  await b.clear();
  const t0 = performance.now();
  let pending = [];
  for (let i = 0; i < n; i++) {
    const pt = await blob.slice(i * b.CHUNK, (i + 1) * b.CHUNK).arrayBuffer();
    const ct = await crypto.subtle.encrypt(b.params(i, i === n - 1), b.key, pt);
    pending.push([b.name(i), new Uint8Array(ct)]);
    if (pending.length === b.PER_TX || i === n - 1) {
      const tx = b.db.transaction('kv', 'readwrite', { durability: 'relaxed' });
      const store = tx.objectStore('kv');
      for (const [k, v] of pending) store.put(v, k);
      await b.done(tx);
      pending = [];
    }
  }
  const ms = performance.now() - t0;
  b.db.close();
  return { ms, chunks: n };

  async function fileBaseline() { return globalThis.__benchFileBaseline ??= await setUp(); }
  async function setUp() {
    const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = tx.onabort = () => reject(tx.error); });
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const ad = new TextEncoder().encode('bench chunk');
    const base = {
      CHUNK: 256 * 1024,
      PER_TX: 16,
      key,
      req,
      done,
      name: (i) => `b/${i.toString(16).padStart(8, '0')}`,
      params(i, final) {
        const iv = new Uint8Array(12);
        new DataView(iv.buffer).setBigUint64(0, BigInt(i));
        iv[11] = final ? 1 : 0;
        return { name: 'AES-GCM', iv, additionalData: ad };
      },
      async open() {
        const r = indexedDB.open('planet-bench-files', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('kv');
        base.db = await req(r);
        return base.db;
      },
      async clear() {
        const db = await base.open();
        const tx = db.transaction('kv', 'readwrite');
        tx.objectStore('kv').clear();
        await done(tx);
      },
    };
    return base;
  }
}

/** Baseline for files: reads back what baselineStore wrote, one chunk per transaction, decrypted, into a Blob. */
export async function baselineRead({ remove }) {
  const b = globalThis.__benchFileBaseline;
  const db = await b.open();
  const n = Math.max(1, Math.ceil(globalThis.__benchBlob.size / b.CHUNK));
  const t0 = performance.now();
  const parts = [];
  for (let i = 0; i < n; i++) {
    const tx = db.transaction('kv', 'readonly');
    const ct = await b.req(tx.objectStore('kv').get(b.name(i)));
    parts.push(new Uint8Array(await crypto.subtle.decrypt(b.params(i, i === n - 1), b.key, ct)));
  }
  const out = new Blob(parts, { type: 'application/octet-stream' });
  const ms = performance.now() - t0;
  db.close();
  if (remove) {
    await new Promise((resolve) => { const r = indexedDB.deleteDatabase('planet-bench-files'); r.onsuccess = r.onerror = r.onblocked = () => resolve(); });
    delete globalThis.__benchFileBaseline;
  }
  return { ms, size: out.size };
}

/** The performance marks of this page load, by name (ms since navigation start). */
export function marks(names) {
  return Object.fromEntries(names.map((n) => [n, performance.getEntriesByName(n)[0]?.startTime ?? null]));
}
