// An OpenVTC-shaped peer in JavaScript: the relationship handshake, its
// relationship-DID binding proofs, the VRC exchange and DTG relationship
// credentials, written from OpenVTC's sources and the W3C specifications so
// that PLANET's Go code (core/fpn, core/vc) can be tested against something
// that is not itself. Nothing here is taken from PLANET's code.
//
// Written from (read December 2026):
//   OpenVTC/openvtc  openvtc-core/src/relationships.rs (RelationshipRequestBody,
//                    RelationshipAcceptBody, RelationshipRejectBody,
//                    RELATIONSHIP_DID_BINDING_TYPE, BindingRole, did_binding,
//                    sign_did_binding, verify_did_binding)
//                    openvtc-core/src/proof_check.rs (verify_signed: the rules
//                    binding a proof to its signer's DID document)
//                    openvtc-core/src/messaging.rs (check_message_age,
//                    MAX_MESSAGE_AGE_SECS, MAX_FUTURE_SKEW_SECS; 48 h expiry)
//                    openvtc-core/src/vrc.rs (VrcRequest, DtgCredentialMessage,
//                    new_identified_vrc)
//   OpenVTC/dtg-credentials  src/lib.rs (DTGCommon, digest_multibase_json),
//                    src/create.rs (new_vrc)
//   affinidi/affinidi-tdk-rs  affinidi-data-integrity (the proof's members)
//   W3C Data Integrity EdDSA Cryptosuites v1.0, eddsa-jcs-2022; W3C VC Data
//   Model 2.0; DIF Peer DID Method (numalgo 2); did:key Method.
// RFC 8785 (JCS) is the npm package canonicalize; Ed25519 and X25519 are
// node:crypto's.
//
// Exports (node >= 20):
//   newParty(mediatorDID) → {did, doc, secrets, resolved, signer, ed25519, x25519}
//       a did:peer:2.V….E….S… in OpenVTC's relationship DID shape (a persona
//       too); doc in didcomm-node 0.4.1's shape (JsonWebKey2020, absolute
//       ids), secrets in didcomm-node's shape, resolved the W3C document
//       (Multikey), signer {did, verificationMethod, privateKey} for #key-1,
//       ed25519/x25519 {privateKey, publicKey (KeyObjects), jwk (private)}
//   resolveDIDKeyOrPeer2(did) → the DID document (Multikey, absolute ids)
//   publicKeyFor(signerDID, verificationMethod, purpose) → Ed25519 KeyObject
//   signBinding({role, did, persona, peer, thid}, signer[, now]) → proof
//   verifyBinding(statement, proof[, signerDID[, now]]) → true, or throws
//   relationshipRequest({persona, rel, peerDID, reason, name, now})
//   relationshipAccept({persona, rel, peerDID, thid, now})
//   relationshipReject({persona, peerDID, thid, reason, now})
//   relationshipFinalize({persona, peerDID, thid, now})
//   vrcRequest({from, to, reason, now}); vrcIssued({from, to, thid, credential, now})
//       plaintext DIDComm messages as plain objects; persona/rel/from are
//       parties (or signers), peerDID/to DIDs
//   checkRequest(msg[, {recipient, now}]) → {did, persona, peer, thid, reason, name}
//   checkAccept(msg, {thid, requester[, now]}) → {did, persona, peer, thid}
//   checkWindow(msg[, now])
//   issueVRC({issuer, subjectDID, scope, validFrom, validUntil, id, now}) → credential
//   verifyVRC(credential[, now]) → {digestMultibase}
//   digestMultibase(credential) → "z…"
//   signerFromJWK({did, jwk, kid}) → signer
// Times (now, validFrom…) are Unix seconds; every check throws an Error whose
// message names what failed.
//
// As a script (node openvtc.mjs): one JSON request {ops: [...]} on standard
// input, one JSON array on standard output with {ok: …} or {error: "…"} per
// operation, in order. Ops: {op: "newParty", mediator, as?} (as names the
// party for later ops of the same request); "resolve" {did};
// "signBinding" {statement, signer, now?}; "verifyBinding" {statement, proof,
// signerDID?, now?}; "relationshipRequest" / "relationshipAccept" /
// "relationshipReject" / "relationshipFinalize" / "vrcRequest" / "vrcIssued"
// with the builder's arguments; "checkRequest" {message, recipient?, now?};
// "checkAccept" {message, thid, requester, now?}; "issueVRC" {issuer,
// subjectDID, …}; "verifyVRC" {credential, now?}; "digestMultibase"
// {credential}. A party or signer argument is a name given with "as", or
// {did, jwk, kid?}: jwk the private Ed25519 JWK (newParty returns it as
// jwk.ed25519), kid the verification method (default #key-1 for did:peer,
// #<multibase> for did:key).

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import canonicalize from 'canonicalize';

