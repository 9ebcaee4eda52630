// verify.js checks a First Person Page in the visitor's own browser, without
// trusting the server that sent it (docs/pages.md, "What the visitor's
// browser verifies"). It fetches the DID's log (did.jsonl) and the page's
// signed documents, and checks:
//
//   - the log, as did:webvh 1.0 asks of a resolver: the SCID is the hash of
//     the first entry, each entry's hash is chained to the one before, the
//     version times go forward and are not in the future, each entry carries
//     an eddsa-jcs-2022 proof by an authorised update key, and pre-rotation
//     commitments are kept;
//   - each document: its author and id are this DID's, and its
//     eddsa-jcs-2022 proof was made by a key listed under assertionMethod in
//     the DID document in force when it was signed.
//
// Then it writes, in words, what it verified or what failed into the page.
// It uses WebCrypto (SHA-256, Ed25519) and a small RFC 8785 canonical JSON
// of its own. It is an ES module with no dependencies; the same functions
// are exported so tests run them under Node against logs made by PLANET.

const CONTEXT = 'urn:planet:page:v1';
const TYPES = ['PageProfile', 'PagePost', 'PagePostIndex'];
// The presentation of the credentials shown, and its context (VC 2.0).
const WHOIS = 'whois.vp';
const CONTEXT_VC = 'https://www.w3.org/ns/credentials/v2';
const MAX_DOCUMENT = 256 * 1024;
const MAX_LOG = 4 * 1024 * 1024;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const utf8 = new TextEncoder();
// The members a proof may have: anything else (a challenge, a domain, a
// previous proof) would change what it means, so it is refused.
const PROOF_MEMBERS = ['type', 'cryptosuite', 'verificationMethod', 'created', 'proofPurpose', 'proofValue', 'id', '@context'];

// --- encodings --------------------------------------------------------------

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// Base58btc with the Bitcoin alphabet; leading zero bytes are written as
// leading "1"s. BigInt keeps it short: keys, hashes and signatures are
// under 100 bytes.
export function base58Encode(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out; }
  return out;
}

export function base58Decode(s) {
  let n = 0n;
  for (const c of s) {
    const d = ALPHABET.indexOf(c);
    if (d < 0) throw new Error(`"${s}" is not base58btc`);
    n = n * 58n + BigInt(d);
  }
  const out = [];
  while (n > 0n) { out.unshift(Number(n & 255n)); n >>= 8n; }
  for (const c of s) { if (c !== '1') break; out.unshift(0); }
  return Uint8Array.from(out);
}

// jcs returns the RFC 8785 canonical form of a value from JSON.parse:
// members sorted by their UTF-16 code units (JavaScript's own string order),
// strings and numbers as JSON.stringify writes them (RFC 8785 takes its
// number format from ECMAScript).
export function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// hashString is did:webvh's hash: base58btc of the SHA-256 multihash.
async function hashString(text) {
  const digest = await sha256(utf8.encode(text));
  return base58Encode(Uint8Array.of(0x12, 0x20, ...digest));
}

// ed25519Key decodes an Ed25519 Multikey, "z6Mk…" (multicodec 0xed01).
export function ed25519Key(multikey) {
  if (typeof multikey !== 'string' || !multikey.startsWith('z')) throw new Error(`${multikey} is not a Multikey`);
  const b = base58Decode(multikey.slice(1));
  if (b.length !== 34 || b[0] !== 0xed || b[1] !== 0x01) throw new Error(`${multikey} is not an Ed25519 Multikey`);
  return b.slice(2);
}

// --- eddsa-jcs-2022 ---------------------------------------------------------

// checkProof verifies an eddsa-jcs-2022 proof over doc with an Ed25519 key:
// the signature covers SHA-256 of the canonical proof configuration (the
// proof without proofValue, with the document's @context) followed by
// SHA-256 of the canonical document without its proof.
export async function checkProof(doc, proof, publicKey) {
  for (const name of Object.keys(proof)) {
    if (!PROOF_MEMBERS.includes(name)) throw new Error(`its proof has the member ${name}, which this script does not understand`);
  }
  if (proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022' || proof.proofPurpose !== 'assertionMethod') {
    throw new Error(`its proof is not an eddsa-jcs-2022 DataIntegrityProof for assertionMethod`);
  }
  const unsecured = { ...doc };
  delete unsecured.proof;
  const config = { ...proof };
  delete config.proofValue;
  if ('@context' in unsecured) config['@context'] = unsecured['@context'];
  const h1 = await sha256(utf8.encode(jcs(config)));
  const h2 = await sha256(utf8.encode(jcs(unsecured)));
  const message = new Uint8Array(64);
  message.set(h1, 0);
  message.set(h2, 32);
  if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) throw new Error('its proofValue is not base58btc');
  const signature = base58Decode(proof.proofValue.slice(1));
  if (signature.length !== 64 || base58Encode(signature) !== proof.proofValue.slice(1)) throw new Error('its proofValue is not an Ed25519 signature');
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message))) {
    throw new Error('its signature does not match: it was changed after it was signed, or signed by another key');
  }
}

