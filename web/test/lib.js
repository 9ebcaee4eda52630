// Shared by the end-to-end tests and the benchmark: a real PLANET server
// (build/bin/serve) on a free loopback port, and real Chromium profiles,
// one per simulated person.

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createNetServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts `serve` and resolves to {url, pid, log, stop, restart}. By default
 * on a free loopback port, serving build/www, with its relay on one free
 * port number for both TCP and UDP; restart() stops the server and starts
 * it again on the same ports with the same data directory, as a machine
 * that reboots would. `args` are more flags for serve, after those (the
 * relay's limits, say).
 */
export async function startServer({ addr = '127.0.0.1:0', www = join(root, 'build/www'), args = [] } = {}) {
  const data = await tempDir('planet-data-');
  const relayPort = await freePortPair();
  const log = [];
  let proc;
  const launch = async (listen) => {
    proc = spawn(join(root, 'build/bin/serve'), ['-addr', listen, '-relay-port', String(relayPort), '-root', www, '-data', data, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const me = proc;
    me.stderr.on('data', (d) => log.push(String(d)));
    return new Promise((resolve, reject) => {
      let out = '';
      me.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/PLANET serving on (http:\/\/\S+\/)/);
        if (m) resolve(m[1]);
      });
      me.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log.join('')}`)));
    });
  };
  const server = {
    url: await launch(addr),
    get pid() { return proc.pid; },
    log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
    async restart() {
      await server.stop();
      const url = await launch(new URL(server.url).host);
      if (url !== server.url) throw new Error(`serve came back on ${url}, not ${server.url}`);
    },
  };
  return server;
}

/**
 * A port number free on 127.0.0.1 for both TCP and UDP, for serve's relay
 * (WebSocket on TCP; QUIC, WebTransport and WebRTC-direct on UDP).
 */
async function freePortPair() {
  for (let i = 0; i < 20; i++) {
    const tcp = createNetServer();
    await new Promise((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', resolve);
    });
    const { port } = tcp.address();
    const udp = createSocket('udp4');
    const free = await new Promise((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise((r) => tcp.close(r));
    if (free) {
      await new Promise((r) => udp.close(r));
      return port;
    }
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

export async function tempDir(prefix) {
  return mkdtemp(join(tmpdir(), prefix));
}

const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * For pages that connect over WebRTC on this machine: ICE may use loopback
 * addresses, and getUserMedia is answered without a prompt with fake devices;
 * a page with that media permission offers the host's addresses instead of
 * mDNS names.
 */
export const WEBRTC_FLAGS = [
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

/**
 * A person: a fresh Chromium profile of their own. With webrtc, Chromium is
 * launched with WEBRTC_FLAGS.
 * @returns {Promise<{context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, dir: string, close: () => Promise<void>}>}
 */
export async function person({ dir, offline = false, webrtc = false } = {}) {
  const own = !dir;
  dir ??= await tempDir('planet-profile-');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: webrtc ? [...FLAGS, ...WEBRTC_FLAGS] : FLAGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    offline,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e));
  return {
    context,
    page,
    dir,
    async close({ keep = !own } = {}) {
      await context.close();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A visitor with no PLANET: a plain Chromium context, scripts on or off,
 * for reading public pages as anyone would.
 * @returns {Promise<{page: import('playwright-core').Page, close: () => Promise<void>}>}
 */
export async function visitor({ javaScript = true } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
  });
  const context = await browser.newContext({ javaScriptEnabled: javaScript });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  return { page, close: () => browser.close() };
}