// Message types (openvtc-core src/lib.rs protocol_urls, relationships.rs, vrc.rs).
export const TYPES = Object.freeze({
  request: 'https://linuxfoundation.org/openvtc/1.0/relationship-request',
  accept: 'https://linuxfoundation.org/openvtc/1.0/relationship-request-accept',
  reject: 'https://linuxfoundation.org/openvtc/1.0/relationship-request-reject',
  finalize: 'https://linuxfoundation.org/openvtc/1.0/relationship-request-finalize',
  vrcRequest: 'https://firstperson.network/vrc/1.0/request',
  vrcIssued: 'https://firstperson.network/vrc/1.0/issued',
  vrcRejected: 'https://firstperson.network/vrc/1.0/rejected',
});
export const BINDING_TYPE = 'https://linuxfoundation.org/openvtc/1.0/relationship-did-binding';
export const CONTEXT_VC2 = 'https://www.w3.org/ns/credentials/v2';
export const CONTEXT_DTG = 'https://registry.trustoverip.org/dtg/context/v1';
export const CONTEXT_RETIRED = 'https://firstperson.network/credentials/dtg/v1';

// messaging.rs: 48 hours to live, 5 minutes of future skew.
export const MAX_MESSAGE_AGE_SECS = 48 * 60 * 60;
export const MAX_FUTURE_SKEW_SECS = 5 * 60;
// proof_check.rs CREATED_SKEW.
const CREATED_SKEW_SECS = 5 * 60;

const nowSecs = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------
// Encodings: base58btc, multikey, base64url, JCS, times.

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

function unbase58(s) {
  let n = 0n;
  for (const c of s) {
    const v = B58.indexOf(c);
    if (v < 0) throw new Error(`not base58btc: character ${JSON.stringify(c)}`);
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const c of s) {
    if (c !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

const ED25519_PUB = [0xed, 0x01];
const X25519_PUB = [0xec, 0x01];

function multikey(prefix, raw) {
  return 'z' + base58(Uint8Array.from([...prefix, ...raw]));
}

/** Decodes a Multikey: {codec: 'Ed25519' | 'X25519', raw}. */
function decodeMultikey(mb) {
  if (typeof mb !== 'string' || !mb.startsWith('z')) throw new Error(`multikey ${JSON.stringify(mb)} is not multibase base58btc`);
  const bytes = unbase58(mb.slice(1));
  const codec = bytes[0] === 0xed && bytes[1] === 0x01 ? 'Ed25519' : bytes[0] === 0xec && bytes[1] === 0x01 ? 'X25519' : null;
  if (!codec) throw new Error(`multikey ${mb}: codec 0x${bytes[0]?.toString(16)}${bytes[1]?.toString(16)} is neither Ed25519 nor X25519`);
  if (bytes.length !== 34) throw new Error(`multikey ${mb}: ${bytes.length - 2}-byte key, want 32`);
  return { codec, raw: bytes.slice(2) };
}

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');

function unb64u(s) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new Error('not base64url');
  return Buffer.from(s.replace(/=+$/, ''), 'base64url');
}

function jcs(value) {
  return Buffer.from(canonicalize(value), 'utf8');
}

const sha256 = (data) => createHash('sha256').update(data).digest();

/** An RFC 3339 UTC time to the second, as OpenVTC and the TDK write them. */
function rfc3339(secs) {
  return new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Reads an XML Schema dateTimeStamp (RFC 3339 with a zone) as Unix seconds. */
function parseTime(s, what) {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    throw new Error(`${what} ${JSON.stringify(s)} is not an RFC 3339 date-time with a zone`);
  }
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`${what} ${JSON.stringify(s)} is not a date`);
  return Math.floor(ms / 1000);
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------
// Keys.

function edPublicFromRaw(raw) {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) }, format: 'jwk' });
}

function rawPublic(keyObject) {
  return unb64u(keyObject.export({ format: 'jwk' }).x);
}

/** A fresh key pair of kind 'ed25519' or 'x25519'. */
function keyPair(kind) {
  const { privateKey, publicKey } = generateKeyPairSync(kind);
  const jwk = privateKey.export({ format: 'jwk' });
  return { privateKey, publicKey, jwk, raw: unb64u(jwk.x) };
}

/** The default verification method of did: #key-1 for did:peer:2, the key itself for did:key. */
function defaultKid(did) {
  if (did.startsWith('did:key:')) return `${did}#${did.slice('did:key:'.length)}`;
  return `${did}#key-1`;
}

/**
 * A signer from a private Ed25519 JWK: {did, verificationMethod, privateKey}.
 * kid names the verification method (default: see defaultKid).
 */
