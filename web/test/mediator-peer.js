// A DIDComm peer outside PLANET, with didcomm-node (the DIF reference
// implementation), as a client of a PLANET server's mediator: it asks for
// mediation, registers its DIDs, sends messages routed through the mediator
// their recipients' DIDs name, and picks up what waits for it. The end-to-end
// tests use it as the other side of a PLANET tab on the First Person Network.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Message } = require('didcomm-node');

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bytes of a base58btc string (Bitcoin's alphabet). */
function unbase58(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  const out = [];
  while (n > 0n) {
    out.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const c of s) {
    if (c !== '1') break;
    out.unshift(0);
  }
  return Uint8Array.from(out);
}

/**
 * A DID document from the PLANET server's resolver (Multikey), in the form
 * didcomm-node reads (JsonWebKey2020, absolute ids).
 * @param {string} serverURL
 * @param {string} did
 */
export async function resolvedDoc(serverURL, did) {
  const resp = await fetch(`${serverURL}1.0/identifiers/${encodeURIComponent(did)}`);
  assert.equal(resp.status, 200, `resolving ${did}`);
  const body = await resp.json();
  const doc = body.didDocument ?? body;
  const abs = (ref) => (ref.startsWith('#') ? did + ref : ref);
  return {
    id: did,
    verificationMethod: doc.verificationMethod.map((vm) => {
      const key = unbase58(vm.publicKeyMultibase.slice(1));
      const crv = key[0] === 0xed ? 'Ed25519' : 'X25519';
      return { id: abs(vm.id), type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv, x: Buffer.from(key.slice(2)).toString('base64url') } };
    }),
    authentication: (doc.authentication ?? []).map(abs),
    keyAgreement: (doc.keyAgreement ?? []).map(abs),
    service: (doc.service ?? []).map((s) => ({
      id: abs(s.id), type: s.type,
      serviceEndpoint: { uri: s.serviceEndpoint.uri, accept: s.serviceEndpoint.accept ?? ['didcomm/v2'], routingKeys: s.serviceEndpoint.routingKeys ?? [], routing_keys: s.serviceEndpoint.routingKeys ?? [] },
    })),
  };
}

/** Posts a packed message; returns its status and answer. */
export async function post(url, packed) {
  const resp = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/didcomm-encrypted+json' }, body: packed });
  return { status: resp.status, body: await resp.text() };
}

/**
 * @typedef {{did: string, doc: object, secrets: {id: string}[]}} Party
 *   a DID with its document and secrets in didcomm-node's shapes
 */

/** A client of a PLANET server's mediator holding one or more DIDs. */
export class MediatorPeer {
  #n = 0;

  /**
   * @param {string} serverURL the PLANET server, ending in "/"
   * @param {{did: string, didDocument: any}} mediator what GET /didcomm says
   * @param {Party[]} parties the peer's DIDs; the first is the mediation client
   */
  constructor(serverURL, mediator, parties) {
    this.serverURL = serverURL;
    this.mediator = mediator.did;
    this.url = mediator.didDocument.service[0].serviceEndpoint.uri;
    this.client = parties[0].did;
    /** @type {Record<string, object>} */
    this.docs = Object.fromEntries(parties.map((p) => [p.did, p.doc]));
    this.secretList = parties.flatMap((p) => p.secrets);
    this.resolver = { resolve: async (did) => this.docs[did] ?? null };
    this.secrets = {
      get_secret: async (id) => this.secretList.find((s) => s.id === id) ?? null,
      find_secrets: async (ids) => ids.filter((id) => this.secretList.some((s) => s.id === id)),
    };
  }

  /**
   * Joins the mediator: mediation granted to the first party, every
   * party's DID registered, so that what is sent to any of them waits here.
   * @param {string} serverURL
   * @param {Party[]} parties
   */
  static async join(serverURL, parties) {
    const mediator = await (await fetch(`${serverURL}didcomm`)).json();
    const peer = new MediatorPeer(serverURL, mediator, parties);
    await peer.learn(mediator.did);
    const grant = await peer.ask('https://didcomm.org/coordinate-mediation/2.0/mediate-request', {});
    assert.equal(grant.body.routing_did, mediator.did);
    const updated = await peer.ask('https://didcomm.org/coordinate-mediation/2.0/keylist-update',
      { updates: parties.map((p) => ({ recipient_did: p.did, action: 'add' })) });
    assert.ok(updated.body.updated.every((u) => u.result === 'success'), JSON.stringify(updated.body));
    return peer;
  }

