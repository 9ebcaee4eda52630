// The did:webvh baseline of the bench's "pages" group: didwebvh-ts (from
// npm) resolving a did.jsonl text in the page, bundled for the browser by
// esbuild (pages.js). Its verifier is WebCrypto's Ed25519, Chromium's own
// native code: the fastest verifier a page has, and didwebvh-ts verifies
// every entry's proof with it as PLANET does (resolveDIDFromLog without a
// verifier refuses to resolve).

import { resolveDIDFromLog } from 'didwebvh-ts';

/** didwebvh-ts's Verifier over WebCrypto Ed25519, keys imported raw. */
const verifier = {
  async verify(signature, message, publicKey) {
    const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
  },
};

/**
 * Resolves the log text `rounds` times after `warm` untimed resolutions:
 * each time parses the JSON lines and resolves the whole log (every entry
 * verified); resolves to the times in ms and the last resolution's versionId.
 * @param {{log: string, rounds: number, warm: number, did: string}} args
 */
export async function resolveTimes({ log, rounds, warm, did }) {
  const times = [];
  let versionId = '';
  for (let i = 0; i < warm + rounds; i++) {
    const start = performance.now();
    const entries = log.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const { meta } = await resolveDIDFromLog(entries, { verifier, requestedDid: did });
    const ms = performance.now() - start;
    if (meta?.error) throw new Error(`didwebvh-ts: ${meta.error}: ${meta.problemDetails?.detail ?? ''}`);
    versionId = meta.versionId;
    if (i >= warm) times.push(ms);
  }
  return { times, versionId };
}