export function signerFromJWK({ did, jwk, kid }) {
  if (typeof did !== 'string' || !did.startsWith('did:')) throw new Error('signer: no did');
  if (!isObject(jwk) || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new Error('signer: jwk is not a private Ed25519 JWK');
  return { did, verificationMethod: kid ?? defaultKid(did), privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
}

/** The signer of a party or a signer. */
function asSigner(p) {
  if (p?.signer) return p.signer;
  if (p?.privateKey && p?.verificationMethod) return p;
  throw new Error('not a party or a signer');
}

const didOf = (p) => (typeof p === 'string' ? p : p?.did);

// ---------------------------------------------------------------------------
// DIDs: did:peer:2 minting and resolving, did:key resolving.

/** The service OpenVTC gives a relationship DID: its mediator, DIDComm v2. */
function mediatorService(mediatorDID) {
  return { t: 'dm', s: { uri: mediatorDID, accept: ['didcomm/v2'] } };
}

/**
 * A new party: a did:peer:2 with an Ed25519 verification key (V, #key-1),
 * an X25519 key agreement key (E, #key-2) and a DIDCommMessaging service
 * naming mediatorDID (S, #service), the shape openvtc mints for relationship
 * DIDs (and for personas).
 */
export function newParty(mediatorDID) {
  if (typeof mediatorDID !== 'string' || !mediatorDID.startsWith('did:')) throw new Error('newParty: the mediator is not a DID');
  const ed = keyPair('ed25519');
  const x = keyPair('x25519');
  const service = Buffer.from(JSON.stringify(mediatorService(mediatorDID))).toString('base64url');
  const did = `did:peer:2.V${multikey(ED25519_PUB, ed.raw)}.E${multikey(X25519_PUB, x.raw)}.S${service}`;
  const doc = {
    id: did,
    verificationMethod: [
      { id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: ed.jwk.x } },
      { id: `${did}#key-2`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty: 'OKP', crv: 'X25519', x: x.jwk.x } },
    ],
    authentication: [`${did}#key-1`],
    keyAgreement: [`${did}#key-2`],
    service: [{ id: `${did}#service`, type: 'DIDCommMessaging', serviceEndpoint: { uri: mediatorDID, accept: ['didcomm/v2'], routingKeys: [], routing_keys: [] } }],
  };
  const secrets = [
    { id: `${did}#key-1`, type: 'JsonWebKey2020', privateKeyJwk: ed.jwk },
    { id: `${did}#key-2`, type: 'JsonWebKey2020', privateKeyJwk: x.jwk },
  ];
  return {
    did,
    doc,
    secrets,
    resolved: resolveDIDKeyOrPeer2(did),
    signer: { did, verificationMethod: `${did}#key-1`, privateKey: ed.privateKey },
    ed25519: { privateKey: ed.privateKey, publicKey: ed.publicKey, jwk: ed.jwk },
    x25519: { privateKey: x.privateKey, publicKey: x.publicKey, jwk: x.jwk },
  };
}

// did:peer:2 purpose codes (DIF Peer DID Method, numalgo 2). V is listed
// under assertionMethod as well as authentication, as OpenVTC's resolver
// (the TDK) does: relationship DIDs sign their VRCs with #key-1.
const PEER2_PURPOSES = {
  A: ['assertionMethod'],
  E: ['keyAgreement'],
  V: ['authentication', 'assertionMethod'],
  I: ['capabilityInvocation'],
  D: ['capabilityDelegation'],
};
const SERVICE_ABBREVIATIONS = { t: 'type', s: 'serviceEndpoint', r: 'routingKeys', a: 'accept' };
const SERVICE_TYPES = { dm: 'DIDCommMessaging' };

function expandAbbreviated(m) {
  const out = {};
  for (const [k, v] of Object.entries(m)) out[SERVICE_ABBREVIATIONS[k] ?? k] = v;
  return out;
}

function decodePeer2Service(value, did, index) {
  let parsed;
  try {
    parsed = JSON.parse(unb64u(value).toString('utf8'));
  } catch (e) {
    throw new Error(`${did}: service ${index + 1} is not base64url JSON: ${e.message}`);
  }
  if (!isObject(parsed)) throw new Error(`${did}: service ${index + 1} is not a JSON object`);
  const s = expandAbbreviated(parsed);
  if (typeof s.type === 'string') s.type = SERVICE_TYPES[s.type] ?? s.type;
  const ep = (e) => (isObject(e) ? expandAbbreviated(e) : e);
  s.serviceEndpoint = Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint.map(ep) : ep(s.serviceEndpoint);
  const id = typeof s.id === 'string' ? s.id : index === 0 ? '#service' : `#service-${index}`;
  s.id = id.startsWith('#') ? did + id : id;
  return s;
}

/**
 * Resolves a did:key (Ed25519 z6Mk…, X25519 z6LS…) or a did:peer:2 into its
 * DID document, keys as Multikey, every id absolute.
 */