  /** Resolves did with the server's resolver, for didcomm-node. */
  async learn(/** @type {string} */ did) {
    this.docs[did] ??= await resolvedDoc(this.serverURL, did);
  }

  /** Asks the mediator something and reads its answer (authcrypt both ways). */
  async ask(/** @type {string} */ type, /** @type {object} */ body) {
    const m = new Message({
      id: `peer-${++this.#n}-${Date.now()}`, typ: 'application/didcomm-plain+json', type, from: this.client, to: [this.mediator],
      created_time: Math.floor(Date.now() / 1000), body, return_route: 'all',
    });
    const [packed] = await m.pack_encrypted(this.mediator, this.client, null, this.resolver, this.secrets, { forward: false });
    const r = await post(this.url, packed);
    assert.equal(r.status, 200, `${type}: ${r.body}`);
    const [answer, meta] = await Message.unpack(r.body, this.resolver, this.secrets, {});
    assert.equal(meta.authenticated, true, `the answer to ${type} is authcrypted by the mediator`);
    return answer.as_value();
  }

  /**
   * Sends a plaintext message (an object with id, type, from, to…)
   * authcrypt from its sender to its one recipient, routed by didcomm-node
   * through the mediator the recipient's DID names.
   */
  async send(/** @type {any} */ plain) {
    const to = plain.to[0];
    await this.learn(to);
    const [packed, meta] = await new Message(plain).pack_encrypted(to, plain.from, null, this.resolver, this.secrets, { forward: true });
    assert.equal(meta.messaging_service?.service_endpoint, this.url, 'routed to the mediator');
    const r = await post(this.url, packed);
    assert.equal(r.status, 202, `sending ${plain.type}: ${r.body}`);
  }

  /**
   * Picks up what waits (at most limit messages), acknowledges it, and
   * returns each message unpacked: {message (the plaintext), metadata}.
   * Senders' DIDs are resolved first with the server's resolver.
   */
  async pickup(limit = 10) {
    const delivery = await this.ask('https://didcomm.org/messagepickup/3.0/delivery-request', { limit });
    if (delivery.type === 'https://didcomm.org/messagepickup/3.0/status') return [];
    assert.equal(delivery.type, 'https://didcomm.org/messagepickup/3.0/delivery');
    const out = [];
    for (const a of delivery.attachments) {
      const data = Buffer.from(a.data.base64, 'base64url').toString('utf8');
      const skid = JSON.parse(Buffer.from(JSON.parse(data).protected, 'base64url').toString('utf8')).skid;
      if (skid) await this.learn(skid.split('#')[0]);
      const [msg, metadata] = await Message.unpack(data, this.resolver, this.secrets, {});
      out.push({ message: msg.as_value(), metadata });
    }
    await this.ask('https://didcomm.org/messagepickup/3.0/messages-received', { message_id_list: delivery.attachments.map((a) => a.id) });
    return out;
  }

  /**
   * Picks up until a message of type arrives (others are kept for later
   * calls), within timeout.
   * @param {string} type
   */
  async next(type, timeout = 30_000) {
    this.waiting ??= [];
    const end = Date.now() + timeout;
    for (;;) {
      const i = this.waiting.findIndex((m) => m.message.type === type);
      if (i >= 0) return this.waiting.splice(i, 1)[0];
      if (Date.now() > end) throw new Error(`no ${type} arrived within ${timeout} ms (waiting: ${this.waiting.map((m) => m.message.type).join(', ') || 'nothing'})`);
      this.waiting.push(...await this.pickup());
      if (!this.waiting.some((m) => m.message.type === type)) await new Promise((r) => setTimeout(r, 300));
    }
  }
}
