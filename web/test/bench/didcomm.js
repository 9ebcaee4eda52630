// The bench's DIDComm steps.
//
//  - Authcrypt pack + unpack of one message: PLANET's Go benchmark BenchmarkAuthcryptRoundTrip
//    (core/didcomm/bench_test.go) compiled to wasm inside Chromium through wasmbrowsertest, and
//    natively; beside it didcomm-rust, the DIF reference implementation, compiled to wasm (the
//    npm package didcomm-node), doing the same (didcomm-roundtrip.js) under Node and inside
//    Chromium, where a page loads didcomm-node's own files, unchanged.
//  - The mediator under load: serve/mediatorload, 500 Go clients in live pickup against the
//    mediator and against a plain WebSocket floor, each server a process of its own.

import { execFile, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root, person } from '../lib.js';
import { authcryptRoundTrips } from './didcomm-roundtrip.js';

const ROUNDS = 300; // timed round trips of each, after 20 untimed, in batches of 10
const N_CLIENTS = 500; // the mediator's clients, all in live mode at once
const MESSAGES = 10; // forwarded to each
const ALONE = 100; // of them first one at a time
const SENDERS = 4; // POSTs under way at once, under load

/** Authcrypt round trips: PLANET in Chromium and native, didcomm-rust under Node and in Chromium. */
export async function authcryptStep(log = () => {}) {
  log(`DIDComm: PLANET authcrypt round trips, Go benchmark in Chromium and native (${ROUNDS})`);
  const planet = { browser: goBench(true), native: goBench(false) };
  log('DIDComm: didcomm-rust (didcomm-node) under Node');
  const require = createRequire(import.meta.url);
  const { Message } = require('didcomm-node');
  const { version } = require('didcomm-node/package.json');
  const node = await authcryptRoundTrips(Message, globalThis.crypto.subtle, { rounds: ROUNDS });
  log('DIDComm: didcomm-rust (didcomm-node\'s files) in Chromium');
  let chromium;
  try {
    chromium = await rustInChromium();
  } catch (e) {
    chromium = { error: String(e?.message ?? e).split('\n')[0] };
  }
  return { planet, rust: { version, node, chromium }, rounds: ROUNDS };
}

/**
 * BenchmarkAuthcryptRoundTrip, in Chromium (GOOS=js GOARCH=wasm, through wasmbrowsertest in
 * build/bin) or natively: µs per message, the median of batches and the mean.
 */
function goBench(browser) {
  const env = { ...process.env };
  if (browser) Object.assign(env, { GOOS: 'js', GOARCH: 'wasm', PATH: `${join(root, 'build/bin')}:${env.PATH}` });
  const out = execFileSync('go', ['test', '-run', '^$', '-bench', '^BenchmarkAuthcryptRoundTrip$', '-benchtime', `${ROUNDS}x`, '-count', '1', './core/didcomm'],
    { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /^BenchmarkAuthcryptRoundTrip(?:-\d+)?\s+(\d+)\s+([\d.]+) ns\/op\s+([\d.]+) median-ns\/msg/m.exec(out);
  if (!m) throw new Error(`no figure for BenchmarkAuthcryptRoundTrip in the ${browser ? 'browser' : 'native'} Go benchmark:\n${out}`);
  return { medianUs: Number(m[3]) / 1e3, meanUs: Number(m[2]) / 1e3, rounds: Number(m[1]) };
}

/**
 * didcomm-rust in a page: didcomm-node's files (index.js, wasm-bindgen's glue for Node, and
 * index_bg.wasm), unchanged, served from loopback; the page runs the glue with the three Node
 * modules it asks for given by the browser's equivalents (util's TextEncoder and TextDecoder,
 * and fs and path to hand it the wasm fetched beside it), then the same round trips as under
 * Node.
 */
async function rustInChromium() {
  const pkg = join(root, 'web/test/node_modules/didcomm-node');
  const files = {
    '/': ['text/html', '<!doctype html><title>didcomm-rust</title>'],
    '/didcomm-roundtrip.js': ['text/javascript', await readFile(join(root, 'web/test/bench/didcomm-roundtrip.js'))],
    '/didcomm-node/index.js': ['text/javascript', await readFile(join(pkg, 'index.js'))],
    '/didcomm-node/index_bg.wasm': ['application/wasm', await readFile(join(pkg, 'index_bg.wasm'))],
  };
  const server = createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const who = await person();
  try {
    who.page.setDefaultTimeout(120_000);
    await who.page.goto(`http://127.0.0.1:${server.address().port}/`);
    return await who.page.evaluate(async (rounds) => {
      const [src, wasm] = await Promise.all([
        fetch('/didcomm-node/index.js').then((r) => r.text()),
        fetch('/didcomm-node/index_bg.wasm').then((r) => r.arrayBuffer()),
      ]);
      const nodeModules = {
        util: { TextEncoder, TextDecoder },
        path: { join: (...parts) => parts.join('/') },
        fs: { readFileSync: () => new Uint8Array(wasm) },
      };
      const module = { exports: {} };
      const require = (name) => {
        if (!(name in nodeModules)) throw new Error(`didcomm-node asks for ${name}`);
        return nodeModules[name];
      };
      // eslint-disable-next-line no-new-func
      new Function('module', 'exports', 'require', '__dirname', src)(module, module.exports, require, '/didcomm-node');
      const { authcryptRoundTrips } = await import('/didcomm-roundtrip.js');
      return authcryptRoundTrips(module.exports.Message, crypto.subtle, { rounds });
    }, ROUNDS);
  } finally {
    await who.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * The mediator under load: serve/mediatorload, built into build/bin, which starts its own
 * servers; resolves to its JSON report. A run with errors still reports (the verdict shows
 * them); one without a report throws.
 */
export async function mediatorStep(log = () => {}) {
  log(`DIDComm mediator: ${N_CLIENTS} clients in live pickup, ${N_CLIENTS * MESSAGES} messages forwarded`);
  const bin = join(root, 'build/bin/mediatorload');
  execFileSync('go', ['build', '-o', bin, './serve/mediatorload'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const args = ['-clients', String(N_CLIENTS), '-messages', String(MESSAGES), '-alone', String(ALONE), '-senders', String(SENDERS), '-json'];
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
    throw new Error(`mediatorload exited with ${code} without a report:\n${stdout}`);
  }
  if ((code === 0) !== (rep.errors === 0)) throw new Error(`mediatorload exited with ${code} reporting ${rep.errors} errors`);
  return rep;
}