export function resolveDIDKeyOrPeer2(did) {
  if (typeof did !== 'string') throw new Error('resolve: not a DID');
  const doc = { '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'], id: did, verificationMethod: [], authentication: [], assertionMethod: [], keyAgreement: [], capabilityInvocation: [], capabilityDelegation: [], service: [] };
  const addKey = (id, mb, purposes) => {
    doc.verificationMethod.push({ id, type: 'Multikey', controller: did, publicKeyMultibase: mb });
    for (const p of purposes) doc[p].push(id);
  };
  if (did.startsWith('did:key:')) {
    const mb = did.slice('did:key:'.length);
    const { codec, raw } = decodeMultikey(mb);
    if (codec === 'Ed25519') {
      addKey(`${did}#${mb}`, mb, ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation']);
      const xmb = multikey(X25519_PUB, ed25519ToX25519(raw));
      addKey(`${did}#${xmb}`, xmb, ['keyAgreement']);
    } else {
      addKey(`${did}#${mb}`, mb, ['keyAgreement']);
    }
    return doc;
  }
  if (!did.startsWith('did:peer:2.')) throw new Error(`resolve ${did}: only did:key and did:peer:2 are resolved here`);
  let keys = 0;
  let services = 0;
  for (const element of did.slice('did:peer:2.'.length).split('.')) {
    const code = element[0];
    const value = element.slice(1);
    if (!value) throw new Error(`resolve ${did}: an empty element`);
    if (code === 'S') {
      doc.service.push(decodePeer2Service(value, did, services++));
      continue;
    }
    const purposes = PEER2_PURPOSES[code];
    if (!purposes) throw new Error(`resolve ${did}: unknown purpose code ${JSON.stringify(code)}`);
    const { codec } = decodeMultikey(value);
    if ((code === 'E') !== (codec === 'X25519')) throw new Error(`resolve ${did}: a ${codec} key under purpose ${code}`);
    addKey(`${did}#key-${++keys}`, value, purposes);
  }
  if (keys === 0) throw new Error(`resolve ${did}: no keys`);
  return doc;
}

/** u = (1 + y) / (1 - y) mod p: the X25519 key of an Ed25519 key (RFC 7748 §4.1), as did:key derives it. */
function ed25519ToX25519(raw) {
  const p = 2n ** 255n - 19n;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) + BigInt(i === 31 ? raw[i] & 0x7f : raw[i]);
  const mod = (a) => ((a % p) + p) % p;
  const pow = (b, e) => {
    let r = 1n;
    b = mod(b);
    while (e > 0n) {
      if (e & 1n) r = mod(r * b);
      b = mod(b * b);
      e >>= 1n;
    }
    return r;
  };
  let u = mod((1n + y) * pow(1n - y, p - 2n));
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

/**
 * The Ed25519 key that verificationMethod names, when it is signerDID's own
 * (its DID part is signerDID exactly), listed under purpose in signerDID's
 * document, controlled by signerDID and an Ed25519 Multikey
 * (proof_check.rs, verify_one).
 */
export function publicKeyFor(signerDID, verificationMethod, purpose) {
  if (typeof verificationMethod !== 'string') throw new Error('proof: no verificationMethod');
  const hash = verificationMethod.indexOf('#');
  if (hash < 0 || verificationMethod.slice(0, hash) !== signerDID || hash === verificationMethod.length - 1) {
    throw new Error(`proof: verificationMethod ${verificationMethod} does not belong to the signer ${signerDID}`);
  }
  const doc = resolveDIDKeyOrPeer2(signerDID);
  const relative = verificationMethod.slice(hash);
  const same = (id) => id === verificationMethod || id === relative;
  if (!(doc[purpose] ?? []).some(same)) throw new Error(`proof: ${verificationMethod} is not listed under ${purpose} of the signer`);
  const vm = doc.verificationMethod.find((m) => same(m.id));
  if (!vm) throw new Error(`proof: ${verificationMethod} is not published in the signer's document`);
  if (vm.controller !== signerDID) throw new Error(`proof: ${verificationMethod} is controlled by ${vm.controller}, not the signer`);
  const { codec, raw } = decodeMultikey(vm.publicKeyMultibase);
  if (codec !== 'Ed25519') throw new Error(`proof: ${verificationMethod} is a ${codec} key, not Ed25519`);
  return edPublicFromRaw(raw);
}

// ---------------------------------------------------------------------------
// Data Integrity, eddsa-jcs-2022.

const PROOF_MEMBERS = new Set(['@context', 'type', 'cryptosuite', 'created', 'expires', 'verificationMethod', 'proofPurpose', 'proofValue']);

/** SHA-256(JCS(proof configuration)) || SHA-256(JCS(unsecured document)). */
function hashData(unsecured, proofConfig) {
  return Buffer.concat([sha256(jcs(proofConfig)), sha256(jcs(unsecured))]);
}

