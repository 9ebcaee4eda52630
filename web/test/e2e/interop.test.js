// Interoperability over browser-to-browser WebRTC (the libp2p /webrtc spec)
// with js-libp2p, an implementation PLANET shares no code with. Each peer
// holds a reservation on the real server's relay, listens on
// <relay>/p2p-circuit/webrtc, and a dial of that address signals SDP and ICE
// over /webrtc-signaling/0.0.1 through the relay, then talks directly.
//
// js-libp2p's own dials of /webrtc addresses are retried (see DIAL_ATTEMPTS
// in interop/peer.js for the race in @libp2p/webrtc that makes one fail now
// and then); results say how many dials it took.
//
// Every peer runs in its own Chromium profile (its own browser process),
// launched for WebRTC on loopback (see WEBRTC_FLAGS in lib.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onServer, waitOnline, api, eventually } from '../pages.js';
import { openJsPeer, relayWsAddr, circuitWebRTCAddr } from '../interop.js';

const site = onServer();
const { newPerson, createVault } = site;

/** A js-libp2p peer in a person of its own, started on the relay; resolves to {page, peerId, addrs, addr}. */
async function jsPeer(relay) {
  const p = await newPerson({ webrtc: true });
  const page = await openJsPeer(p.context);
  page.setDefaultTimeout(60_000);
  const { peerId, addrs } = await page.evaluate((r) => globalThis.jsPeer.start(r), relay);
  const addr = circuitWebRTCAddr(addrs, relay);
  assert.ok(addr, `a /p2p-circuit/webrtc address through the relay: ${addrs.join(' ')}`);
  assert.ok(addr.startsWith(`${relay}/p2p-circuit/webrtc/p2p/${peerId}`), addr);
  return { page, peerId, addrs, addr };
}

// The dialler's connection keeps the address it dialled (<relay>/p2p-circuit/webrtc/p2p/<id>);
// the listener's is /webrtc/p2p/<id>.
const isDirectWebRTC = (c) => /\/webrtc\//.test(c.remoteAddr) && !c.limited;

test('two js-libp2p peers connect over WebRTC, signalled through the PLANET relay, both ways', { timeout: 180_000 }, async () => {
  const { addr: relay } = await relayWsAddr(site.server.url);
  const a = await jsPeer(relay);
  const b = await jsPeer(relay);
  assert.notEqual(a.peerId, b.peerId);

  // A dials B's /p2p-circuit/webrtc address and pings over what it got.
  const ab = await a.page.evaluate((x) => globalThis.jsPeer.ping(x), b.addr);
  assert.equal(typeof ab.ms, 'number');
  assert.ok(Number.isFinite(ab.ms) && ab.ms >= 0, `RTT ${ab.ms}`);
  assert.ok(ab.remoteAddr.includes('/webrtc/'), `a WebRTC connection: ${ab.remoteAddr}`);
  assert.equal(ab.limited, false, 'not a limited (relayed) connection');
  const aSees = await a.page.evaluate((id) => globalThis.jsPeer.connections(id), b.peerId);
  assert.ok(aSees.some((c) => isDirectWebRTC(c) && c.direction === 'outbound'), JSON.stringify(aSees));
  const bSees = await b.page.evaluate((id) => globalThis.jsPeer.connections(id), a.peerId);
  assert.ok(bSees.some((c) => isDirectWebRTC(c) && c.direction === 'inbound'), JSON.stringify(bSees));

  // B hangs up and dials A: the new connection is B's own. (A may go on
  // listing the old one for a while: js-libp2p drops it when its
  // RTCPeerConnection fails, which takes ICE consent checks some seconds.)
  await b.page.evaluate((id) => globalThis.jsPeer.hangUp(id), a.peerId);
  const ba = await b.page.evaluate((x) => globalThis.jsPeer.ping(x), a.addr);
  assert.ok(Number.isFinite(ba.ms) && ba.ms >= 0, `RTT ${ba.ms}`);
  assert.ok(ba.remoteAddr.includes('/webrtc/'), `a WebRTC connection: ${ba.remoteAddr}`);
  assert.equal(ba.limited, false, 'not a limited (relayed) connection');
  const bNow = await b.page.evaluate((id) => globalThis.jsPeer.connections(id), a.peerId);
  assert.ok(bNow.some((c) => isDirectWebRTC(c) && c.direction === 'outbound'), JSON.stringify(bNow));

  // Bulk data goes over the direct connection too (the relay would cut a
  // relayed one after 1 MiB).
  const sent = await b.page.evaluate((x) => globalThis.jsPeer.sendBytes(x, 4 << 20, 64 << 10), a.addr);
  assert.equal(sent.bytes, 4 << 20);
  assert.ok(sent.remoteAddr.includes('/webrtc/'), sent.remoteAddr);

  for (const p of [a, b]) await p.page.evaluate(() => globalThis.jsPeer.stop());
});

