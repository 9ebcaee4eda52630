// `make bench`: measures PLANET in headless Chromium against baselines
// measured in the same run, prints one table, and adds the figures (with the
// date and the machine) to docs/benchmarks.md, newest run first.
//
// Targets come from the performance table in the design. Timings never fail
// the run: the verdict column only says whether a target is met. Units:
// 1 MB = 10^6 bytes, MiB = 2^20 bytes.
//
// Steps 2, 3, 5 and the one-add-per-call writes share one profile and one
// vault; every import (batched writes) and step 6 get fresh profiles.
//  1. transfer size of planet.wasm (and of the whole client) as brotli, against a
//     hello-world Go wasm built and precompressed here (the Go runtime floor);
//  2. repeat visits to the unlock prompt, against repeat visits to a page that
//     starts the hello-world Go wasm from the same server;
//  3. unlock + list of 1,000 contacts, against raw IndexedDB getAll + WebCrypto;
//  4. record writes: one add per call, and batched (an import writes all its
//     records in one vault update), against raw IndexedDB + WebCrypto;
//  5. storing and reading a 64 MiB document, against raw IndexedDB + WebCrypto
//     in 256 KiB chunks;
//  6. growth of the core's wasm memory while storing a 200 MB file;
//  7. the trust graph: path queries over 100,000 relationships and verifying 1,000 credentials,
//     Go benchmarks natively and inside Chromium;
//  8. the relay: 500 native go-libp2p clients (serve/relayload) reserving slots on a serve
//     of its own and echoing messages in pairs through it, all connected at once; the
//     relay's memory per connection against plain connections to it;
//  9. DIDComm authcrypt pack + unpack of a 1 KiB basic message: PLANET's Go benchmark inside
//     Chromium (and native), against didcomm-rust in wasm (didcomm-node) in Chromium and
//     under Node (didcomm.js);
// 10. the DIDComm mediator: 500 Go clients (serve/mediatorload) in live pickup while
//     senders forward messages to them over HTTP POST; against the same clients and messages
//     through a plain WebSocket server without DIDComm.
//
// 11. First Person Pages (pages.js): resolving a 100-entry did:webvh log under pre-rotation,
//     PLANET's Go in Chromium against didwebvh-ts in the same Chromium; the public page's time to
//     first byte against the same server's static index.html, and its weight.
//
// PLANET_BENCH_ONLY=relay runs step 8 alone, =didcomm step 9, =mediator step 10, =pages step 11,
// and prints their rows; such a partial run is not recorded, except =pages, whose run is
// recorded on its own (its rows only, the commit named).

/* global planet */

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { root, startServer, person, tempDir } from '../lib.js';
import { buildFloor } from './floor.js';
import { exportWithContacts } from './export.js';
import * as inpage from './inpage.js';
import { webrtcStep } from './webrtc.js';
import { authcryptStep, mediatorStep } from './didcomm.js';
import { resolveStep, pageStep } from './pages.js';

const PASS = 'violet tugboat umbrella quince';
const EXPORT_PASS = 'harbour lights at eleven';

const N_LIST = 1000; // contacts added one by one, then unlocked and listed
const N_BATCH = 5000; // contacts in the batched write (import)
const N_REF = 200; // contacts in the reference import, whose time is subtracted
const VISITS = 5; // timed repeat visits (median)
const WARMUP_VISITS = 2; // untimed visits first: service worker, HTTP and code caches
const UNLOCKS = 3; // timed unlock + list (median)
const FILE_MIB = 64;
const FILE_ROUNDS = 3; // store + read, PLANET and baseline in turn (median)
const IMPORT_ROUNDS = 3; // imports of each kind, each into a fresh profile (median)
const BIG_BYTES = 200e6;
const N_RELAY = 500; // native clients on the relay at once, in pairs
const RELAY_MESSAGES = 20; // messages echoed each way across each pair's relayed connection
// serve's defaults admit 128 reservations, 8 from one IP address; every client of the
// relay step comes from 127.0.0.1.
const RELAY_FLAGS = ['-relay-max-reservations', String(2 * N_RELAY), '-relay-reservations-per-ip', String(2 * N_RELAY)];
const ONLY = process.env.PLANET_BENCH_ONLY ?? '';
const TARGET = {
  wasmBytes: 3e6,
  visitMs: 300,
  unlockListMs: 1000,
  batchPerSec: 5000,
  storeMBps: 100,
  readMBps: 150,
  vsBaseline: 2,
  memBytes: 64e6,
  pathBrowserMs: 50,
  pathNativeMs: 10,
  verify1000Ms: 1000,
  connectMs: 500,
  chatRttMs: 5,
  webvhResolveMs: 100,
  pageWeightBytes: 100e3,
};