function withoutMember(obj, name) {
  const out = { ...obj };
  delete out[name];
  return out;
}

/**
 * The eddsa-jcs-2022 proof of doc (without a proof) by signer for purpose:
 * the proof configuration carries the document's @context when it has one
 * (Create Proof, Proof Configuration), and the proof keeps it, as the TDK's
 * DataIntegrityProof writes it.
 */
export function signDocument(doc, signer, purpose, now = nowSecs()) {
  if ('proof' in doc) throw new Error('sign: the document already has a proof');
  const proof = {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-jcs-2022',
    created: rfc3339(now),
    verificationMethod: signer.verificationMethod,
    proofPurpose: purpose,
  };
  if ('@context' in doc) proof['@context'] = doc['@context'];
  const signature = sign(null, hashData(doc, proof), signer.privateKey);
  return { ...proof, proofValue: 'z' + base58(signature) };
}

/**
 * Verifies the one proof of doc as signerDID's for purpose (Verify Proof of
 * eddsa-jcs-2022; the signer and relationship rules of proof_check.rs).
 */
export function verifyDocument(doc, signerDID, purpose, now = nowSecs()) {
  const proof = doc.proof;
  if (proof === undefined || proof === null) throw new Error('no proof is attached');
  if (!isObject(proof)) throw new Error('the proof is not one JSON object');
  for (const k of Object.keys(proof)) if (!PROOF_MEMBERS.has(k)) throw new Error(`proof member ${JSON.stringify(k)} is not supported`);
  if (proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') {
    throw new Error(`proof is ${JSON.stringify(proof.type)} with cryptosuite ${JSON.stringify(proof.cryptosuite)}, want DataIntegrityProof with eddsa-jcs-2022`);
  }
  if (proof.proofPurpose !== purpose) throw new Error(`proofPurpose is ${JSON.stringify(proof.proofPurpose)}, want ${purpose}`);
  if ('created' in proof && parseTime(proof.created, 'proof created') > now + CREATED_SKEW_SECS) throw new Error(`proof created ${proof.created} is in the future`);
  if ('expires' in proof && parseTime(proof.expires, 'proof expires') <= now) throw new Error(`proof expired at ${proof.expires}`);
  const key = publicKeyFor(signerDID, proof.verificationMethod, purpose);
  if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) throw new Error('proofValue is not multibase base58btc');
  const signature = unbase58(proof.proofValue.slice(1));
  if (signature.length !== 64) throw new Error(`proofValue holds ${signature.length} bytes, want 64`);

  const unsecured = withoutMember(doc, 'proof');
  const config = withoutMember(proof, 'proofValue');
  if ('@context' in config) {
    // The document's @context must start with the proof's; the proof's is
    // then the one hashed with the document.
    const want = config['@context'];
    const have = unsecured['@context'];
    const list = (c) => (Array.isArray(c) ? c : [c]);
    if (have === undefined || list(want).some((c, i) => canonicalize(c) !== canonicalize(list(have)[i]))) {
      throw new Error("proof @context is not a prefix of the document's");
    }
    unsecured['@context'] = want;
  }
  if ('@context' in unsecured) config['@context'] = unsecured['@context'];
  if (!verify(null, hashData(unsecured, config), key, signature)) {
    throw new Error(`signature does not verify with ${proof.verificationMethod}`);
  }
  return true;
}

// ---------------------------------------------------------------------------
// The relationship DID binding (relationships.rs).

const ROLES = new Set(['request', 'accept']);

/** The statement: did is the DID persona uses with peer in handshake thid, as role. */
export function bindingStatement({ role, did, persona, peer, thid }) {
  if (!ROLES.has(role)) throw new Error(`binding: role ${JSON.stringify(role)} is not request or accept`);
  for (const [name, v] of Object.entries({ did, persona, peer, thid })) {
    if (typeof v !== 'string' || v === '') throw new Error(`binding: no ${name}`);
  }
  return { type: BINDING_TYPE, role, did, persona, peer, thid };
}

/** The proof (proofPurpose authentication) of the binding, by signer. */
export function signBinding(binding, signer, now = nowSecs()) {
  return signDocument(bindingStatement(binding), asSigner(signer), 'authentication', now);
}

/**
 * Verifies proof over the binding statement as a proof by signerDID (by
 * default the statement's did; the persona for a personaProof).
 */
export function verifyBinding(statement, proof, signerDID = statement.did, now = nowSecs()) {
  if (!isObject(proof)) throw new Error('no proof');
  return verifyDocument({ ...bindingStatement(statement), proof }, signerDID, 'authentication', now);
}

// ---------------------------------------------------------------------------
// Messages (relationships.rs, messaging.rs, vrc.rs).

