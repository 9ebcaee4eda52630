// PLANET's service worker: keeps the app shell (the page, its modules, the
// core and the icons) in a cache so that PLANET starts offline and fast.
//
// The server replaces __PLANET_BUILD__ with an id that changes whenever any
// shipped file changes. New id → new bytes here → the browser installs this
// worker afresh into a new cache; it then waits until the page asks it to
// take over ({type: 'skip-waiting'}), so a running page never gets files
// from two versions.
//
// Only the shell is cached. Everything else (/build.json, the resolver,
// relay, mailbox, pages) always goes to the network untouched.

/// <reference lib="webworker" />
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const BUILD = '__PLANET_BUILD__';
const CACHE = `planet-${BUILD}`;

/**
 * The app shell, relative to the worker's scope: every file the page may
 * load, written here at build time from the files shipped (list-files.sh).
 * "./" is the page itself (index.html), cached under the URL the server
 * really serves it at.
 * @type {string[]}
 */
const SHELL = ['./']; // @shell: the build writes the list here

const scope = new URL(sw.registration.scope);
const shellURLs = new Set(SHELL.map((path) => new URL(path, scope).href));
const pageURL = new URL('./', scope).href;

sw.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // 'reload' skips the HTTP cache: the shell must be this build's bytes.
    await cache.addAll(SHELL.map((path) => new Request(new URL(path, scope), { cache: 'reload' })));
  })());
});

sw.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('planet-') && name !== CACHE)
      .map((name) => caches.delete(name)));
    await sw.clients.claim();
  })());
});

sw.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') sw.skipWaiting();
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  url.search = '';
  url.hash = '';
  const bare = url.href;

  if (request.mode === 'navigate') {
    // The page itself (also with a query such as an invitation link): always
    // this version's copy, so the page and its modules match.
    if (bare === pageURL || bare === `${pageURL}index.html`) {
      event.respondWith(cacheFirst(pageURL, request));
      return;
    }
    // Other pages in scope come from the network; offline, the app opens.
    event.respondWith(fetch(request).catch(async () => (await caches.match(pageURL, { cacheName: CACHE })) ?? Response.error()));
    return;
  }

  if (shellURLs.has(bare)) {
    event.respondWith(cacheFirst(bare, request));
  }
});

/**
 * The cached copy of a shell file, or the network's when it is missing
 * (e.g. the cache was evicted).
 * @param {string} key
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function cacheFirst(key, request) {
  const cached = await caches.match(key, { cacheName: CACHE });
  return cached ?? fetch(request);
}
