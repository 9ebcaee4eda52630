// Shared by the end-to-end tests and the benchmark: a real PLANET server
// (build/bin/serve) on a free loopback port, and real Chromium profiles,
// one per simulated person.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts `serve` and resolves to {url, pid, log, stop}. By default on a free
 * loopback port, serving build/www; its relay node always takes free ports.
 * `args` are more flags for serve, after those (the relay's limits, say).
 */
export async function startServer({ addr = '127.0.0.1:0', www = join(root, 'build/www'), args = [] } = {}) {
  const proc = spawn(join(root, 'build/bin/serve'), ['-addr', addr, '-relay-port', '0', '-root', www, '-data', await tempDir('planet-data-'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  proc.stderr.on('data', (d) => log.push(String(d)));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/PLANET serving on (http:\/\/\S+\/)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log.join('')}`)));
  });
  return {
    url,
    pid: proc.pid,
    log,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
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