function message(type, from, to, body, thid, now = nowSecs()) {
  const m = { id: randomUUID(), typ: 'application/didcomm-plain+json', type, from, to: [to], created_time: now, expires_time: now + MAX_MESSAGE_AGE_SECS, body };
  if (thid !== undefined) {
    if (typeof thid !== 'string' || thid === '') throw new Error(`${type}: no thid`);
    m.thid = thid;
  }
  return m;
}

function bindingProofs(role, persona, rel, peerDID, thid, now) {
  const did = didOf(rel);
  const b = { role, did, persona: didOf(persona), peer: peerDID, thid };
  const out = { didProof: signBinding(b, rel, now) };
  if (did !== b.persona) out.personaProof = signBinding(b, persona, now);
  return out;
}

/** A relationship-request from persona to peerDID naming rel (a party, or persona itself). */
export function relationshipRequest({ persona, rel = persona, peerDID, reason, name, now = nowSecs() }) {
  const m = message(TYPES.request, didOf(persona), peerDID, {}, undefined, now);
  const body = {};
  if (reason !== undefined && reason !== null) body.reason = reason;
  body.did = didOf(rel);
  if (name !== undefined && name !== null) body.name = name;
  Object.assign(body, bindingProofs('request', persona, rel, peerDID, m.id, now));
  m.body = body;
  return m;
}

/** A relationship-request-accept of the request thid, from persona to peerDID (the requester). */
export function relationshipAccept({ persona, rel = persona, peerDID, thid, now = nowSecs() }) {
  const body = { did: didOf(rel), ...bindingProofs('accept', persona, rel, peerDID, thid, now) };
  return message(TYPES.accept, didOf(persona), peerDID, body, thid, now);
}

/** A relationship-request-reject: reason null when there is none, as OpenVTC writes it. */
export function relationshipReject({ persona, peerDID, thid, reason = null, now = nowSecs() }) {
  return message(TYPES.reject, didOf(persona), peerDID, { reason }, thid, now);
}

/** A relationship-request-finalize: {}. */
export function relationshipFinalize({ persona, peerDID, thid, now = nowSecs() }) {
  return message(TYPES.finalize, didOf(persona), peerDID, {}, thid, now);
}

/** A VRC request between relationship DIDs; reason absent when there is none. */
export function vrcRequest({ from, to, reason, now = nowSecs() }) {
  return message(TYPES.vrcRequest, didOf(from), to, reason === undefined || reason === null ? {} : { reason }, undefined, now);
}

/** A VRC issued answering the request thid: the body is the credential. */
export function vrcIssued({ from, to, thid, credential, now = nowSecs() }) {
  return message(TYPES.vrcIssued, didOf(from), to, credential, thid, now);
}

/** check_message_age: created at most 48 h ago and at most 5 min ahead, not expired. */
export function checkWindow(msg, now = nowSecs()) {
  const created = msg.created_time;
  if (created !== undefined) {
    if (!Number.isInteger(created)) throw new Error('created_time is not an integer');
    if (created > now + MAX_FUTURE_SKEW_SECS) throw new Error('created_time too far in future');
    if (now - created > MAX_MESSAGE_AGE_SECS) throw new Error('created_time older than replay window');
  }
  if (msg.expires_time !== undefined) {
    if (!Number.isInteger(msg.expires_time)) throw new Error('expires_time is not an integer');
    if (msg.expires_time < now) throw new Error('message already expired');
  }
}

function checkEnvelope(msg, type) {
  if (!isObject(msg)) throw new Error('the message is not a JSON object');
  if (msg.type !== type) throw new Error(`type is ${JSON.stringify(msg.type)}, want ${type}`);
  if (typeof msg.id !== 'string' || msg.id === '') throw new Error('no id');
  if (typeof msg.from !== 'string' || !msg.from.startsWith('did:')) throw new Error('no from DID');
  if (!Array.isArray(msg.to) || msg.to.length !== 1 || typeof msg.to[0] !== 'string') throw new Error('to is not one DID');
  if (!isObject(msg.body)) throw new Error('body is not a JSON object');
}

/** The members of a body: did (required), proofs (objects when present), optional strings. */
function readBody(body, what, optional) {
  if (typeof body.did !== 'string' || !body.did.startsWith('did:')) throw new Error(`${what}: did is not a DID string`);
  for (const name of optional) {
    if (body[name] !== undefined && typeof body[name] !== 'string') throw new Error(`${what}: ${name} is not a string`);
  }
  for (const name of ['didProof', 'personaProof']) {
    if (body[name] !== undefined && !isObject(body[name])) throw new Error(`${what}: ${name} is not a JSON object`);
  }
}

