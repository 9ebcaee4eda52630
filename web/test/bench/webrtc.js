// The bench's WebRTC step: PLANET's browser-to-browser connections, measured
// beside js-libp2p (@libp2p/webrtc) doing the same through the same relay in
// the same run.
//
//  - Connecting: from a node holding a reservation, through the relay to
//    the other, then WebRTC until the connection is usable. PLANET: the Go
//    benchmark BenchmarkWebRTCConnect (webrtc/rtc_test.go), two hosts in one
//    page; js-libp2p: dialling a /p2p-circuit/webrtc address, two peers in
//    one page.
//  - Round trips over the direct connection: libp2p ping, the same way on
//    both sides; and, for PLANET, two people in their own browsers: a chat
//    message to a contact until it is acknowledged delivered (chat.send,
//    which signs it and keeps it in both vaults), and network.ping over the
//    same connection.
//  - Throughput of one stream: 32 MiB in 64 KiB writes, PLANET through
//    BenchmarkWebRTCThroughput, js-libp2p through its own sink protocol.

/* global planet */

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root, person } from '../lib.js';
import { jsBaseline, median } from './jsbaseline.js';
import * as inpage from './inpage.js';

const PASS = 'violet tugboat umbrella quince';
const CHATS = 100; // timed chat messages (median), after WARM_CHATS untimed
// The first messages after the page starts run while Chromium is still
// optimising the hot parts of planet.wasm (about a hundred messages, on the
// bench machine); the steady state comes after. The median of the first
// FIRST_CHATS is reported apart.
const WARM_CHATS = 150;
const FIRST_CHATS = 50;

/**
 * The whole step against the server at serverURL: PLANET's Go benchmarks and
 * chat between two tabs, js-libp2p between two browsers, and a raw data
 * channel in one page (the floor under both).
 */
export async function webrtcStep(serverURL, log = () => {}) {
  const info = await (await fetch(new URL('.well-known/planet/relay.json', serverURL))).json();
  const relay = info.addrs.find((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a));
  if (!relay) throw new Error(`relay.json has no WebSocket address on 127.0.0.1: ${info.addrs.join(' ')}`);
  log('WebRTC: PLANET, Go benchmarks in Chromium');
  const transport = planetTransportBench(relay);
  log('WebRTC: PLANET, chat between two tabs');
  const chat = await planetChatBench(serverURL, log);
  log('WebRTC: js-libp2p, two peers in one page');
  const who = await person({ webrtc: true });
  let js;
  try {
    js = await jsBaseline(relay, who);
  } finally {
    await who.close();
  }
  log('WebRTC: a raw data channel');
  const raw = await rawDataChannel();
  return {
    planet: { ...transport, chatMs: median(chat.chatMs), firstChatMs: median(chat.firstMs), pagePingMs: median(chat.pagePingMs), chats: chat.chatMs.length, firstChats: chat.firstMs.length, warmChats: WARM_CHATS },
    js, raw,
  };
}

/**
 * The floor: two RTCPeerConnections in one page over loopback, plain JS.
 * Round trips of a 64-byte message echoed back (median of 200), and 32 MiB
 * in 16 KiB messages (libp2p's largest frame) with the same bufferedAmount
 * back-pressure as PLANET's streams.
 */
async function rawDataChannel() {
  const p = await person({ webrtc: true });
  try {
    await p.page.goto('about:blank');
    return await p.page.evaluate(async () => {
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
      b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
      const ch = a.createDataChannel('raw');
      ch.binaryType = 'arraybuffer';
      const other = new Promise((resolve) => { b.ondatachannel = (e) => resolve(e.channel); });
      const offer = await a.createOffer();
      await a.setLocalDescription(offer);
      await b.setRemoteDescription(offer);
      const answer = await b.createAnswer();
      await b.setLocalDescription(answer);
      await a.setRemoteDescription(answer);
      const bc = await other;
      bc.binaryType = 'arraybuffer';
      if (ch.readyState !== 'open') await new Promise((r) => { ch.onopen = r; });
      // Round trips: b echoes what it gets while echoing.
      let echo = true;
      let received = 0;
      let done;
      const total = 32 * 2 ** 20;
      bc.onmessage = (m) => {
        if (echo) { bc.send(m.data); return; }
        received += m.data.byteLength;
        if (received >= total) done();
      };
      const rtts = [];
      for (let i = 0; i < 220; i++) {
        const t0 = performance.now();
        await new Promise((r) => { ch.onmessage = r; ch.send(new Uint8Array(64)); });
        if (i >= 20) rtts.push(performance.now() - t0);
      }
      echo = false;
      const finished = new Promise((r) => { done = r; });
      ch.bufferedAmountLowThreshold = 256 * 1024;
      const msg = new Uint8Array(16 * 1024 - 5);
      const t0 = performance.now();
      for (let sent = 0; sent < total;) {
        if (ch.bufferedAmount > 2 ** 20) {
          await new Promise((r) => { ch.onbufferedamountlow = r; });
          continue;
        }
        const n = Math.min(msg.length, total - sent);
        ch.send(n === msg.length ? msg : msg.subarray(0, n));
        sent += n;
      }
      await finished;
      const ms = performance.now() - t0;
      a.close();
      b.close();
      rtts.sort((x, y) => x - y);
      return { rttMs: rtts[rtts.length >> 1], throughputMBps: total / 1e6 / (ms / 1000) };
    });
  } finally {
    await p.close();
  }
}