// --- the did:webvh log ------------------------------------------------------

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$/;

function parseTime(s, what) {
  const t = typeof s === 'string' && TIME.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t)) throw new Error(`${what} ${JSON.stringify(s)} is not a UTC time`);
  return t;
}

// verifyLog checks a did.jsonl and returns its versions: {number, time,
// state, params}. It throws an Error naming the version and what failed.
export async function verifyLog(text, now = new Date()) {
  if (text.length > MAX_LOG) throw new Error('the log is larger than this script reads');
  const lines = text.replace(/\n$/, '').split('\n');
  const versions = [];
  let prev = null;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    try {
      versions.push(prev = await verifyEntry(JSON.parse(lines[i]), n, prev, now.getTime()));
    } catch (e) {
      throw new Error(`version ${n} of the log: ${e.message}`);
    }
  }
  return versions;
}

async function verifyEntry(entry, n, prev, now) {
  if (prev && prev.params.deactivated) throw new Error('no entry may follow deactivation');
  const [num, hash] = String(entry.versionId).split(/-(.*)/s);
  if (Number(num) !== n || !hash) throw new Error(`versionId ${entry.versionId} does not carry version number ${n}`);
  const time = parseTime(entry.versionTime, 'versionTime');
  if (prev && time <= prev.time) throw new Error('its versionTime is not after the previous one');
  if (time > now + CLOCK_SKEW_MS) throw new Error('its versionTime is in the future');

  const set = entry.parameters || {};
  const params = { ...(prev ? prev.params : {}), ...set };
  const unsigned = { ...entry };
  delete unsigned.proof;
  let prevId;
  if (!prev) {
    if (params.method !== 'did:webvh:1.0') throw new Error(`method is ${params.method}, not did:webvh:1.0`);
    // The SCID is the hash of the first entry with the SCID itself
    // replaced by the placeholder "{SCID}" wherever it appears.
    const withPlaceholder = jcs({ ...unsigned, versionId: '{SCID}' }).split(params.scid).join('{SCID}');
    if (typeof params.scid !== 'string' || (await hashString(jcs(JSON.parse(withPlaceholder)))) !== params.scid) {
      throw new Error('the SCID is not the hash of the first entry');
    }
    prevId = params.scid;
  } else {
    if ('scid' in set) throw new Error('scid is set after the first entry');
    prevId = prev.versionId;
  }
  // The entry hash covers the entry without its proof, its versionId
  // replaced by the previous versionId (the SCID for the first): a chain.
  if ((await hashString(jcs({ ...unsigned, versionId: prevId }))) !== hash) {
    throw new Error('its entry hash is not chained to the previous entry (the entry was changed, or one was removed)');
  }
  const id = entry.state && entry.state.id;
  if (typeof id !== 'string' || !id.startsWith(`did:webvh:${params.scid}:`)) throw new Error('its state.id does not carry the SCID');

  // Which keys may sign: the entry's own in the first entry and under
  // pre-rotation (each committed to by a hash in the previous entry),
  // otherwise those in force before it.
  let authorised = prev ? prev.params.updateKeys : params.updateKeys;
  const committed = prev ? prev.params.nextKeyHashes || [] : [];
  if (committed.length > 0) {
    if (!('updateKeys' in set) || !('nextKeyHashes' in set)) throw new Error('pre-rotation is on, and it does not give updateKeys and nextKeyHashes');
    for (const k of set.updateKeys || []) {
      if (!committed.includes(await hashString(k))) throw new Error(`update key ${k} was not committed to by the previous entry (pre-rotation)`);
    }
    authorised = set.updateKeys;
  }
  if (!Array.isArray(entry.proof) || entry.proof.length === 0) throw new Error('it has no proof');
  for (const proof of entry.proof) {
    const vm = String(proof.verificationMethod);
    const m = /^did:key:([^#]+)#(.+)$/.exec(vm);
    if (!m || m[1] !== m[2]) throw new Error(`its proof's verificationMethod ${vm} is not did:key:<key>#<key>`);
    if (!Array.isArray(authorised) || !authorised.includes(m[1])) throw new Error(`it is signed by ${m[1]}, which is not an authorised update key`);
    await checkProof({ ...unsigned }, proof, ed25519Key(m[1]));
  }
  return { number: n, versionId: entry.versionId, time, state: entry.state, params };
}

// --- the page's documents ---------------------------------------------------

// verifyDocument checks a signed page document published at path ("posts/x.json")
// for did, against the log's versions, and returns what was verified in words.
export async function verifyDocument(text, path, did, versions, now = new Date()) {
  if (text.length > MAX_DOCUMENT) throw new Error('it is larger than a page document may be');
  const doc = JSON.parse(text);
  const ctx = doc['@context'];
  if (path === WHOIS) {
    // The presentation of the credentials shown (whois.vp): held and signed
    // by the DID. The credentials' own proofs, by their issuers, are the
    // server's to check; this script checks the person's.
    const type = doc.type;
    if (!Array.isArray(ctx) || ctx.length !== 1 || ctx[0] !== CONTEXT_VC || !Array.isArray(type) || type.length !== 1 || type[0] !== 'VerifiablePresentation') {
      throw new Error('it is not a presentation this script knows');
    }
    if (doc.holder !== did) throw new Error(`its holder is ${doc.holder}, not ${did}`);
  } else {
    if (!Array.isArray(ctx) || ctx.length !== 1 || ctx[0] !== CONTEXT || !TYPES.includes(doc.type)) throw new Error('it is not a page document this script knows');
    if (doc.author !== did) throw new Error(`its author is ${doc.author}, not ${did}`);
    if (doc.id !== `${did}/${path}`) throw new Error(`it says it is ${doc.id}`);
  }
  const proof = doc.proof || {};
  const created = parseTime(proof.created, 'its proof time');
  if (created > now.getTime() + CLOCK_SKEW_MS) throw new Error('it says it was signed in the future');
  // The DID document in force when it was signed: the last version whose
  // versionTime is not after the proof's time.
  const version = versions.filter((v) => v.time <= created).pop();
  if (!version) throw new Error('it says it was signed before the DID existed');
  const vm = String(proof.verificationMethod);
  if (!vm.startsWith(did + '#')) throw new Error(`it is signed by ${vm}, not a key of ${did}`);
  const same = (ref) => ref === vm || did + ref === vm;
  const state = version.state;
  const method = (state.verificationMethod || []).find((m) => same(m.id));
  if (!(state.assertionMethod || []).some(same) || !method || method.type !== 'Multikey') {
    throw new Error(`${vm.slice(did.length)} is not an assertion key of version ${version.number} of the DID`);
  }
  await checkProof(doc, proof, ed25519Key(method.publicKeyMultibase));
  const when = new Date(created).toISOString().slice(0, 16).replace('T', ' ');
  return `signed by ${vm.slice(did.length)} of ${did}, version ${version.number}, on ${when} UTC`;
}

// verifySite fetches base + "did.jsonl" and each path under base, and
// checks them all. It returns {ok, lines: [{ok, text}]}; it never throws.
export async function verifySite(base, did, paths, fetchFn = fetch, now = new Date()) {
  const lines = [];
  const get = async (p) => {
    const res = await fetchFn(new URL(p, base), { cache: 'no-store' });
    if (!res.ok) throw new Error(`it could not be fetched (HTTP ${res.status})`);
    return res.text();
  };
  let versions;
  try {
    versions = await verifyLog(await get('did.jsonl'), now);
    const last = versions[versions.length - 1];
    if (last.state.id !== did) throw new Error(`the log is of ${last.state.id}, not of ${did}`);
    if (last.params.deactivated) throw new Error('the DID is deactivated: nothing signed for it is taken as verified');
    const witnessed = last.params.witness && Array.isArray(last.params.witness.witnesses) && last.params.witness.witnesses.length > 0;
    const rotation = versions.some((v) => (v.params.nextKeyHashes || []).length > 0);
    lines.push({ ok: true, text: `did.jsonl: ${versions.length} version${versions.length === 1 ? '' : 's'} of ${did}: the SCID, the hash chain, the times and every entry's signature by an authorised update key verify` + (rotation ? ', and the pre-rotation commitments are kept' : '') + (witnessed ? ' (its witnesses\' proofs are not checked by this script)' : '') });
  } catch (e) {
    lines.push({ ok: false, text: `did.jsonl: does not verify: ${e.message}` });
    return { ok: false, lines };
  }
  for (const p of paths) {
    try {
      lines.push({ ok: true, text: `${p}: ${await verifyDocument(await get(p), p, did, versions, now)}` });
    } catch (e) {
      lines.push({ ok: false, text: `${p}: does not verify: ${e.message}` });
    }
  }
  return { ok: lines.every((l) => l.ok), lines };
}

// --- in the page ------------------------------------------------------------

async function main() {
  const section = document.getElementById('verification');
  const out = document.getElementById('browser-check');
  if (!section || !out) return;
  out.textContent = 'Your browser is checking this page…';
  try {
    await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    out.textContent = 'Your browser cannot check Ed25519 signatures, so it did not check this page.';
    return;
  }
  const base = new URL(section.dataset.base, location.href);
  const result = await verifySite(base, section.dataset.did, section.dataset.docs.split(' ').filter(Boolean));
  const at = new Date().toISOString().slice(0, 16).replace('T', ' ');
  out.textContent = result.ok
    ? `Your browser verified this page itself on ${at} UTC:`
    : `Your browser found something that does not verify (${at} UTC). Do not trust what it names:`;
  out.className = result.ok ? 'ok' : 'failed';
  const list = document.createElement('ul');
  for (const line of result.lines) {
    const li = document.createElement('li');
    li.className = line.ok ? 'verified' : 'not-verified';
    li.textContent = line.text;
    list.append(li);
  }
  out.after(list);
}

if (typeof document !== 'undefined') main();
