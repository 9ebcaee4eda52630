// The js-libp2p peer (interop/peer.js) for tests and the benchmark: bundled
// for the browser with esbuild, served from a small loopback HTTP server, and
// opened in a page of a person's Chromium profile as window.jsPeer.

import { createServer } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { root } from './lib.js';

const OUT = join(root, 'build', 'interop');
const ENTRY = join(root, 'web', 'test', 'interop', 'peer.js');

let built;

/** Bundles interop/peer.js into build/interop/peer.js (once per process); resolves to its path. */
export function buildJsPeer() {
  built ??= (async () => {
    await mkdir(OUT, { recursive: true });
    const outfile = join(OUT, 'peer.js');
    await build({
      entryPoints: [ENTRY],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
    return outfile;
  })();
  built.catch(() => { built = undefined; });
  return built;
}

const INDEX = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>js-libp2p peer</title>
<script type="module" src="/peer.js"></script></head>
<body><p>js-libp2p peer</p></body>
</html>
`;

/**
 * Serves a page that loads the bundle, on a free loopback port.
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function serveJsPeer() {
  const file = await buildJsPeer();
  const files = {
    '/': ['text/html; charset=utf-8', Buffer.from(INDEX)],
    '/peer.js': ['text/javascript; charset=utf-8', await readFile(file)],
    '/peer.js.map': ['application/json', await readFile(`${file}.map`)],
  };
  const sockets = new Set();
  const server = createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) {
      // Chromium asks for a favicon: there is none, and no error for it either.
      if (req.url === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    server,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

let shared;

/** A server for openJsPeer calls that name none; it does not keep the process running. */
function sharedServer() {
  shared ??= serveJsPeer().then((s) => {
    s.server.unref();
    s.server.on('connection', (sock) => sock.unref());
    return s;
  });
  shared.catch(() => { shared = undefined; });
  return shared;
}

/**
 * Opens a page with the js-libp2p peer in a Playwright browser context (a
 * person's profile, launched with webrtcFlags) and waits for window.jsPeer.
 * Grants the microphone so the page's WebRTC offers the host's addresses.
 * @param {import('playwright-core').BrowserContext} context
 * @param {{url?: string}} [opts] a page from serveJsPeer; by default a shared one
 * @returns {Promise<import('playwright-core').Page>}
 */
export async function openJsPeer(context, { url } = {}) {
  url ??= (await sharedServer()).url;
  await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('js peer page error:', e));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`js peer ${m.type()}:`, m.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => typeof globalThis.jsPeer === 'object', null, { timeout: 30_000 });
  return page;
}

/** The relay's WebSocket address from the server's relay.json. */
export async function relayWsAddr(serverUrl) {
  const res = await fetch(new URL('.well-known/planet/relay.json', serverUrl));
  if (!res.ok) throw new Error(`relay.json: HTTP ${res.status}`);
  const info = await res.json();
  const ws = info.addrs.find((a) => /\/tcp\/\d+\/ws\/p2p\//.test(a));
  if (!ws) throw new Error(`relay.json lists no WebSocket address: ${info.addrs.join(' ')}`);
  return { addr: ws, peer: info.peer, info };
}

/**
 * Of a peer's addresses, the /p2p-circuit/webrtc one through the relay at
 * relayAddr (its WebSocket address), else the first /p2p-circuit/webrtc one.
 */
export function circuitWebRTCAddr(addrs, relayAddr) {
  const webrtc = addrs.filter((a) => a.includes('/p2p-circuit/webrtc/'));
  return webrtc.find((a) => relayAddr && a.startsWith(`${relayAddr}/p2p-circuit/`)) ?? webrtc[0];
}
