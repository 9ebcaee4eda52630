// The DIDComm step's baseline, in any JavaScript engine: didcomm-rust (the DIF reference
// implementation, compiled to WebAssembly: the npm package didcomm-node) authcrypting a basic
// message of 1 KiB of text from Alice to Bob and unpacking it as Bob, as PLANET's Go benchmark
// BenchmarkAuthcryptRoundTrip (core/didcomm/bench_test.go) does. It imports nothing: Node
// passes didcomm-node's Message class in, and a page passes the same class loaded from
// didcomm-node's own files (didcomm.js).

/**
 * A party: a fresh X25519 key made by WebCrypto, a DID whose document lists it under
 * keyAgreement (JsonWebKey2020, as didcomm-node reads keys), and its secret.
 */
async function party(subtle, name) {
  const pair = await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  const { kty, crv, x, d } = await subtle.exportKey('jwk', pair.privateKey);
  const did = `did:example:${name}`;
  const kid = `${did}#key-x25519-1`;
  return {
    did,
    kid,
    doc: {
      id: did,
      keyAgreement: [kid],
      authentication: [],
      verificationMethod: [{ id: kid, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { kty, crv, x } }],
      service: [],
    },
    secret: { id: kid, type: 'JsonWebKey2020', privateKeyJwk: { kty, crv, x, d } },
  };
}

/** A DIDResolver over the documents given, and a SecretsResolver over one party's secret. */
function resolvers(docs, secret) {
  return {
    dids: { async resolve(did) { return docs[did] ?? null; } },
    secrets: {
      async get_secret(id) { return id === secret.id ? secret : null; },
      async find_secrets(ids) { return ids.filter((id) => id === secret.id); },
    },
  };
}

/**
 * Alice authcrypts to Bob (ECDH-1PU+A256KW, A256CBC-HS512: didcomm-rust's authcrypt), no
 * forward, no signature; Bob unpacks and checks who sent it and what it says. `warm` round
 * trips are not timed; then `rounds` are, in batches of `batch`: the result is the median over
 * the batches of each batch's time per message, in µs, and the batches' times.
 */
export async function authcryptRoundTrips(Message, subtle, { warm = 20, rounds = 300, batch = 10, size = 1024 } = {}) {
  const alice = await party(subtle, 'alice');
  const bob = await party(subtle, 'bob');
  const docs = { [alice.did]: alice.doc, [bob.did]: bob.doc };
  const a = resolvers(docs, alice.secret);
  const b = resolvers(docs, bob.secret);
  const text = 'Tea at five? '.repeat(Math.ceil(size / 13)).slice(0, size);

  const roundTrip = async () => {
    const id = crypto.randomUUID();
    const msg = new Message({
      id,
      typ: 'application/didcomm-plain+json',
      type: 'https://didcomm.org/basicmessage/2.0/message',
      from: alice.did,
      to: [bob.did],
      created_time: Math.floor(Date.now() / 1000),
      body: { content: text },
    });
    const [packed] = await msg.pack_encrypted(bob.did, alice.did, null, a.dids, a.secrets, { forward: false });
    msg.free?.();
    const [got, meta] = await Message.unpack(packed, b.dids, b.secrets, {});
    const v = got.as_value();
    got.free?.();
    if (v.id !== id || v.body?.content !== text || !meta.authenticated || meta.encrypted_from_kid !== alice.kid || meta.enc_alg_auth !== 'A256cbcHs512Ecdh1puA256kw') {
      throw new Error(`Bob read ${JSON.stringify(v).slice(0, 200)}, ${JSON.stringify(meta)}`);
    }
  };

  for (let i = 0; i < warm; i++) await roundTrip();
  const perMsg = [];
  for (let done = 0; done < rounds; done += batch) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) await roundTrip();
    perMsg.push(((performance.now() - start) * 1000) / batch);
  }
  const sorted = [...perMsg].sort((x, y) => x - y);
  return { medianUs: sorted[sorted.length >> 1], meanUs: perMsg.reduce((s, x) => s + x, 0) / perMsg.length, rounds, batch, warm, size };
}