const started = Date.now();
const loadAtStart = loadavg()[0];
const cleanup = [];
const step = (s) => console.error(`bench: ${s} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

async function main() {
  if (ONLY === 'webrtc') {
    const server = await startServer();
    cleanup.push(() => server.stop());
    const r = { webrtc: await webrtcStep(server.url, step) };
    console.log();
    console.log(formatText([HEADER, ...webrtcRows(r)]));
    console.log();
    console.log(webrtcLegend(r));
    console.log('\nnot recorded in docs/benchmarks.md: PLANET_BENCH_ONLY runs part of the bench');
    return;
  }
  if (ONLY === 'relay') {
    const r = { relay: await relayLoad() };
    const rows = [HEADER, ...relayRows(r)];
    console.log();
    console.log(formatText(rows));
    console.log();
    console.log(relayLegend(r));
    console.log('\nnot recorded in docs/benchmarks.md: PLANET_BENCH_ONLY runs part of the bench');
    return;
  }
  if (ONLY === 'didcomm' || ONLY === 'mediator') {
    const r = ONLY === 'didcomm' ? { didcomm: await authcryptStep(step) } : { mediator: await mediatorStep(step) };
    const rows = [HEADER, ...(ONLY === 'didcomm' ? authcryptRows(r) : mediatorRows(r))];
    console.log();
    console.log(formatText(rows));
    console.log();
    console.log(ONLY === 'didcomm' ? authcryptLegend(r) : mediatorLegend(r));
    console.log('\nnot recorded in docs/benchmarks.md: PLANET_BENCH_ONLY runs part of the bench');
    return;
  }
  if (ONLY === 'pages') {
    const r = { pages: { resolve: await resolveStep(step), page: await pageStep(step) } };
    const p = await person();
    r.chromium = await chromiumVersion(p);
    await p.close();
    r.version = `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()} (pages group only)`;
    r.machine = machine(r.chromium);
    r.load = { start: loadAtStart, end: loadavg()[0] };
    r.seconds = (Date.now() - started) / 1000;
    const rows = [HEADER, ...pagesRows(r)];
    console.log();
    console.log(`PLANET ${r.version} · ${r.machine.line} · load ${loadLine(r.load)}`);
    console.log(formatText(rows));
    console.log();
    const legend = pagesLegend(r);
    for (const l of legend) console.log(l);
    await recordRun(r, rows, legend);
    console.log(`\nrecorded in docs/benchmarks.md (run took ${r.seconds.toFixed(0)} s)`);
    return;
  }
  if (ONLY !== '') throw new Error(`PLANET_BENCH_ONLY=${ONLY}: only "relay", "webrtc", "didcomm", "mediator" or "pages" runs alone`);

  const server = await startServer();
  cleanup.push(() => server.stop());

  step('building the Go runtime floor');
  const work = await tempDir('planet-bench-');
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  const floorWWW = join(work, 'floor-www');
  await buildFloor({ src: join(work, 'floor-src'), www: floorWWW });
  const floor = await startServer({ www: floorWWW });
  cleanup.push(() => floor.stop());

  const r = {};

  step('transfer sizes');
  r.wasm = { planet: await wireSize(server.url, 'planet.wasm'), floor: await wireSize(floor.url, 'floor.wasm') };
  r.client = await clientSize(server.url);
  for (const [what, w] of Object.entries(r.wasm)) {
    if (w.coding !== 'br') throw new Error(`the ${what} server answered Accept-Encoding: br with "${w.coding}"`);
  }

  // --- one person, one vault: records, start-up, files -------------------
  const a = await person();
  cleanup.push(() => a.close());
  const page = a.page;
  page.setDefaultTimeout(120_000);
  await page.goto(server.url);
  r.version = await page.evaluate(inpage.coreReady);
  r.chromium = await chromiumVersion(a);
  const ident = await page.evaluate((p) => planet.create(p), PASS);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  step(`adding ${N_LIST} contacts one by one`);
  r.adds = await page.evaluate(inpage.addContacts, { n: N_LIST, did: '' });
  const exported = Buffer.from(await page.evaluate(inpage.exportBase64, EXPORT_PASS), 'base64');

  step('repeat visits');
  r.visits = [];
  for (let i = 0; i < WARMUP_VISITS + VISITS; i++) {
    const m = await visit(page, server.url, ['planet-boot-start', 'planet-wasm-instantiated', 'planet-ready', 'planet-unlock-prompt'], 'planet-unlock-prompt');
    if (!m.unlockScreen) throw new Error('a repeat visit did not show the unlock screen');
    if (i >= WARMUP_VISITS) r.visits.push(m);
  }
  r.swControlled = r.visits.every((m) => m.controlled);
  r.floorVisits = [];
  for (let i = 0; i < WARMUP_VISITS + VISITS; i++) {
    const m = await visit(page, floor.url, ['floor-start', 'floor-instantiated', 'floor-ready'], 'floor-ready');
    if (i >= WARMUP_VISITS) r.floorVisits.push(m);
  }
  await page.goto(server.url);
  await page.evaluate(inpage.coreReady);

  step(`unlock + list ${N_LIST} contacts`);
  r.unlocks = [];
  for (let i = 0; i < UNLOCKS; i++) {
    const u = await page.evaluate(inpage.unlockAndList, PASS);
    if (u.n !== N_LIST) throw new Error(`listed ${u.n} contacts, want ${N_LIST}`);
    r.unlocks.push(u);
  }

  step('record baselines');
  r.baseRecords = await page.evaluate(inpage.baselineRecords, { nSeq: N_LIST, nBatch: N_BATCH, listRuns: UNLOCKS, did: '' });

  step(`storing and reading ${FILE_MIB} MiB, ${FILE_ROUNDS} rounds`);
  r.fileBytes = await page.evaluate(inpage.makeBlob, { bytes: FILE_MIB * 2 ** 20, distinct: FILE_MIB });
  r.files = [];
  for (let i = 0; i < FILE_ROUNDS; i++) {
    // PLANET and the baseline take turns, so that anything else the machine
    // is doing weighs on both alike.
    const store = await page.evaluate(inpage.storeFile);
    const baseStore = await page.evaluate(inpage.baselineStore);
    const read = await page.evaluate(inpage.readFile);
    if (!read.same) throw new Error('the document read back differs from the one stored');
    const baseRead = await page.evaluate(inpage.baselineRead, { remove: i === FILE_ROUNDS - 1 });
    if (baseRead.size !== r.fileBytes) throw new Error('the baseline read back the wrong size');
    await page.evaluate(inpage.deleteFile);
    r.files.push({ store: store.ms, read: read.ms, baseStore: baseStore.ms, baseRead: baseRead.ms });
  }
  await a.close();

  // --- batched writes: imports of many and of a few contacts into fresh
  // browsers; the difference is the cost of the extra records --------------
  step(`importing ${N_REF} and ${N_BATCH} contacts, ${IMPORT_ROUNDS} rounds`);
  const kinds = [
    { name: 'ref', n: N_REF, did: '' },
    { name: 'plain', n: N_BATCH, did: '' },
    { name: 'did', n: N_BATCH, did: ident.did },
  ];
  for (const k of kinds) k.file = await exportWithContacts(exported, EXPORT_PASS, k.n, k.did);
  r.imports = Object.fromEntries(kinds.map((k) => [k.name, []]));
  for (let i = 0; i < IMPORT_ROUNDS; i++) {
    for (const { name, n, file } of kinds) {
      const p = await person();
      cleanup.push(() => p.close());
      p.page.setDefaultTimeout(120_000);
      await p.context.addInitScript(inpage.keepWasmMemory);
      await p.page.goto(server.url);
      await p.page.evaluate(inpage.coreReady);
      const res = await p.page.evaluate(inpage.importBase64, { b64: Buffer.from(file).toString('base64'), exportPass: EXPORT_PASS, pass: PASS });
      if (res.contacts !== n) throw new Error(`imported ${res.contacts} contacts, want ${n}`);
      r.imports[name].push(res);

      if (i === 0 && name === 'ref') {
        // --- memory: the core's linear memory around a 200 MB file ------
        step('memory while storing 200 MB');
        const mem = { idle: await p.page.evaluate(inpage.wasmMemoryBytes) }; // vault open, after the import
        if (mem.idle === null) throw new Error('could not see the core\'s wasm memory');
        r.bigBytes = await p.page.evaluate(inpage.makeBlob, { bytes: BIG_BYTES, distinct: 16 });
        const s = await p.page.evaluate(inpage.storeFile);
        mem.stored = await p.page.evaluate(inpage.wasmMemoryBytes);
        const rd = await p.page.evaluate(inpage.readFile);
        if (!rd.same) throw new Error('the 200 MB file read back differs from the one stored');
        mem.read = await p.page.evaluate(inpage.wasmMemoryBytes);
        r.mem = mem;
        r.big = { store: s.ms, read: rd.ms };
      }
      await p.close();
    }
  }

  // --- the trust graph: Go benchmarks, native and inside Chromium --------
  step('trust graph: path queries and credential verification');
  r.trust = { native: goBench(false), browser: goBench(true) };

  // --- browser to browser: WebRTC through the server's relay --------------
  r.webrtc = await webrtcStep(server.url, step);

  // --- the relay: native clients on a serve of its own --------------------
  r.relay = await relayLoad();

  // --- DIDComm: authcrypt in the tab, and the mediator under load ----------
  r.didcomm = await authcryptStep(step);
  r.mediator = await mediatorStep(step);

  // --- First Person Pages: did:webvh resolution, the public page ------------
  r.pages = { resolve: await resolveStep(step), page: await pageStep(step) };

  r.machine = machine(r.chromium);
  r.load = { start: loadAtStart, end: loadavg()[0] };
  r.seconds = (Date.now() - started) / 1000;
  const rows = tableRows(r);
  const legend = legendLines(r);
  console.log();
  console.log(`PLANET ${r.version} · ${r.machine.line} · load ${loadLine(r.load)}`);
  console.log(formatText(rows));
  console.log();
  for (const l of legend) console.log(l);
  await recordRun(r, rows, legend);
  console.log(`\nrecorded in docs/benchmarks.md (run took ${r.seconds.toFixed(0)} s)`);
}

// --- measuring -------------------------------------------------------------

/** Bytes on the wire for one file, asked for with Accept-Encoding: br, and its plain size. */
async function wireSize(base, name) {
  const fetchOne = (encoding) => new Promise((resolve, reject) => {
    get(new URL(name, base), { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => resolve({ status: res.statusCode, coding: res.headers['content-encoding'] ?? '', length: Number(res.headers['content-length'] ?? n), received: n }));
      res.on('error', reject);
    }).on('error', reject);
  });
  const br = await fetchOne('br');
  const plain = await fetchOne('');
  if (br.status !== 200 || plain.status !== 200) throw new Error(`${name}: HTTP ${br.status}/${plain.status}`);
  if (br.received !== br.length) throw new Error(`${name}: received ${br.received} bytes, Content-Length says ${br.length}`);
  return { br: br.length, coding: br.coding, plain: plain.length };
}

/** Brotli bytes of every file the client is made of (everything the build serves). */
async function clientSize(base) {
  const www = join(root, 'build/www');
  const names = [];
  const walk = async (dir, prefix) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
      else if (!/\.(br|gz)$/.test(e.name) && !e.name.endsWith('.d.ts')) names.push(prefix + e.name);
    }
  };
  await walk(www, '');
  let br = 0;
  for (const n of names) br += (await wireSize(base, n)).br;
  return { br, files: names.length };
}

/** One repeat visit: a fresh navigation, then the marks once `until` is set. */
async function visit(page, url, names, until) {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, until);
  const m = await page.evaluate(inpage.marks, names);
  m.controlled = await page.evaluate(() => navigator.serviceWorker?.controller != null);
  m.unlockScreen = await page.evaluate(() => document.querySelector('planet-unlock') != null);
  return m;
}

async function chromiumVersion(p) {
  const cdp = await p.context.newCDPSession(p.page);
  const v = await cdp.send('Browser.getVersion');
  await cdp.detach();
  return v.product.replace(/^(Headless)?Chrome\//, ''); // e.g. 156.0.7800.0
}

function machine(chromium) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  let model = cpus()[0]?.model ?? '?';
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch { /* not Linux: keep os.cpus() */ }
  const nproc = sh('nproc', []);
  const memGiB = (totalmem() / 2 ** 30).toFixed(1);
  const go = sh('go', ['env', 'GOVERSION']);
  const m = { nproc, model, memGiB, chromium: `Chromium ${chromium}`, go, node: process.version };
  m.line = `${nproc} CPUs (nproc), ${model}, ${memGiB} GiB RAM · ${m.chromium} (headless) · ${go} · Node ${process.version.slice(1)}`;
  return m;
}

/**
 * The trust graph's Go benchmarks (core/graph/graph_test.go, core/vc/vc_test.go), run natively
 * and compiled to wasm inside headless Chromium through wasmbrowsertest; milliseconds per op.
 */
function goBench(browser) {
  const env = { ...process.env };
  if (browser) Object.assign(env, { GOOS: 'js', GOARCH: 'wasm', PATH: `${join(root, 'build/bin')}:${env.PATH}` });
  const out = execFileSync('go', ['test', '-run', '^$', '-bench', '^(BenchmarkPaths100k|BenchmarkVerify1000Credentials)$',
    '-benchtime', '5x', '-count', '1', './core/graph', './core/vc'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const msPerOp = {};
  for (const m of out.matchAll(/^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op/gm)) msPerOp[m[1]] = Number(m[2]) / 1e6;
  for (const name of ['Paths100k/random', 'Paths100k/near', 'Verify1000Credentials']) {
    if (!(name in msPerOp)) throw new Error(`no figure for ${name} in the ${browser ? 'browser' : 'native'} Go benchmarks:\n${out}`);
  }
  return msPerOp;
}

/**
 * The relay under load: serve/relayload, built into build/bin, against a serve of its own
 * (started with RELAY_FLAGS) over its WebSocket address; resolves to relayload's JSON report.
 * A run with errors still reports (the verdict shows them); one without a report throws.
 */
async function relayLoad() {
  step(`relay: ${N_RELAY} native clients reserving + messaging`);
  const bin = join(root, 'build/bin/relayload');
  execFileSync('go', ['build', '-o', bin, './serve/relayload'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // An empty site: the relay's memory is what is measured, not the client's files held in
  // memory beside it, nor the garbage left from loading them.
  const www = await tempDir('planet-relay-www-');
  const relay = await startServer({ www, args: RELAY_FLAGS });
  try {
    const res = await fetch(new URL('.well-known/planet/relay.json', relay.url));
    if (!res.ok) throw new Error(`relay.json: HTTP ${res.status}`);
    const info = await res.json();
    // WebSocket, as browsers reach the relay; in one process, go-libp2p clients over it
    // cost less than over QUIC, on both sides.
    const addr = info.addrs.find((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a));
    if (!addr) throw new Error(`relay.json has no WebSocket address on 127.0.0.1: ${info.addrs.join(' ')}`);
    const args = ['-relay', addr, '-pid', String(relay.pid), '-clients', String(N_RELAY), '-messages', String(RELAY_MESSAGES), '-json'];
    const { code, stdout } = await new Promise((resolve, reject) => {
      const p = execFile(bin, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 }, (err, out) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ code: err ? err.code : 0, stdout: out });
      });
      p.stderr.pipe(process.stderr); // its progress
    });
    let rep;
    try {
      rep = JSON.parse(stdout);
    } catch {
      throw new Error(`relayload exited with ${code} without a report:\n${stdout}`);
    }
    if ((code === 0) !== (rep.errors === 0)) throw new Error(`relayload exited with ${code} reporting ${rep.errors} errors`);
    rep.flags = RELAY_FLAGS.join(' ');
    return rep;
  } finally {
    await relay.stop();
    await rm(www, { recursive: true, force: true });
  }
}

// --- the table ---------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const MB = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const MBMiB = (bytes) => `${MB(bytes)} (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
const ms = (x) => `${Math.round(x)} ms`;
const fineMs = (x) => (x < 10 ? `${x.toFixed(2)} ms` : ms(x));
const perSec = (n, msTaken) => n / (msTaken / 1000);
const rate = (x) => `${Math.round(x).toLocaleString('en-US')}/s`;
const mbps = (bytes, msTaken) => bytes / 1e6 / (msTaken / 1000);
const MBps = (x) => `${x.toFixed(0)} MB/s`;
const loadLine = (l) => `${l.start.toFixed(1)} at start, ${l.end.toFixed(1)} at end`;
const verdict = (ok) => (ok ? 'meets' : 'misses');
const KiB = (bytes) => `${(bytes / 2 ** 10).toFixed(0)} KiB`;
const MiB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const secs = (x) => `${x.toFixed(1)} s`;
const HEADER = ['what', 'PLANET', 'baseline', 'target', 'verdict'];

function tableRows(r) {
  const visit = median(r.visits.map((m) => m['planet-unlock-prompt']));
  const visitReady = median(r.visits.map((m) => m['planet-ready']));
  const visitInst = median(r.visits.map((m) => m['planet-wasm-instantiated']));
  const visitBoot = median(r.visits.map((m) => m['planet-boot-start']));
  const floorBoot = median(r.floorVisits.map((m) => m['floor-start']));
  const floorVisit = median(r.floorVisits.map((m) => m['floor-ready']));
  const floorInst = median(r.floorVisits.map((m) => m['floor-instantiated']));
  const unlockList = median(r.unlocks.map((u) => u.total));
  const unlock = median(r.unlocks.map((u) => u.unlock));
  const list = median(r.unlocks.map((u) => u.list));
  const baseList = median(r.baseRecords.lists);
  const seqRate = perSec(N_LIST, r.adds.ms);
  const baseSeqRate = perSec(N_LIST, r.baseRecords.seq);
  const tail = (name) => median(r.imports[name].map((x) => x.tail));
  const batchRate = perSec(N_BATCH - N_REF, tail('plain') - tail('ref'));
  const batchDIDRate = perSec(N_BATCH - N_REF, tail('did') - tail('ref'));
  const baseBatchRate = perSec(N_BATCH, r.baseRecords.batch);
  const fileRate = (k) => mbps(r.fileBytes, median(r.files.map((f) => f[k])));
  const store = fileRate('store');
  const read = fileRate('read');
  const baseStore = fileRate('baseStore');
  const baseRead = fileRate('baseRead');
  const growth = r.mem.stored - r.mem.idle;
  const growthRead = r.mem.read - r.mem.idle;
  const slower = (x, base) => `${(base / x).toFixed(2)}× slower`;
  const t = r.trust;

  return [
    HEADER,
    ['wasm transfer size, brotli (planet.wasm)', MB(r.wasm.planet.br), `${MB(r.wasm.floor.br)} (Go hello world)`, '≤ 3 MB', verdict(r.wasm.planet.br <= TARGET.wasmBytes)],
    ['  whole client, brotli (every file served)', `${MB(r.client.br)} (${r.client.files} files)`, '', '≤ 3 MB', verdict(r.client.br <= TARGET.wasmBytes)],
    ['  wasm uncompressed', MB(r.wasm.planet.plain), `${MB(r.wasm.floor.plain)} (Go hello world)`, '', ''],
    [`repeat visit → unlock prompt (median of ${VISITS})`, ms(visit), `${ms(floorVisit)} (Go hello world page)`, '≤ 300 ms', verdict(visit <= TARGET.visitMs)],
    ['  first script running (boot.js)', ms(visitBoot), ms(floorBoot), '', ''],
    ['  wasm compiled + instantiated', ms(visitInst), ms(floorInst), '', ''],
    ['  core ready (planet-ready)', ms(visitReady), '', '', ''],
    [`unlock + list ${N_LIST.toLocaleString('en-US')} contacts (median of ${UNLOCKS})`, ms(unlockList), `${ms(baseList)} (IDB+WebCrypto list, no KDF)`, '≤ 1.0 s', verdict(unlockList <= TARGET.unlockListMs)],
    ['  unlock (Argon2id 64 MiB, t=3)', ms(unlock), '', '', ''],
    [`  list ${N_LIST.toLocaleString('en-US')} contacts`, ms(list), `${ms(baseList)} (IDB getAll+WebCrypto)`, '', ''],
    [`batched record writes (import of ${N_BATCH.toLocaleString('en-US')} contacts)`, rate(batchRate), `${rate(baseBatchRate)} (IDB 1 tx+WebCrypto)`, '≥ 5,000/s', verdict(batchRate >= TARGET.batchPerSec)],
    ['  the same with a did:key on each contact', rate(batchDIDRate), '', '', ''],
    [`  one contacts.add per call (${N_LIST.toLocaleString('en-US')})`, rate(seqRate), `${rate(baseSeqRate)} (IDB 1 tx/record)`, '', ''],
    [`document store, ${FILE_MIB} MiB (median of ${FILE_ROUNDS})`, MBps(store), `${MBps(baseStore)} (IDB+WebCrypto)`, '≥ 100 MB/s', verdict(store >= TARGET.storeMBps)],
    ['  store vs baseline', slower(store, baseStore), '', '≤ 2× slower', verdict(baseStore / store <= TARGET.vsBaseline)],
    [`document read, ${FILE_MIB} MiB (median of ${FILE_ROUNDS})`, MBps(read), `${MBps(baseRead)} (IDB+WebCrypto)`, '≥ 150 MB/s', verdict(read >= TARGET.readMBps)],
    ['  read vs baseline', slower(read, baseRead), '', '≤ 2× slower', verdict(baseRead / read <= TARGET.vsBaseline)],
    ['wasm memory growth storing 200 MB', MBMiB(growth), '', '≤ 64 MB', verdict(growth <= TARGET.memBytes)],
    ['  after reading it back too', MBMiB(growthRead), '', '', ''],
    ['  idle (vault open, before the file)', MBMiB(r.mem.idle), '', '', ''],
    ['path query, 100,000 relationships, ≤ 3 hops (far pairs)', fineMs(t.browser['Paths100k/random']), `${fineMs(t.native['Paths100k/random'])} (native Go)`, '≤ 50 ms; native ≤ 10 ms', verdict(t.browser['Paths100k/random'] <= TARGET.pathBrowserMs && t.native['Paths100k/random'] <= TARGET.pathNativeMs)],
    ['  near pairs (paths found)', fineMs(t.browser['Paths100k/near']), `${fineMs(t.native['Paths100k/near'])} (native Go)`, '≤ 50 ms; native ≤ 10 ms', verdict(t.browser['Paths100k/near'] <= TARGET.pathBrowserMs && t.native['Paths100k/near'] <= TARGET.pathNativeMs)],
    ['verify 1,000 relationship credentials', ms(t.browser.Verify1000Credentials), `${ms(t.native.Verify1000Credentials)} (native Go)`, '≤ 1 s', verdict(t.browser.Verify1000Credentials <= TARGET.verify1000Ms)],
    ...webrtcRows(r),
    ...relayRows(r),
    ...authcryptRows(r),
    ...mediatorRows(r),
    ...pagesRows(r),
  ];
}

/** Browser-to-browser WebRTC: PLANET beside js-libp2p and a raw data channel (see webrtc.js). */
function webrtcRows(r) {
  const { planet: p, js, raw } = r.webrtc;
  return [
    ['browser-to-browser connect via relay (reservation held → direct WebRTC)', ms(p.connectMs), `${ms(js.timeToDirectMs)} (js-libp2p)`, '≤ 500 ms', verdict(p.connectMs <= TARGET.connectMs)],
    ['  through the relay, then WebRTC', `${ms(p.relayedMs)} + ${ms(p.webrtcMs)}`, '', '', ''],
    [`chat message round trip, direct WebRTC (chat.send → delivered, median of ${p.chats})`, fineMs(p.chatMs), `${fineMs(p.pagePingMs)} (libp2p ping, same tabs)`, '≤ 5 ms', verdict(p.chatMs <= TARGET.chatRttMs)],
    [`  the first ${p.firstChats} messages after the pages start (median)`, fineMs(p.firstChatMs), '', '', ''],
    ['  libp2p ping over direct WebRTC, two nodes in one page', fineMs(p.pingMs), `${fineMs(js.pingMs)} (js-libp2p)`, '', ''],
    ['  raw data channel round trip', '', `${fineMs(raw.rttMs)} (plain JS, one page)`, '', ''],
    ['stream throughput over WebRTC (32 MiB, 64 KiB writes)', `${p.throughputMBps.toFixed(1)} MB/s`, `${js.throughputMBps.toFixed(1)} MB/s (js-libp2p)`, '≥ js-libp2p', verdict(p.throughputMBps >= js.throughputMBps)],
    ['  raw data channel, 16 KiB messages', '', `${raw.throughputMBps.toFixed(1)} MB/s (plain JS, one page)`, '', ''],
  ];
}

function webrtcLegend(r) {
  const { js } = r.webrtc;
  return `- WebRTC: everything goes through this run's serve relay over WebSocket on loopback, with Chromium allowed to use 127.0.0.1 for ICE. Connect, ping and throughput run two nodes in one page on both sides: PLANET's are Go benchmarks of package webrtc (BenchmarkWebRTC*, 10 rounds) inside Chromium, connect being the relayed connection plus WebRTC until the swarm holds it, each round from scratch; js-libp2p's (libp2p, @libp2p/webrtc, bundled by esbuild) are ${js.params.directRuns} timed dials of a /p2p-circuit/webrtc address (${js.failedDials} failed dial(s) left out), ${js.params.pings} pings and ${js.params.throughputRounds} transfers (median). Chat is two people in their own browsers, connected by invitation (which made the WebRTC connection), timing planet.chat.send until the message comes back delivered: the sender signs it and sends it while keeping its copy, the receiver verifies it and keeps it (an IndexedDB transaction it waits for) before acknowledging, and the sender writes the acknowledgement once the conversation pauses; ${r.webrtc.planet.warmChats} messages, then ${r.webrtc.planet.chats} timed, one after the other. Its baseline is network.ping between the same two tabs. The raw data channel is two RTCPeerConnections in one page, plain JS.`;
}

/** The relay step's rows: PLANET is the relay with reservations and relayed connections, the baseline the same clients' plain connections to it. */
function relayRows(r) {
  const x = r.relay;
  const messages = 2 * x.pairs * x.messagesPerPair;
  const ok = x.errors === 0 && x.reservations === x.clients && x.pairsOK === x.pairs && x.messagesOK === messages;
  return [
    [`relay: ${x.clients.toLocaleString('en-US')} native clients reserving + messaging`, `${x.errors} errors (${x.reservations} reservations, ${x.pairsOK}/${x.pairs} pairs relayed)`, `${x.connected} plain connections`, '0 errors', verdict(ok)],
    ['  relay memory per connection', `${KiB(x.bytesPerConn.relay)} (reserved + relaying)`, `${KiB(x.bytesPerConn.plain)} (plain connection)`, '', ''],
    ['  relay RSS, all clients connected', MiB(x.rss.relay), `${MiB(x.rss.plain)} (${MiB(x.rss.before)} before)`, '', ''],
    ['  wall time', `${secs(x.seconds.relay)} (reserve, dial, echo)`, `${secs(x.seconds.connect)} (connect + identify)`, '', ''],
    [`  messages echoed through the relay (${x.messagesOK.toLocaleString('en-US')} of ${messages.toLocaleString('en-US')})`, rate(x.messagesPerSecond), '', '', ''],
  ];
}

function legendLines(r) {
  const tail = (name) => median(r.imports[name].map((x) => x.tail));
  const whole = (name) => median(r.imports[name].map((x) => x.ms));
  const controlled = r.swControlled ? 'served by the service worker' : 'NOT controlled by the service worker';
  return [
    'Baselines, measured in this run:',
    `- Go hello world: a fmt + syscall/js hello world built with PLANET's flags (-trimpath -s -w), brotli by the same server's -precompress; its page (same server, same wasm_exec.js, instantiateStreaming, go.run; no service worker) is timed from navigation start until the program has run.`,
    `- Repeat visits: ${WARMUP_VISITS} untimed visits, then ${VISITS} timed navigations from about:blank in the same profile, vault locked, page ${controlled}; time from navigation start to the performance mark planet-unlock-prompt.`,
    '- IDB+WebCrypto: plain JS in the same page, raw IndexedDB (durability "relaxed", as PLANET writes) and WebCrypto AES-256-GCM per record or per 256 KiB chunk (16 chunks per transaction, as the vault writes them; read one chunk per transaction into a Blob).',
    `- Unlock + list: the baseline has no key derivation; PLANET's unlock is Argon2id (64 MiB, t=3) in Go wasm, anchored at ≈ 650 ms in the design.`,
    `- Batched writes: PLANET's API has no batch call; an import writes all of an export's records in one vault update (one IndexedDB transaction). Each import goes into a fresh profile and is timed from the moment it has read the file's last byte (key derivation already done) until it resolves: parsing the export's JSON, checking, sealing and writing the records. Rate = ${(N_BATCH - N_REF).toLocaleString('en-US')} / (that time for ${N_BATCH.toLocaleString('en-US')} contacts − that time for ${N_REF}); medians of ${IMPORT_ROUNDS}: ${ms(tail('plain'))}, with DIDs ${ms(tail('did'))}, reference ${ms(tail('ref'))} (whole imports ${ms(whole('plain'))}, ${ms(whole('did'))}, ${ms(whole('ref'))}). Contacts have no DID unless said.`,
    `- One add per call: ${N_LIST.toLocaleString('en-US')} awaited planet.contacts.add calls into one vault; the first ${r.adds.tenth} ran at ${rate(perSec(r.adds.tenth, r.adds.first))}, the last ${r.adds.tenth} at ${rate(perSec(r.adds.tenth, r.adds.last))}. Its baseline is one awaited encrypt and one transaction per record.`,
    '- Trust graph: Go benchmarks of core/graph and core/vc (BenchmarkPaths100k: 20,000 people, 100,000 relationships in a small world, all paths of up to three hops between a pair; BenchmarkVerify1000Credentials: parse and verify 1,000 eddsa-jcs-2022 credentials from 100 issuers), compiled to wasm and run inside this Chromium by wasmbrowsertest; the baseline is the same benchmark as native Go in this run.',
    `- Memory: the core's wasm linear memory (it never shrinks), after an import (vault open) and after storing a 200 MB file built in the page from random 1 MiB pieces (store ${MBps(mbps(r.bigBytes, r.big.store))}, read ${MBps(mbps(r.bigBytes, r.big.read))}).`,
    webrtcLegend(r),
    relayLegend(r),
    authcryptLegend(r),
    mediatorLegend(r),
    ...pagesLegend(r),
  ];
}

function relayLegend(r) {
  const x = r.relay;
  const errors = x.firstErrors.length ? ` First errors: ${x.firstErrors.map((e) => e.replace(/\s+/g, ' ')).join('; ')}.` : '';
  return `- Relay: serve/relayload runs ${x.clients} go-libp2p clients in one process (${MiB(x.clientsRSS)} RSS) against a serve of its own serving no files, started with ${x.flags}, over ${x.transport === 'ws' ? 'WebSocket' : x.transport} on loopback. Baseline: each client connects to the relay (connection + identify), 16 at a time, and stays. Then each reserves a slot (${secs(x.seconds.reserve)}), the clients pair up and each pair dials through the relay (${secs(x.seconds.dial)}), and every pair at once echoes ${x.messagesPerPair} messages of ${x.messageBytes} bytes each way (${secs(x.seconds.messages)}), everyone still connected when memory is read. Memory per connection is the growth of serve's VmRSS, read 2 s after each phase, over its reading before any client came, divided by the clients (Go heap headroom included).${errors}`;
}

const us = (x) => `${Math.round(x).toLocaleString('en-US')} µs`;
const perMsg = (x) => `${us(x)} (${rate(1e6 / x)})`;

/**
 * DIDComm authcrypt pack + unpack: PLANET in Chromium against didcomm-rust in Chromium (or,
 * if it could not be loaded there, under Node).
 */
function authcryptRows(r) {
  const { planet, rust } = r.didcomm;
  const inPage = rust.chromium.medianUs !== undefined;
  const base = inPage ? rust.chromium.medianUs : rust.node.medianUs;
  const where = inPage ? 'didcomm-rust wasm in Chromium' : 'didcomm-rust wasm under Node';
  return [
    ['DIDComm authcrypt pack + unpack, 1 KiB basic message (median µs per message, and messages/s)', perMsg(planet.browser.medianUs), `${perMsg(base)} (${where})`, '≤ didcomm-rust', verdict(planet.browser.medianUs <= base)],
    [`  PLANET / ${where.replace(' wasm', '')}`, `${(planet.browser.medianUs / base).toFixed(2)}×`, '', '', ''],
    ['  didcomm-rust wasm under Node (didcomm-node)', '', perMsg(rust.node.medianUs), '', ''],
    ['  PLANET native Go', perMsg(planet.native.medianUs), '', '', ''],
  ];
}

function authcryptLegend(r) {
  const { planet, rust, rounds } = r.didcomm;
  const failed = rust.chromium.error ? ` didcomm-rust could not be run in Chromium (${rust.chromium.error}), so the baseline is didcomm-node under Node.` : '';
  return `- DIDComm authcrypt: Alice packs a basic message of 1,024 bytes of text for Bob, authcrypt (X25519, ECDH-1PU+A256KW, A256CBC-HS512), no forward, no signature, and Bob unpacks it and checks its sender, id and text; ${rounds} such round trips after 20 untimed, timed in batches of 10, median over the batches of the time per message (batches, because a page's clock is coarse; means: PLANET ${us(planet.browser.meanUs)} in Chromium, ${us(planet.native.meanUs)} native). PLANET: the Go benchmark BenchmarkAuthcryptRoundTrip (core/didcomm), compiled to wasm and run inside this Chromium by wasmbrowsertest, and natively; Alice and Bob are did:peer:2 DIDs, resolved from the DID string at each pack and unpack. didcomm-rust: the DIF reference implementation compiled to wasm, the npm package didcomm-node ${rust.version}, run by web/test/bench/didcomm-roundtrip.js under Node and in a Chromium page that loads didcomm-node's own files (its wasm-bindgen glue, with util, fs and path given by the page), both on the main thread; its DIDs are did:example documents with X25519 JsonWebKey2020 keys made by WebCrypto, answered by a JavaScript resolver.${failed}`;
}

/** The mediator under load: serve/mediatorload's report, the mediator beside the plain WebSocket floor. */
function mediatorRows(r) {
  const x = r.mediator;
  const m = x.mediator;
  const f = x.floor;
  const total = x.clients * x.messagesPerClient;
  const ok = x.errors === 0 && m.connected === x.clients && m.delivered === total && m.answered === total;
  return [
    [`DIDComm mediator: ${x.clients.toLocaleString('en-US')} clients in live pickup, ${total.toLocaleString('en-US')} messages forwarded`, `${m.errors} errors (${m.delivered.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} delivered live)`, `${f.errors} errors (plain WebSocket floor)`, '0 errors', verdict(ok)],
    [`  messages/s, POST forward → live delivery (${x.senders} POSTs at once)`, rate(m.messagesPerSecond), `${rate(f.messagesPerSecond)} (floor)`, '', ''],
    ['  latency POST → delivery, median / p99', `${fineMs(m.latencyMs.p50)} / ${fineMs(m.latencyMs.p99)}`, `${fineMs(f.latencyMs.p50)} / ${fineMs(f.latencyMs.p99)} (floor)`, '', ''],
    [`  the same, one message at a time (${m.alone}), median / p99`, `${fineMs(m.aloneLatencyMs.p50)} / ${fineMs(m.aloneLatencyMs.p99)}`, `${fineMs(f.aloneLatencyMs.p50)} / ${fineMs(f.aloneLatencyMs.p99)} (floor)`, '', ''],
    ['  server memory per client, Go heap / RSS', `${KiB(m.perClient.heap)} / ${KiB(m.perClient.rss)}`, `${KiB(f.perClient.heap)} / ${KiB(f.perClient.rss)} (floor)`, '', ''],
    ['  server RSS, all clients connected', MiB(m.memory.connected.rss), `${MiB(f.memory.connected.rss)} (floor; ${MiB(m.memory.before.rss)} and ${MiB(f.memory.before.rss)} before)`, '', ''],
    ['  server CPU per message', `${m.serverCPUPerMessageMs.toFixed(2)} ms`, `${f.serverCPUPerMessageMs.toFixed(2)} ms (floor)`, '', ''],
  ];
}

function mediatorLegend(r) {
  const x = r.mediator;
  const m = x.mediator;
  const f = x.floor;
  const errors = [m, f].flatMap((p) => p.firstErrors.map((e) => `${p.server}: ${e.replace(/\s+/g, ' ')}`));
  const grown = (p, what) => p.memory.connected[what] - p.memory.before[what];
  return `- DIDComm mediator: serve/mediatorload starts the mediator in a process of its own (serve/mediator opened as serve opens it, serve's default limits and HTTP timeouts, its store on disk) and runs ${x.clients} clients in its own process: Go, not Chromium, since ${x.clients} tabs do not fit on this machine; they are DIDComm agents of core/didcomm, each with a did:key persona and a did:peer:2 relationship DID naming the mediator. Each opens a WebSocket and, over it, asks for mediation, registers its relationship DID (keylist-update) and turns live delivery on (live-delivery-change), ${secs(m.seconds.connect)} for all, 16 at a time. Then strangers' messages (basic messages of ${x.contentBytes.toLocaleString('en-US')} bytes of text authcrypted to a client's relationship DID, in a forward anoncrypted to the mediator: ${x.forwardBytes.toLocaleString('en-US')} bytes; packed beforehand, as other machines would have) are POSTed to the mediator: the first ${m.alone} one at a time, each once the one before was delivered, then the rest ${x.senders} at a time (${secs(m.seconds.messages)}), message j to client j mod ${x.clients}. Every client reads its live deliveries (authcrypted by the mediator), checks each byte for byte against what its sender forwarded, acknowledges it (messages-received) and reads the answer (status); after the last, no message may wait. Latency is from the start of the POST to the delivery read and checked by its client; messages/s is the load's, from its first POST to its last delivery. Baseline (the floor): the same program's plain WebSocket server in a process of its own, the same net/http server and timeouts, the same WebSocket library and buffers, each connection held as the mediator holds it (one writer, a queue of 16, pings, deadlines), the same clients, the same POSTed bytes delivered live and acknowledged, but no DIDComm (nothing decrypted, encrypted or resolved) and no store. It is the honest floor: moving a POSTed message onto a client's open WebSocket and hearing it acknowledged is the least any live-delivery mediator does; everything above it is DIDComm and the mediator's durable queue (a bbolt commit on each arrival and each acknowledgement). A plain HTTP echo holds no connection, so it would say nothing of live delivery or memory per client. Memory is the server's Go heap (live objects, after a collection) and VmRSS, each read 1 s after the clients connected, minus before any came, divided by the clients; of the mediator's RSS growth (${MiB(m.memory.connected.rss - m.memory.before.rss)}; floor ${MiB(f.memory.connected.rss - f.memory.before.rss)}), ${MiB(grown(m, 'heap'))} is live heap (floor ${MiB(grown(f, 'heap'))}), ${MiB(grown(m, 'heapHeld') - grown(m, 'heap'))} heap the Go runtime holds free after the setup's cryptography (floor ${MiB(grown(f, 'heapHeld') - grown(f, 'heap'))}), ${MiB(grown(m, 'stacks'))} goroutine stacks (floor ${MiB(grown(f, 'stacks'))}) and ${MiB(grown(m, 'rssFile'))} its store's file mapped in memory. Clients and servers share this machine's CPUs: during the load the mediator used ${m.cpuSeconds.server.toFixed(1)} s of CPU and the clients ${m.cpuSeconds.clients.toFixed(1)} s (floor ${f.cpuSeconds.server.toFixed(1)} s and ${f.cpuSeconds.clients.toFixed(1)} s); the clients' process held ${MiB(x.clientsRSS)}.${errors.length ? ` First errors: ${errors.join('; ')}.` : ''}`;
}

const kB = (bytes) => `${(bytes / 1e3).toFixed(1)} kB`;

/** The visitor's bytes for one page: its HTML and every stylesheet and script it names, br as served. */
function pageBytes(w, assets, which) {
  const own = assets.filter((a) => w.usedBy[a]?.includes(which));
  return { br: w[which].br + own.reduce((n, a) => n + w[a].br, 0), plain: w[which].plain + own.reduce((n, a) => n + w[a].plain, 0), own };
}

/** First Person Pages: did:webvh resolution against didwebvh-ts, the public page's TTFB and weight. */
function pagesRows(r) {
  const { resolve: v, page: p } = r.pages;
  const w = p.weight;
  const first = pageBytes(w, p.assets, 'page');
  const post = pageBytes(w, p.assets, 'post');
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const size = (x) => `${kB(x.plain)} raw, ${kB(x.gzip)} gzip, ${kB(x.br)} br`;
  return [
    [`resolve a ${v.log.entries}-entry did:webvh log under pre-rotation in Chromium (median, full verification)`, fineMs(v.planet.browser.medianMs), `${fineMs(v.ts.medianMs)} (didwebvh-ts ${v.ts.version} in Chromium)`, '≤ 100 ms', verdict(v.planet.browser.medianMs <= TARGET.webvhResolveMs)],
    ['  PLANET / didwebvh-ts', ratio(v.planet.browser.medianMs, v.ts.medianMs), '', '', ''],
    ['  PLANET native Go', fineMs(v.planet.native.medianMs), '', '', ''],
    ['public page: time to first byte, GET /<name>/ (median, loopback, warm)', fineMs(p.ttfbMs.page), `${fineMs(p.ttfbMs.static)} (static index.html)`, 'none set', ''],
    ['  a post page', fineMs(p.ttfbMs.post), '', 'none set', ''],
    ['public page: bytes a visitor loads (HTML + CSS + scripts, br as served)', `${kB(first.br)} (${kB(first.plain)} raw)`, `${kB(w.static.br)} br, ${kB(w.static.plain)} raw (static index.html alone)`, '≤ 100 kB', verdict(first.br <= TARGET.pageWeightBytes)],
    ['  a post page', `${kB(post.br)} (${kB(post.plain)} raw)`, '', '≤ 100 kB', verdict(post.br <= TARGET.pageWeightBytes)],
    [`  with scripts on, + what verify.js fetches for the page (${w.fetched.page.files.length} files)`, `${kB(first.br + w.fetched.page.br)} (${kB(w.fetched.page.br)} fetched)`, '', '≤ 100 kB', verdict(first.br + w.fetched.page.br <= TARGET.pageWeightBytes)],
    [`  with scripts on, + what verify.js fetches for a post (${w.fetched.post.files.length} files)`, `${kB(post.br + w.fetched.post.br)} (${kB(w.fetched.post.br)} fetched)`, '', '≤ 100 kB', verdict(post.br + w.fetched.post.br <= TARGET.pageWeightBytes)],
    ['  time to first byte, page / static', ratio(p.ttfbMs.page, p.ttfbMs.static), '', '', ''],
    ['  HTML of the page', size(w.page), '', '', ''],
    ['  HTML of a post', size(w.post), '', '', ''],
    ...p.assets.map((a) => [`  ${a}`, size(w[a]), '', '', '']),
  ];
}

function pagesLegend(r) {
  const { resolve: v, page: p } = r.pages;
  return [
    `- did:webvh resolution: one log of ${v.log.entries} entries (${kB(v.log.bytes)}, SHA-256 ${v.log.sha.slice(0, 16)}…) made by web/test/bench/testdata/webvhlog: entry 1 creates the DID with pre-rotation on, each later entry is signed by the key the one before committed to, names it as the update key and commits to the next (pre-rotation to the end), and carries a new DID document (an Ed25519 authentication/assertion key, an X25519 key-agreement key, two services). Each resolution parses did.jsonl from its text and resolves the latest version, verifying every entry (SCID, hash chain, versionTime, eddsa-jcs-2022 proof, pre-rotation commitment). PLANET: the Go benchmark BenchmarkResolve100 (ParseLog + webvh.Resolve), which makes the same log in the page (its SHA-256 checked against the one given to the baseline), compiled to wasm and run inside this Chromium by wasmbrowsertest, ${v.planet.browser.rounds} resolutions, median (mean ${fineMs(v.planet.browser.meanMs)}); natively ${fineMs(v.planet.native.medianMs)}. Baseline: didwebvh-ts ${v.ts.version} (npm), bundled by esbuild (minified, browser build) into a page of this Chromium served from loopback, resolveDIDFromLog on the JSON-parsed lines with requestedDid set and a verifier over WebCrypto Ed25519 (Chromium's native code, the fastest a page has; didwebvh-ts refuses to resolve without a verifier), ${v.ts.rounds} resolutions after ${v.ts.warm} untimed, median; it resolved the same last versionId.`,
    `- Public page: a serve of its own (build/bin/serve on loopback, as the e2e tests start it); a person's tab creates a vault, a page named alice (a did:webvh hosted by the server), a profile and ${p.posts} posts of four paragraphs each, through the page's own controls as e2e/page.test.js does. Time to first byte: Node's http client over one keep-alive connection, from sending the request to its response's head, GET ${p.paths.page} and ${p.paths.post} with the page's Host header, and the same server's static /index.html (the client's start page, a plain file of the same server) as the baseline; ${p.warm} untimed rounds, then ${p.rounds} rounds taking turns, median, bodies read whole. Weight: the HTML of the page and of a post, and every stylesheet and script they name (${p.assets.join(', ') || 'none'}), asked for with no Accept-Encoding, with gzip and with br (a size equal to the raw one means the server sent it uncompressed); with scripts on, verify.js also fetches the page's did.jsonl and the signed documents its verification section names (for the page: ${p.weight.fetched.page.files.join(', ')}; for the post: ${p.weight.fetched.post.files.join(', ')}), counted as br as served. The target of 100 kB (br) for everything a visitor loads for one page is this bench's own, for a page that stays small; the issue sets none, nor one for time to first byte.`,
  ];
}

/** Plain text, columns padded to line up. */
function formatText(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => [...row[c]].length)));
  const line = (row) => row.map((cell, c) => cell + ' '.repeat(widths[c] - [...cell].length)).join(' | ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)].join('\n');
}

