// js-libp2p figures for browser-to-browser WebRTC on this machine, the
// baseline for PLANET's direct connections: two js-libp2p peers
// (interop/peer.js) in one page, as PLANET's two hosts are in its Go
// benchmarks, both holding a reservation on the PLANET server's relay,
// connect over /p2p-circuit/webrtc.
//
// Units as in bench.js: 1 MB = 10^6 bytes, MiB = 2^20 bytes.

import { openJsPeer, circuitWebRTCAddr } from '../interop.js';

const MiB = 2 ** 20;

export const DEFAULTS = {
  directRuns: 7, // timed dials to a direct connection (median)
  pings: 200, // timed pings on one stream (median)
  warmupPings: 20, // untimed pings first
  throughputBytes: 32 * MiB,
  chunkBytes: 64 * 1024,
  throughputRounds: 3, // timed transfers (median)
};

export const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const isDirectWebRTC = (c) => /\/webrtc\//.test(c.remoteAddr) && !c.limited;

/**
 * Measures js-libp2p between two peers in a page of one person's browser (a
 * person from lib.js, launched with {webrtc: true}) through the relay at
 * relayAddr (its WebSocket multiaddr from relay.json). A dials B:
 *  - timeToDirectMs: median time from the start of a dial of B's
 *    /p2p-circuit/webrtc address, with both reservations held and no
 *    connection between them, to the WebRTC connection being open;
 *  - pingMs: median ping RTT over that direct connection after a warm-up;
 *  - throughputMBps: median rate of sending throughputBytes to B's sink over
 *    it, until B has answered how many bytes it got;
 *  - failedDials: timed dials that failed and were made again (not timed).
 * Every run is over a direct (not limited) WebRTC connection, else it throws.
 * @param {string} relayAddr
 * @param {{context: import('playwright-core').BrowserContext}} who
 * @param {Partial<typeof DEFAULTS> & {log?: (s: string) => void}} [opts]
 */
export async function jsBaseline(relayAddr, who, opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  const log = opts.log ?? (() => {});
  let pa;
  try {
    pa = await openJsPeer(who.context);
    pa.setDefaultTimeout(120_000);
    await pa.evaluate((r) => globalThis.jsPeer.start(r), relayAddr);
    const B = await pa.evaluate(async (r) => {
      globalThis.peerB = globalThis.newJsPeer();
      return globalThis.peerB.start(r);
    }, relayAddr);
    const target = circuitWebRTCAddr(B.addrs, relayAddr);
    if (!target) throw new Error(`js peer B has no /p2p-circuit/webrtc address: ${B.addrs.join(' ')}`);
    const direct = (what, r) => {
      if (!isDirectWebRTC(r)) throw new Error(`${what} did not run over a direct WebRTC connection: ${JSON.stringify(r)}`);
    };

    log(`js-libp2p: ${o.directRuns} dials to a direct WebRTC connection`);
    // One untimed dial first warms up both pages. A dial that fails (see
    // DIAL_ATTEMPTS in interop/peer.js) is counted, not timed, and made again.
    const dials = [];
    const failures = [];
    for (let i = 0; dials.length < o.directRuns + 1;) {
      if (++i > 3 * (o.directRuns + 1)) throw new Error(`${failures.length} dials failed: ${failures.join('; ')}`);
      try {
        const r = await pa.evaluate((x) => globalThis.jsPeer.timeToDirect(x), target);
        direct('a dial', r);
        dials.push(r.ms);
      } catch (err) {
        failures.push(String(err.message ?? err).split('\n')[0]);
        log(`  a dial failed: ${failures.at(-1).replace(/\(after .*, ([^,]*)\)$/, '(last step: $1)')}`);
      }
    }
    dials.shift();

    log(`js-libp2p: ${o.pings} pings`);
    const p = await pa.evaluate(([x, n, w]) => globalThis.jsPeer.pings(x, n, w), [target, o.pings, o.warmupPings]);
    direct('ping', p);

    log(`js-libp2p: ${o.throughputRounds} transfers of ${o.throughputBytes / MiB} MiB`);
    const rates = [];
    const send = (bytes) => pa.evaluate(([x, n, c]) => globalThis.jsPeer.sendBytes(x, n, c), [target, bytes, o.chunkBytes]);
    await send(Math.min(o.throughputBytes, 4 * MiB)); // warm-up
    for (let i = 0; i < o.throughputRounds; i++) {
      const r = await send(o.throughputBytes);
      if (!/\/webrtc\//.test(r.remoteAddr)) throw new Error(`a transfer did not run over WebRTC: ${r.remoteAddr}`);
      rates.push(r.bytes / 1e6 / (r.ms / 1000));
    }

    return {
      timeToDirectMs: median(dials),
      pingMs: median(p.rtts),
      throughputMBps: median(rates),
      failedDials: failures.length,
      runs: { timeToDirectMs: dials, pingMs: p.rtts, throughputMBps: rates, failedDials: failures },
      params: { ...o, log: undefined },
    };
  } finally {
    await pa?.evaluate(() => Promise.all([globalThis.jsPeer.stop(), globalThis.peerB?.stop()])).catch(() => {});
    await pa?.close().catch(() => {});
  }
}