/** verify_did_binding: the DID's own proof, and the persona's when the DID is not the persona. */
function checkProofs(what, statement, body, now) {
  if (!body.didProof) throw new Error(`${what}: it carries no proof of control of the relationship DID`);
  try {
    verifyBinding(statement, body.didProof, statement.did, now);
  } catch (e) {
    throw new Error(`${what}: the relationship DID's proof: ${e.message}`);
  }
  if (statement.did === statement.persona) return;
  if (!body.personaProof) throw new Error(`${what}: it carries no proof from the persona naming the relationship DID`);
  try {
    verifyBinding(statement, body.personaProof, statement.persona, now);
  } catch (e) {
    throw new Error(`${what}: the persona's proof: ${e.message}`);
  }
}

/**
 * Reads a received relationship-request: its shape, its time window and
 * both proofs over the binding taken from the handshake (persona = from,
 * peer = the recipient, thid = the request's id, role request).
 */
export function checkRequest(msg, { recipient, now = nowSecs() } = {}) {
  checkEnvelope(msg, TYPES.request);
  if (recipient !== undefined && msg.to[0] !== recipient) throw new Error(`relationship request: addressed to ${msg.to[0]}, not ${recipient}`);
  checkWindow(msg, now);
  readBody(msg.body, 'relationship request', ['reason', 'name']);
  const statement = bindingStatement({ role: 'request', did: msg.body.did, persona: msg.from, peer: recipient ?? msg.to[0], thid: msg.id });
  checkProofs('relationship request', statement, msg.body, now);
  return { did: msg.body.did, persona: msg.from, peer: statement.peer, thid: msg.id, reason: msg.body.reason ?? null, name: msg.body.name ?? null };
}

/**
 * Reads a received relationship-request-accept of the request thid that
 * requester sent: threaded on thid, addressed to requester, in its window,
 * both proofs over the binding (persona = from, peer = requester, role accept).
 */
export function checkAccept(msg, { thid, requester, now = nowSecs() } = {}) {
  if (typeof thid !== 'string' || typeof requester !== 'string') throw new Error('checkAccept: the handshake thid and requester are required');
  checkEnvelope(msg, TYPES.accept);
  if (msg.thid !== thid) throw new Error(`relationship accept: thid ${JSON.stringify(msg.thid)} is not the request's ${thid}`);
  if (msg.to[0] !== requester) throw new Error(`relationship accept: addressed to ${msg.to[0]}, not the requester ${requester}`);
  checkWindow(msg, now);
  readBody(msg.body, 'relationship accept', []);
  const statement = bindingStatement({ role: 'accept', did: msg.body.did, persona: msg.from, peer: requester, thid });
  checkProofs('relationship accept', statement, msg.body, now);
  return { did: msg.body.did, persona: msg.from, peer: requester, thid };
}

// ---------------------------------------------------------------------------
// DTG relationship credentials (dtg-credentials new_vrc; vrc.rs
// new_identified_vrc).

/**
 * A RelationshipCredential by issuer (a party or signer) about subjectDID,
 * signed with the issuer's #key-1 (proofPurpose assertionMethod).
 */
export function issueVRC({ issuer, subjectDID, scope = 'pairwise', validFrom, validUntil, id, now = nowSecs() }) {
  const signer = asSigner(issuer);
  const c = {
    '@context': [CONTEXT_VC2, CONTEXT_DTG],
    type: ['VerifiableCredential', 'DTGCredential', 'RelationshipCredential'],
    id: id ?? `urn:uuid:${randomUUID()}`,
    issuer: signer.did,
    issuerScope: scope,
    validFrom: rfc3339(validFrom ?? now),
  };
  if (validUntil !== undefined) c.validUntil = rfc3339(validUntil);
  c.credentialSubject = { id: subjectDID };
  c.proof = signDocument(c, signer, 'assertionMethod', now);
  return c;
}

const CONCRETE = new Set(['RelationshipCredential', 'MembershipCredential', 'InvitationCredential', 'AuthorityCredential', 'PersonaCredential', 'EndorsementCredential', 'WitnessCredential', 'RCardCredential']);

/**
 * Verifies a relationship credential: the two contexts in order (the retired
 * firstperson.network one refused), the types, id, issuerScope, validity,
 * subject, and its proof by a key the issuer lists under assertionMethod.
 */
