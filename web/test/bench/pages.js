// The bench's "pages" group (First Person Pages):
//
//  - Resolving a did:webvh log of 100 entries, each rotating the update key
//    under pre-rotation with a new DID document. The log is made once
//    (testdata/webvhlog, Go, deterministic). PLANET: the Go benchmark
//    BenchmarkResolve100 beside it, which makes the same log and times
//    parsing did.jsonl and webvh.Resolve (every entry verified), compiled to
//    wasm and run inside Chromium by wasmbrowsertest, and natively.
//    Baseline: didwebvh-ts (npm) resolving the same bytes in a Chromium page
//    (webvh-resolve.js, bundled by esbuild), its verifier WebCrypto Ed25519.
//  - The public page: a real serve, a person's tab publishing a did:webvh,
//    a profile and posts as e2e/page.test.js does; then time to first byte
//    of the page and of a post (keep-alive, warm, loopback) beside the same
//    server's static index.html, and the weight of what a visitor loads.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import { root, person, startServer } from '../lib.js';

const PASS = 'violet tugboat umbrella quince';
const GO_ROUNDS = 20; // timed resolutions in the Go benchmark (median)
const TS_ROUNDS = 20; // timed resolutions by didwebvh-ts (median), after TS_WARM
const TS_WARM = 3;
const POSTS = 3; // posts on the page
const TTFB_WARM = 20; // untimed requests of each URL first
const TTFB_N = 200; // timed requests of each URL, taking turns (median)

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The resolution half: PLANET in Chromium and native, didwebvh-ts in Chromium, the same log. */
export async function resolveStep(log = () => {}) {
  log('pages: making the 100-entry did:webvh log');
  const logText = execFileSync('go', ['run', './web/test/bench/testdata/webvhlog'], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
  const sha = createHash('sha256').update(logText).digest('hex');
  const entries = logText.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const did = entries[0].state.id;
  const lastVersion = entries.at(-1).versionId;
  log('pages: PLANET resolving it, Go benchmark in Chromium and native');
  const planet = { browser: goBench(true), native: goBench(false) };
  for (const [where, p] of Object.entries(planet)) {
    if (p.sha !== sha) throw new Error(`the Go benchmark (${where}) resolved a log with SHA-256 ${p.sha}, not the one given to didwebvh-ts (${sha})`);
  }
  log('pages: didwebvh-ts resolving it in Chromium');
  const ts = await tsInChromium({ log: logText, rounds: TS_ROUNDS, warm: TS_WARM, did });
  if (ts.versionId !== lastVersion) throw new Error(`didwebvh-ts resolved ${ts.versionId}, want ${lastVersion}`);
  // Its exports map hides package.json: read it beside the package's own directory.
  const { version } = JSON.parse(await readFile(join(root, 'web/test/node_modules/didwebvh-ts/package.json'), 'utf8'));
  return { planet, ts: { medianMs: median(ts.times), rounds: ts.times.length, warm: TS_WARM, version }, log: { bytes: Buffer.byteLength(logText), entries: entries.length, sha } };
}

/** BenchmarkResolve100 in Chromium (through wasmbrowsertest in build/bin) or natively. */
function goBench(browser) {
  const env = { ...process.env };
  if (browser) Object.assign(env, { GOOS: 'js', GOARCH: 'wasm', PATH: `${join(root, 'build/bin')}:${env.PATH}` });
  const out = execFileSync('go', ['test', '-run', '^$', '-bench', '^BenchmarkResolve100$', '-benchtime', `${GO_ROUNDS}x`, '-count', '1', './web/test/bench/testdata/webvhlog'],
    { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /^BenchmarkResolve100(?:-\d+)?\s+(\d+)\s+([\d.]+) ns\/op\s+([\d.]+) median-ns\/op/m.exec(out);
  const h = /^webvh-log sha256=([0-9a-f]{64}) bytes=(\d+) entries=(\d+)$/m.exec(out);
  if (!m || !h) throw new Error(`no figure for BenchmarkResolve100 in the ${browser ? 'browser' : 'native'} Go benchmark:\n${out}`);
  return { medianMs: Number(m[3]) / 1e6, meanMs: Number(m[2]) / 1e6, rounds: Number(m[1]), sha: h[1] };
}

/** didwebvh-ts bundled by esbuild, in a page served from loopback, resolving the log text. */
async function tsInChromium(args) {
  const out = join(root, 'build', 'bench');
  await mkdir(out, { recursive: true });
  const outfile = join(out, 'webvh-resolve.js');
  await build({
    entryPoints: [join(root, 'web/test/bench/webvh-resolve.js')],
    outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, logLevel: 'warning',
  });
  const files = {
    '/': ['text/html; charset=utf-8', '<!doctype html><title>didwebvh-ts</title>'],
    '/webvh-resolve.js': ['text/javascript; charset=utf-8', await readFile(outfile)],
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
    who.page.setDefaultTimeout(300_000);
    await who.page.goto(`http://127.0.0.1:${server.address().port}/`);
    return await who.page.evaluate(async (a) => {
      const { resolveTimes } = await import('/webvh-resolve.js');
      return resolveTimes(a);
    }, args);
  } finally {
    await who.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * The public page: a serve of its own, a person's tab publishing a page with
 * a profile and posts, then time to first byte and weight.
 */
export async function pageStep(log = () => {}) {
  const server = await startServer();
  const alice = await person({ webrtc: true });
  try {
    log(`pages: publishing a page with a profile and ${POSTS} posts from a tab`);
    const page = alice.page;
    page.setDefaultTimeout(60_000);
    await page.goto(server.url);
    await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
    await page.getByLabel('Confirm passphrase').fill(PASS);
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByTestId('did').textContent();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Your page', exact: true }).click();
    await page.getByTestId('page-name').fill('alice');
    await page.getByTestId('page-create').click();
    await page.getByTestId('page-did').textContent();
    const pageURL = new URL(await page.getByTestId('page-url').getAttribute('href') ?? '');
    await page.getByTestId('profile-name').fill('Alice Liddell');
    await page.getByTestId('profile-summary').fill('Gardener, letter writer. Grows tomatoes and writes about them, slowly.');
    await page.getByTestId('profile-links').fill('Garden https://garden.example/alice');
    await page.getByTestId('profile-save').click();
    await page.getByRole('status').filter({ hasText: 'Published.' }).waitFor();
    for (let i = 1; i <= POSTS; i++) {
      const title = `Letter ${i} from the garden`;
      await page.getByTestId('post-title').fill(title);
      await page.getByTestId('post-body').fill(postBody(i));
      await page.getByTestId('post-publish').click();
      await page.getByTestId('page-post').filter({ hasText: title }).waitFor();
    }

    const base = new URL(server.url);
    const host = pageURL.host; // planet.localhost:<port>, the name the page is served under
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const home = await httpGet(base, pageURL.pathname, host, agent);
    if (home.status !== 200) throw new Error(`GET ${pageURL.pathname}: HTTP ${home.status}`);
    const html = home.body.toString('utf8');
    const postPath = [...html.matchAll(/href="([^"]+)"/g)].map((m) => new URL(m[1], pageURL).pathname)
      .find((p) => p.startsWith(pageURL.pathname) && p !== pageURL.pathname && !/\.(css|js|xml|json|jsonl|atom)$|feed/.test(p));
    if (!postPath) throw new Error(`the page links to no post:\n${html}`);
    const paths = { page: pageURL.pathname, post: postPath };

    log(`pages: time to first byte, ${TTFB_N} requests of each after ${TTFB_WARM}`);
    const targets = [['page', paths.page, host], ['post', paths.post, host], ['static', '/index.html', base.host]];
    const ttfb = Object.fromEntries(targets.map(([k]) => [k, []]));
    for (let i = 0; i < TTFB_WARM + TTFB_N; i++) {
      for (const [k, p, h] of targets) {
        const r = await httpGet(base, p, h, agent);
        if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status}`);
        if (i >= TTFB_WARM) ttfb[k].push(r.ttfbMs);
      }
    }
    agent.destroy();

    log('pages: weight');
    const postHTML = (await httpGet(base, paths.post, host)).body.toString('utf8');
    const assets = new Set();
    const usedBy = {};
    for (const [which, doc] of [['page', html], ['post', postHTML]]) {
      for (const m of doc.matchAll(/<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"/g)) {
        const a = new URL(m[1], pageURL).pathname;
        assets.add(a);
        (usedBy[a] ??= []).push(which);
      }
    }
    // With scripts on, verify.js also fetches did.jsonl and the signed documents that the
    // page's verification section names (data-base, data-docs).
    const fetched = {};
    for (const [which, doc] of [['page', html], ['post', postHTML]]) {
      const b = /data-base="([^"]*)"/.exec(doc);
      const d = /data-docs="([^"]*)"/.exec(doc);
      if (!b || !d) throw new Error(`the ${which} has no verification section with data-base and data-docs`);
      const vbase = new URL(b[1].replaceAll('&amp;', '&'), new URL(which === 'page' ? paths.page : paths.post, pageURL));
      fetched[which] = ['did.jsonl', ...d[1].split(' ').filter(Boolean)].map((f) => new URL(f, vbase).pathname);
    }
    /** @type {Record<string, any>} */
    const weight = { usedBy, fetched: {} };
    for (const [which, list] of Object.entries(fetched)) {
      let plain = 0;
      let br = 0;
      for (const f of list) {
        const z = await sizes(base, f, host);
        plain += z.plain;
        br += z.br;
      }
      weight.fetched[which] = { files: list, plain, br };
    }
    for (const [name, p, h] of [['page', paths.page, host], ['post', paths.post, host], ...[...assets].map((a) => [a, a, host]), ['static', '/index.html', base.host]]) {
      weight[name] = await sizes(base, p, h);
    }
    return {
      posts: POSTS, paths, assets: [...assets], rounds: TTFB_N, warm: TTFB_WARM,
      ttfbMs: Object.fromEntries(Object.entries(ttfb).map(([k, v]) => [k, median(v)])),
      weight,
    };
  } finally {
    await alice.close();
    await server.stop();
  }
}

/** A post of a few paragraphs, as a letter would be. */
function postBody(i) {
  const para = 'The tomatoes came up late this year, after a cold May, and the beans climbed the fence before anyone noticed. Neighbours asked for seeds; I kept a list.';
  return Array.from({ length: 4 }, (_, j) => `${para} (${i}.${j + 1})`).join('\n\n');
}

/** GET over loopback with a Host header; resolves to the status, body and time to the first byte of the response. */
function httpGet(base, path, host, agent, headers = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request({ host: base.hostname, port: base.port, path, agent, headers: { host, ...headers } }, (res) => {
      const ttfbMs = Number(process.hrtime.bigint() - start) / 1e6;
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, ttfbMs, body: Buffer.concat(chunks), coding: res.headers['content-encoding'] ?? '' }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes of one URL as served: plain, gzip and br (each as the server answered Accept-Encoding). */
async function sizes(base, path, host) {
  const out = {};
  for (const [k, enc] of [['plain', ''], ['gzip', 'gzip'], ['br', 'br']]) {
    const r = await httpGet(base, path, host, undefined, enc ? { 'accept-encoding': enc } : {});
    if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}`);
    out[k] = r.body.length;
    out[`${k}Coding`] = r.coding;
  }
  return out;
}