// PLANET <-> js-libp2p over /webrtc: PLANET's side of browser-to-browser
// WebRTC (network.status().addresses listing <relay>/p2p-circuit/webrtc/p2p/<self>,
// each connection's kind, and network.ping) against an implementation it
// shares no code with, PLANET dialling first, then the js peer.
test('a PLANET tab and a js-libp2p peer connect over WebRTC, both ways', { timeout: 240_000 }, async () => {
  const { addr: relay } = await relayWsAddr(site.server.url);

  const planetTab = await newPerson({ webrtc: true });
  const page = planetTab.page;
  await planetTab.context.grantPermissions(['camera', 'microphone'], { origin: new URL(site.server.url).origin });
  await createVault(page);
  await waitOnline(page);
  // The media permission makes Chromium offer host candidates instead of mDNS names.
  await page.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of media.getTracks()) t.stop();
  });
  const status = await eventually('a /p2p-circuit/webrtc address in PLANET', async () => {
    const s = await api(page, 'network.status');
    return circuitWebRTCAddr(s.addresses ?? [], relay) ? s : undefined;
  });
  const planetPeer = status.peerId;
  const planetAddr = circuitWebRTCAddr(status.addresses, relay);
  assert.ok(planetAddr.endsWith(`/p2p-circuit/webrtc/p2p/${planetPeer}`), planetAddr);

  const js = await jsPeer(relay);

  // 1. PLANET dials the js peer's /p2p-circuit/webrtc address and pings it directly.
  const p1 = await api(page, 'network.ping', js.addr);
  assert.equal(p1.kind, 'webrtc', JSON.stringify(p1));
  assert.ok(Number.isFinite(p1.ms) && p1.ms >= 0, `RTT ${p1.ms}`);
  const seen = (await api(page, 'network.status')).connections.filter((c) => c.peer === js.peerId);
  assert.ok(seen.some((c) => c.kind === 'webrtc' && !c.relayed), JSON.stringify(seen));
  const jsSees = await js.page.evaluate((id) => globalThis.jsPeer.connections(id), planetPeer);
  assert.ok(jsSees.some((c) => isDirectWebRTC(c) && c.direction === 'inbound'), JSON.stringify(jsSees));

  // 2. The js peer hangs up, dials PLANET's /p2p-circuit/webrtc address and
  // pings it: its connection is outbound, so it is the one the js peer made.
  await js.page.evaluate((id) => globalThis.jsPeer.hangUp(id), planetPeer);
  const p2 = await js.page.evaluate((x) => globalThis.jsPeer.ping(x), planetAddr);
  assert.ok(Number.isFinite(p2.ms) && p2.ms >= 0, `RTT ${p2.ms}`);
  assert.ok(p2.remoteAddr.includes('/webrtc/'), `a WebRTC connection: ${p2.remoteAddr}`);
  assert.equal(p2.limited, false, 'not a limited (relayed) connection');
  const jsNow = await js.page.evaluate((id) => globalThis.jsPeer.connections(id), planetPeer);
  assert.ok(jsNow.some((c) => isDirectWebRTC(c) && c.direction === 'outbound'), JSON.stringify(jsNow));
  const back = (await api(page, 'network.status')).connections.filter((c) => c.peer === js.peerId);
  assert.ok(back.some((c) => c.kind === 'webrtc' && !c.relayed), JSON.stringify(back));

  await js.page.evaluate(() => globalThis.jsPeer.stop());
});
