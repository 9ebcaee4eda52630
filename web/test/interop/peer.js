// A js-libp2p peer for the browser, bundled by ../interop.js. It proves that
// PLANET's relay and browser node speak the libp2p WebRTC spec with an
// independent implementation (relay reservation, a /p2p-circuit/webrtc
// address, SDP and ICE over /webrtc-signaling/0.0.1), and it is the baseline
// `make bench` measures PLANET's direct connections against.
//
// Everything is reached through window.jsPeer, one peer; window.newJsPeer()
// makes another in the same page. See interop.js for how a test opens a page
// with it.

import { createLibp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { webRTC } from '@libp2p/webrtc';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { multiaddr } from '@multiformats/multiaddr';

const PING = '/ipfs/ping/1.0.0';
const PING_BYTES = 32;
export const SINK = '/planet-bench/sink/1.0.0';

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * With media permission Chromium hands WebRTC the machine's own addresses as
 * ICE candidates instead of mDNS names, which a peer on the same host without
 * a resolver could not use. The tracks are stopped at once.
 */
async function allowHostCandidates() {
  try {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of media.getTracks()) t.stop();
    return true;
  } catch {
    return false;
  }
}

/** Reads a stream as a sequence of exact-length records. */
function reader(stream) {
  const it = stream[Symbol.asyncIterator]();
  let held = new Uint8Array(0);
  return async function read(n) {
    while (held.byteLength < n) {
      const { value, done } = await it.next();
      if (done) throw new Error(`the stream ended ${held.byteLength} bytes into a ${n}-byte read`);
      const chunk = value.subarray();
      const joined = new Uint8Array(held.byteLength + chunk.byteLength);
      joined.set(held, 0);
      joined.set(chunk, held.byteLength);
      held = joined;
    }
    const out = held.subarray(0, n);
    held = held.subarray(n);
    return out;
  };
}

/** Sends data, waiting while the stream's buffer is full. */
async function send(stream, data) {
  if (!stream.send(data)) await stream.onDrain();
}

function describe(conn) {
  return {
    remoteAddr: conn.remoteAddr.toString(),
    limited: conn.limits != null,
    direction: conn.direction,
  };
}

// @libp2p/webrtc (6.0.33) can miss its own connection: the listener closes
// the dialler's "init" data channel as soon as it arrives, and when that
// happens before the dialler's RTCPeerConnection reports "connected", the
// dialler then waits for the already closed channel to open, until the dial
// times out (6 s). Dials of /webrtc addresses are therefore tried up to this
// many times; results say how many it took.
const DIAL_ATTEMPTS = 3;

/**
 * Dials addr (a multiaddr string) from node; resolves to the connection
 * libp2p chose and the number of dials it took.
 */
async function connect(node, addr) {
  const ma = multiaddr(addr);
  for (let attempts = 1; ; attempts++) {
    try {
      return { conn: await node.dial(ma), attempts };
    } catch (err) {
      if (attempts >= DIAL_ATTEMPTS || !addr.includes('/webrtc/')) throw err;
      console.warn(`dial ${attempts} of ${addr} failed, trying again: ${err.name}: ${err.message}`);
    }
  }
}

/** Sinks a stream: counts what arrives until the remote stops writing, answers the count. */
async function sink(stream) {
  let n = 0;
  try {
    for await (const chunk of stream) n += chunk.byteLength;
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigUint64(0, BigInt(n));
    await send(stream, count);
    await stream.close();
  } catch (err) {
    stream.abort(err);
  }
}

/** Round trips on the ping protocol over one stream of conn; returns each RTT in ms. */
async function pingOver(conn, count, warmup = 0) {
  const stream = await conn.newStream(PING);
  try {
    const read = reader(stream);
    const rtts = [];
    for (let i = 0; i < warmup + count; i++) {
      const data = crypto.getRandomValues(new Uint8Array(PING_BYTES));
      const t0 = now();
      await send(stream, data);
      const echo = await read(PING_BYTES);
      const ms = now() - t0;
      if (!echo.every((b, j) => b === data[j])) throw new Error('the ping came back different');
      if (i >= warmup) rtts.push(ms);
    }
    await stream.close();
    return rtts;
  } catch (err) {
    stream.abort(err);
    throw err;
  }
}