/** The Go benchmarks in Chromium, against the relay at relayAddr (a WebSocket multiaddr). */
export function planetTransportBench(relayAddr) {
  const env = {
    ...process.env, GOOS: 'js', GOARCH: 'wasm',
    PATH: `${join(root, 'build/bin')}:${process.env.PATH}`, PLANET_TEST_RELAY: relayAddr,
  };
  const out = execFileSync('go', ['test', '-run', '^$', '-bench', '^BenchmarkWebRTC', '-benchtime', '10x', '-count', '1', './webrtc'],
    { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  const line = (name) => {
    const m = out.match(new RegExp(`^BenchmarkWebRTC${name}\\s+\\d+\\s+(.*)$`, 'm'));
    if (!m) throw new Error(`no figure for BenchmarkWebRTC${name}:\n${out}`);
    return m[1];
  };
  const metric = (text, unit) => {
    const m = text.match(new RegExp(`([\\d.]+) ${unit.replace('/', '\\/')}`));
    if (!m) throw new Error(`no ${unit} in "${text}"`);
    return Number(m[1]);
  };
  const connect = line('Connect');
  return {
    connectMs: metric(connect, 'ns/op') / 1e6,
    relayedMs: metric(connect, 'ms/relayed'),
    webrtcMs: metric(connect, 'ms/webrtc'),
    throughputMBps: metric(line('Throughput'), 'MB/s'),
    pingMs: metric(line('Ping'), 'ms/rtt'),
  };
}

/**
 * Two people in their own browsers, connected by invitation (which makes the
 * WebRTC connection), time chat messages from one to the other until each is
 * acknowledged delivered, and pings over the same connection. Every step in
 * a page is bounded, so that one that hangs says which it was.
 */
export async function planetChatBench(serverURL, log = () => {}) {
  const people = [await person({ webrtc: true }), await person({ webrtc: true })];
  try {
    const dids = [];
    for (const [i, p] of people.entries()) {
      await p.context.grantPermissions(['camera', 'microphone']);
      p.page.setDefaultTimeout(60_000);
      p.page.on('crash', () => console.error(`bench: person ${i + 1}'s page crashed`));
      await p.page.goto(serverURL);
      await within(`person ${i + 1}: the core to start`, 60_000, p.page.evaluate(inpage.coreReady));
      dids.push((await within(`person ${i + 1}: a vault`, 60_000, p.page.evaluate((pass) => planet.create(pass), PASS))).did);
    }
    const [alice, bob] = people.map((p) => p.page);
    await waitReserved(alice);
    await waitReserved(bob);
    log('  chat: the two connect by invitation');
    const inv = await alice.evaluate(() => planet.invitations.create({ note: 'bench' }));
    await within('the invitation accepted', 60_000, bob.evaluate((link) => planet.invitations.accept(link), inv.link));
    const bobPeer = (await bob.evaluate(() => planet.network.status())).peerId;
    const kind = await alice.evaluate(async (peer) => {
      for (let i = 0; i < 200; i++) {
        const s = await planet.network.status();
        if (s.connections.some((c) => c.peer === peer && c.kind === 'webrtc')) return 'webrtc';
        await new Promise((r) => setTimeout(r, 50));
      }
      return 'none';
    }, bobPeer);
    if (kind !== 'webrtc') throw new Error('the two tabs made no WebRTC connection');
    log(`  chat: ${WARM_CHATS} + ${CHATS} messages`);
    const all = await within(`${WARM_CHATS + CHATS} chat messages`, 180_000, alice.evaluate(async ({ to, n }) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const m = await planet.chat.send(to, `message ${i}`);
        const t = performance.now() - t0;
        if (m.state !== 'delivered') throw new Error(`message ${i} was ${m.state}`);
        times.push(t);
      }
      return times;
    }, { to: dids[1], n: WARM_CHATS + CHATS }));
    const firstMs = all.slice(0, FIRST_CHATS);
    const chatMs = all.slice(WARM_CHATS);
    const addr = (await bob.evaluate(() => planet.network.status())).addresses.find((a) => a.includes('/p2p-circuit/webrtc/'));
    const pings = [];
    for (let i = 0; i < 25; i++) {
      const r = await within('a ping', 30_000, alice.evaluate((a) => planet.network.ping(a), addr));
      if (r.kind !== 'webrtc') throw new Error(`ping ran over ${r.kind}`);
      if (i >= 5) pings.push(r.ms);
    }
    return { chatMs, firstMs, pagePingMs: pings };
  } finally {
    for (const p of people) await p.close().catch((err) => console.error(`bench: closing a browser: ${err.message}`));
  }
}

/** Resolves as promise does, or rejects naming what after ms. */
function within(what, ms, promise) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function waitReserved(page) {
  await page.waitForFunction(async () => {
    const s = await planet.network.status();
    return s.relays.length > 0 && s.relays.every((r) => r.connected);
  }, null, { polling: 200, timeout: 60_000 });
}
