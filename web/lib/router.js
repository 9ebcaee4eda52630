// The page's router: which view a location hash (#/chat/did:key:…) names,
// with the parameters in it, and the view's module loaded on first visit.
//
// A route's path is segments separated by "/": a literal ("contacts"), a
// parameter (":did", one segment), an optional one (":did?") or a rest
// parameter (":token*", everything after, slashes included). Parameters
// come out decoded. The hash is the route so that the browser's back and
// forward buttons move between views and a link can open one.

/** @typedef {Record<string, string>} Params */

/**
 * A route with its matcher.
 * @template {{path: string}} R
 * @typedef {{route: R, params: Params}} Match
 */

/**
 * The path a hash names: "#/chat/x" → "chat/x".
 * @param {string} hash
 */
export function pathOf(hash) {
  return hash.replace(/^#\/?/, '');
}

/**
 * Matches a path against one route's pattern.
 * @param {string} pattern
 * @param {string} path
 * @returns {Params | null}
 */
export function matchPath(pattern, path) {
  const want = pattern.split('/');
  const got = path === '' ? [] : path.split('/');
  /** @type {Params} */
  const params = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i];
    if (!part.startsWith(':')) {
      if (got[i] !== part) return null;
      continue;
    }
    if (part.endsWith('*')) {
      const rest = got.slice(i).join('/');
      if (rest === '') return null;
      params[part.slice(1, -1)] = safeDecode(rest);
      return params;
    }
    const optional = part.endsWith('?');
    const name = part.slice(1, optional ? -1 : undefined);
    if (got[i] === undefined || got[i] === '') {
      if (!optional) return null;
      continue;
    }
    params[name] = safeDecode(got[i]);
  }
  return got.length <= want.length ? params : null;
}

/** @param {string} s */
function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The first route whose pattern matches the hash.
 * @template {{path: string}} R
 * @param {readonly R[]} routes
 * @param {string} hash
 * @returns {Match<R> | null}
 */
export function match(routes, hash) {
  const path = pathOf(hash);
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return null;
}

/**
 * The hash of a route with its parameters filled in:
 * href('chat/:did?', {did: 'did:key:z…'}) → "#/chat/did%3Akey%3Az…".
 * @param {string} pattern
 * @param {Params} [params]
 */
export function href(pattern, params = {}) {
  const parts = [];
  for (const part of pattern.split('/')) {
    if (!part.startsWith(':')) {
      parts.push(part);
      continue;
    }
    const name = part.slice(1).replace(/[?*]$/, '');
    const value = params[name];
    if (value === undefined || value === '') break;
    parts.push(part.endsWith('*') ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value));
  }
  return `#/${parts.join('/')}`;
}

/**
 * Calls onRoute with the matching route (or the fallback) for the current
 * hash, and again whenever the hash changes, until the returned function is
 * called.
 * @template {{path: string}} R
 * @param {readonly R[]} routes
 * @param {R} fallback
 * @param {(m: Match<R>) => void} onRoute
 * @returns {() => void} stops following
 */
export function follow(routes, fallback, onRoute) {
  const go = () => onRoute(match(routes, location.hash) ?? { route: fallback, params: {} });
  window.addEventListener('hashchange', go);
  go();
  return () => window.removeEventListener('hashchange', go);
}

/**
 * A module loaded on first use: the returned function starts the dynamic
 * import once and hands out the same promise after. A failed load (e.g. the
 * network went away before the module was cached) is tried again next time.
 * @template M
 * @param {() => Promise<M>} load
 * @returns {() => Promise<M>}
 */
export function lazy(load) {
  /** @type {Promise<M> | null} */
  let loading = null;
  return () => {
    loading ??= load().catch((err) => {
      loading = null;
      throw err;
    });
    return loading;
  };
}