function formatMarkdown(rows) {
  const esc = (s) => (s.startsWith('  ') ? `↳ ${s.trim()}` : s).replace(/\|/g, '\\|');
  const line = (row) => `| ${row.map((c) => esc(c)).join(' | ')} |`;
  return [line(rows[0]), `|${rows[0].map(() => ' --- ').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

// --- docs/benchmarks.md ------------------------------------------------------

const MARKER = '<!-- make bench adds each run below this line, newest first -->';
const INTRO = `# PLANET benchmarks

\`make bench\` (web/test/bench/bench.js) measures PLANET in headless Chromium against baselines
measured in the same run: raw IndexedDB with WebCrypto in plain JS, and a hello-world Go wasm
for the Go runtime floor. Targets come from the performance table in the design. Timings never
fail a build; the verdict only says whether a target is met on that machine. Each run adds its
figures here with the date and the machine, newest first, so the trend stays visible.
Units: 1 MB = 10^6 bytes, MiB = 2^20 bytes.

${MARKER}
`;

async function recordRun(r, rows, legend) {
  const file = join(root, 'docs/benchmarks.md');
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = INTRO;
  }
  if (!text.includes(MARKER)) text = `${text.trimEnd()}\n\n${MARKER}\n`;
  const date = new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
  const m = r.machine;
  const run = [
    '',
    `## ${date} · PLANET ${r.version}`,
    '',
    `Machine: ${m.nproc} CPUs (nproc), ${m.model}, ${m.memGiB} GiB RAM · ${m.chromium} headless · ${m.go} · Node ${m.node.slice(1)}. Load average (1 min) ${loadLine(r.load)}. Run took ${r.seconds.toFixed(0)} s.`,
    '',
    formatMarkdown(rows),
    '',
    ...legend,
    '',
  ].join('\n');
  const at = text.indexOf(MARKER) + MARKER.length;
  await writeFile(file, `${text.slice(0, at)}\n${run}${text.slice(at).replace(/^\n*/, '\n')}`.replace(/\n{3,}/g, '\n\n'));
}

// Last, so that everything above is initialised.
try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const f of cleanup.reverse()) await f().catch((e) => console.error('cleanup:', e));
}