/** A js-libp2p peer, not started yet. */
function newPeer() {
  /** @type {import('libp2p').Libp2p | undefined} */
  let node;
  const need = () => {
    if (!node) throw new Error('the peer has not been started');
    return node;
  };
  const connectTo = (addr) => connect(need(), addr);

  const jsPeer = {
    /**
     * Starts the node, connects to the relay at relayAddr and waits until the
     * reservation holds and a /p2p-circuit/webrtc address is listed.
     * @returns {Promise<{peerId: string, addrs: string[]}>}
     */
    async start(relayAddr, { timeoutMs = 30_000 } = {}) {
      if (node) throw new Error('the peer is already started');
      await allowHostCandidates();
      node = await createLibp2p({
        addresses: { listen: ['/p2p-circuit', '/webrtc'] },
        transports: [
          // Plain ws:// on loopback: this version has no dial filter of its own;
          // the default browser gater that refuses ws:// and private addresses
          // is replaced below.
          webSockets(),
          circuitRelayTransport(),
          // Loopback only: no STUN or TURN, host candidates are enough.
          webRTC({ rtcConfiguration: { iceServers: [] } }),
        ],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionGater: { denyDialMultiaddr: () => false },
        // The connection monitor pings every connection now and then on the
        // ping protocol too: room for its stream beside a timed one.
        services: { identify: identify(), ping: ping({ maxOutboundStreams: 4 }) },
      });
      await node.handle(SINK, sink, { maxInboundStreams: 16 });
      await node.dial(multiaddr(relayAddr));
      const end = Date.now() + timeoutMs;
      for (;;) {
        const addrs = jsPeer.addresses();
        if (addrs.some((a) => a.includes('/p2p-circuit/webrtc'))) return { peerId: node.peerId.toString(), addrs };
        if (Date.now() > end) throw new Error(`no /p2p-circuit/webrtc address after ${timeoutMs} ms: ${addrs.join(' ')}`);
        await sleep(50);
      }
    },

    /** This peer's addresses as strings, each ending in /p2p/<its id>. */
    addresses() {
      return need().getMultiaddrs().map(String);
    },

    /**
     * One ping over the connection a dial of addr gives (a /p2p-circuit/webrtc
     * address: a direct WebRTC connection signalled through the relay).
     * @returns {Promise<{ms: number, remoteAddr: string, limited: boolean, attempts: number}>}
     */
    async ping(addr) {
      // Right after a hang-up, the connection a redial gives can refuse the
      // ping protocol (seen about once in ten runs: "could not negotiate
      // /ipfs/ping/1.0.0"), as a limited connection does; the caller checks
      // that the connection it finally pinged over is a direct WebRTC one, so
      // one more dial is allowed and counted in attempts, not hidden.
      for (let tries = 1; ; tries++) {
        const { conn, attempts } = await connectTo(addr);
        try {
          const [ms] = await pingOver(conn, 1);
          const { remoteAddr, limited } = describe(conn);
          return { ms, remoteAddr, limited, attempts: attempts + tries - 1 };
        } catch (err) {
          if (tries >= DIAL_ATTEMPTS || err?.name !== 'UnsupportedProtocolError') throw err;
          console.warn(`ping over ${describe(conn).remoteAddr} (limited: ${describe(conn).limited}) refused, dialling again: ${err.message}`);
          await conn.close().catch(() => {});
        }
      }
    },

    /**
     * count pings on one stream after warmup untimed ones.
     * @returns {Promise<{rtts: number[], remoteAddr: string, limited: boolean, attempts: number}>}
     */
    async pings(addr, count = 100, warmup = 10) {
      const { conn, attempts } = await connectTo(addr);
      const rtts = await pingOver(conn, count, warmup);
      const { remoteAddr, limited } = describe(conn);
      return { rtts, remoteAddr, limited, attempts };
    },

    /** Open connections to the peer with that ID. */
    connections(peerId) {
      return need().getConnections()
        .filter((c) => c.remotePeer.toString() === peerId && c.status === 'open')
        .map(describe);
    },

    /** Closes every connection to the peer with that ID. */
    async hangUp(peerId) {
      const n = need();
      const conns = n.getConnections().filter((c) => c.remotePeer.toString() === peerId);
      await Promise.all(conns.map((c) => c.close().catch((err) => c.abort(err))));
    },

    /**
     * Writes totalBytes in chunkBytes pieces on the sink protocol over the
     * connection to addr, closes the write side and waits for the count.
     * @returns {Promise<{ms: number, bytes: number, remoteAddr: string}>}
     */
    async sendBytes(addr, totalBytes, chunkBytes = 64 * 1024) {
      const { conn } = await connectTo(addr);
      const stream = await conn.newStream(SINK);
      const piece = new Uint8Array(chunkBytes);
      for (let i = 0; i < chunkBytes; i += 65536) crypto.getRandomValues(piece.subarray(i, i + 65536));
      try {
        const read = reader(stream);
        const t0 = now();
        for (let sent = 0; sent < totalBytes;) {
          const n = Math.min(chunkBytes, totalBytes - sent);
          await send(stream, n === piece.byteLength ? piece : piece.subarray(0, n));
          sent += n;
        }
        await stream.close();
        const count = await read(8);
        const ms = now() - t0;
        const bytes = Number(new DataView(count.buffer, count.byteOffset, 8).getBigUint64(0));
        if (bytes !== totalBytes) throw new Error(`the sink counted ${bytes} of ${totalBytes} bytes`);
        return { ms, bytes, remoteAddr: conn.remoteAddr.toString() };
      } catch (err) {
        stream.abort(err);
        throw err;
      }
    },

    /**
     * From the start of a dial of a /p2p-circuit/webrtc address to the WebRTC
     * connection being open (upgraded, ready for streams). Any connection to
     * that peer is closed first so the dial makes a new one. steps are the
     * dial's progress events, each with the time since the start. One dial
     * only: a failure (see DIAL_ATTEMPTS) rejects, naming the steps reached.
     * @returns {Promise<{ms: number, remoteAddr: string, limited: boolean, direction: string, steps: {step: string, ms: number}[]}>}
     */
    async timeToDirect(addr) {
      const target = multiaddr(addr);
      const peerId = target.getComponents().findLast((c) => c.name === 'p2p')?.value;
      if (!peerId) throw new Error(`${addr} names no peer`);
      await jsPeer.hangUp(peerId);
      const steps = [];
      const t0 = now();
      let conn;
      try {
        conn = await need().dial(target, {
          onProgress: (e) => steps.push({ step: e.type, ms: Math.round((now() - t0) * 10) / 10 }),
        });
      } catch (err) {
        throw new Error(`${err.name}: ${err.message} (after ${steps.map((s) => `${s.step} at ${s.ms} ms`).join(', ')})`, { cause: err });
      }
      const ms = now() - t0;
      return { ms, ...describe(conn), steps };
    },

    async stop() {
      const n = node;
      node = undefined;
      await n?.stop();
    },
  };
  return jsPeer;
}

globalThis.jsPeer = newPeer();
globalThis.newJsPeer = newPeer;