export function verifyVRC(credential, now = nowSecs()) {
  if (!isObject(credential)) throw new Error('the credential is not a JSON object');
  const ctx = credential['@context'];
  if (!Array.isArray(ctx) || ctx.length < 2) throw new Error('@context does not list the VC 2.0 and DTG contexts');
  if (ctx.some((c) => typeof c === 'string' && c.startsWith('https://firstperson.network/credentials/'))) {
    throw new Error(`@context ${CONTEXT_RETIRED} is retired: DTG Credentials v1 uses ${CONTEXT_DTG}`);
  }
  if (ctx[0] !== CONTEXT_VC2) throw new Error(`@context starts with ${JSON.stringify(ctx[0])}, want ${CONTEXT_VC2}`);
  if (ctx[1] !== CONTEXT_DTG) throw new Error(`second @context is ${JSON.stringify(ctx[1])}, want ${CONTEXT_DTG}`);
  const types = credential.type;
  if (!Array.isArray(types) || !types.includes('VerifiableCredential') || !types.includes('DTGCredential')) {
    throw new Error('type must include VerifiableCredential and DTGCredential');
  }
  if (new Set(types).size !== types.length) throw new Error('type lists a type twice');
  const concrete = types.filter((t) => CONCRETE.has(t));
  if (concrete.length !== 1 || types.length !== 3) throw new Error(`type must hold exactly one concrete DTG type, has ${JSON.stringify(types)}`);
  if (concrete[0] !== 'RelationshipCredential') throw new Error(`a ${concrete[0]}, not a RelationshipCredential`);
  if (typeof credential.id !== 'string' || !/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(credential.id)) {
    throw new Error(`id ${JSON.stringify(credential.id)} is not a urn:uuid`);
  }
  const issuer = credential.issuer;
  if (typeof issuer !== 'string' || !issuer.startsWith('did:')) throw new Error('issuer is not a DID string');
  if (!['pairwise', 'directed', 'public'].includes(credential.issuerScope)) throw new Error(`issuerScope ${JSON.stringify(credential.issuerScope)} is not pairwise, directed or public`);
  const subject = credential.credentialSubject;
  if (!isObject(subject) || typeof subject.id !== 'string' || !subject.id.startsWith('did:')) throw new Error('credentialSubject.id is not a DID');
  if (subject.id === issuer) throw new Error('the subject is the issuer');
  if (parseTime(credential.validFrom, 'validFrom') > now) throw new Error(`not valid until ${credential.validFrom}`);
  if (credential.validUntil !== undefined && parseTime(credential.validUntil, 'validUntil') < now) throw new Error(`expired at ${credential.validUntil}`);
  if (Array.isArray(credential.proof)) throw new Error('a proof set, not one proof');
  verifyDocument(credential, issuer, 'assertionMethod', now);
  return { digestMultibase: digestMultibase(credential) };
}

/** digestMultibase: base58btc of the sha2-256 multihash of JCS of the credential without proof. */
export function digestMultibase(credential) {
  if (!isObject(credential)) throw new Error('the credential is not a JSON object');
  const digest = sha256(jcs(withoutMember(credential, 'proof')));
  return 'z' + base58(Buffer.concat([Buffer.from([0x12, 0x20]), digest]));
}

// ---------------------------------------------------------------------------
// The script: one request in, one array of results out.

function partyOut(p) {
  return { did: p.did, doc: p.doc, secrets: p.secrets, resolved: p.resolved, jwk: { ed25519: p.ed25519.jwk, x25519: p.x25519.jwk } };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const named = new Map();
  const party = (ref) => {
    if (typeof ref === 'string') {
      if (!named.has(ref)) throw new Error(`no party named ${JSON.stringify(ref)}`);
      return named.get(ref);
    }
    return { did: ref?.did, signer: signerFromJWK(ref ?? {}) };
  };
  const ops = {
    newParty: (op) => {
      const p = newParty(op.mediator);
      if (op.as) named.set(op.as, p);
      return partyOut(p);
    },
    resolve: (op) => resolveDIDKeyOrPeer2(op.did),
    signBinding: (op) => signBinding(op.statement, party(op.signer), op.now),
    verifyBinding: (op) => verifyBinding(op.statement, op.proof, op.signerDID ?? op.statement?.did, op.now),
    relationshipRequest: (op) => relationshipRequest({ ...op, persona: party(op.persona), rel: op.rel === undefined ? undefined : party(op.rel) }),
    relationshipAccept: (op) => relationshipAccept({ ...op, persona: party(op.persona), rel: op.rel === undefined ? undefined : party(op.rel) }),
    relationshipReject: (op) => relationshipReject(op),
    relationshipFinalize: (op) => relationshipFinalize(op),
    vrcRequest: (op) => vrcRequest(op),
    vrcIssued: (op) => vrcIssued(op),
    checkRequest: (op) => checkRequest(op.message, op),
    checkAccept: (op) => checkAccept(op.message, op),
    issueVRC: (op) => issueVRC({ ...op, issuer: party(op.issuer) }),
    verifyVRC: (op) => verifyVRC(op.credential, op.now),
    digestMultibase: (op) => digestMultibase(op.credential),
  };
  const results = [];
  for (const op of request.ops ?? []) {
    try {
      const run = ops[op?.op];
      if (!run) throw new Error(`unknown operation ${JSON.stringify(op?.op)}`);
      // undefined members (now, rel…) fall back to their defaults.
      results.push({ ok: run(Object.fromEntries(Object.entries(op).filter(([, v]) => v !== null))) });
    } catch (e) {
      results.push({ error: `${op?.op}: ${e?.message ?? e}` });
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
