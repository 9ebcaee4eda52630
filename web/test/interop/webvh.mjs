// did:webvh 1.0 interop with didwebvh-ts, an independent implementation
// (decentralized-identity/didwebvh-ts, from npm), for core/did/webvh's Go
// tests (interop_test.go). It reads one JSON request on standard input, a
// list of operations, and writes one JSON line with a result for each, in
// order: {ok: …} or {error: "name: message"}.
//
//   {op: "resolve", log, witness?, did?, versionNumber?, versionId?}
//        → {did, doc, meta}           (log: did.jsonl text)
//   {op: "create", seed, domain, paths?, created, nextKeyHashes?,
//        portable?, witness?, document?}
//        → {did, log}
//   {op: "update", log, seed, updated, updateKeys?, nextKeyHashes?,
//        domain?, paths?, document?}  → {did, log}
//   {op: "deactivate", log, seed}     → {did, log}
//   {op: "witness", versionId, seed}  → {proof}
//   {op: "keyHash", multikey}         → {hash}
//
// Keys are Ed25519 from 32-byte hex seeds, held by this script only for
// the test. No network: logs come in the request.

import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import {
  createDID,
  deactivateDID,
  deriveNextKeyHash,
  multibaseDecode,
  multibaseEncode,
  MultibaseEncoding,
  prepareDataForSigning,
  resolveDIDFromLog,
  updateDID,
} from 'didwebvh-ts';

/** Reads standard input whole. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// PKCS #8 and SPKI prefixes of an Ed25519 key, to import raw keys.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** The key pair of a hex seed: node key objects and the Multikey. */
function keyPair(seedHex) {
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  const multikey = multibaseEncode(new Uint8Array([0xed, 0x01, ...raw]), MultibaseEncoding.BASE58_BTC);
  return { privateKey, multikey };
}

/** A didwebvh-ts Signer over a seed. */
function signer(seedHex) {
  const { privateKey, multikey } = keyPair(seedHex);
  return {
    multikey,
    getVerificationMethodId: () => `did:key:${multikey}#${multikey}`,
    async sign({ document, proof }) {
      const data = await prepareDataForSigning(document, proof);
      const sig = sign(null, Buffer.from(data), privateKey);
      return { proofValue: multibaseEncode(new Uint8Array(sig), MultibaseEncoding.BASE58_BTC) };
    },
  };
}

/** A didwebvh-ts Verifier with node's Ed25519. */
const verifier = {
  async verify(signature, message, publicKey) {
    const key = createPublicKey({ key: Buffer.concat([spkiPrefix, Buffer.from(publicKey)]), format: 'der', type: 'spki' });
    return verify(null, Buffer.from(message), key, Buffer.from(signature));
  },
};

const parseLog = (text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
const writeLog = (log) => log.map((e) => JSON.stringify(e) + '\n').join('');

/** The verification method of a signer, for a generated document. */
const methods = (s) => [{ type: 'Multikey', publicKeyMultibase: s.multikey, purpose: 'authentication' }];

/** Runs one operation. */
async function run(op) {
  switch (op.op) {
    case 'resolve': {
      const options = { verifier };
      if (op.witness) options.witnessProofs = op.witness;
      if (op.did) options.requestedDid = op.did;
      if (op.versionNumber) options.versionNumber = op.versionNumber;
      if (op.versionId) options.versionId = op.versionId;
      const { did, doc, meta } = await resolveDIDFromLog(parseLog(op.log), options);
      if (meta?.error) throw new Error(`${meta.error}: ${meta.problemDetails?.detail ?? ''}`);
      return { did, doc, meta };
    }
    case 'create': {
      const s = signer(op.seed);
      const { did, log } = await createDID({
        domain: op.domain,
        paths: op.paths,
        signer: s,
        verifier,
        updateKeys: [s.multikey],
        verificationMethods: op.document ? undefined : methods(s),
        didDocument: op.document,
        created: op.created,
        nextKeyHashes: op.nextKeyHashes ?? [],
        portable: op.portable ?? false,
        witness: op.witness,
      });
      return { did, log: writeLog(log) };
    }
    case 'update': {
      const s = signer(op.seed);
      const { did, log } = await updateDID({
        log: parseLog(op.log),
        signer: s,
        verifier,
        updateKeys: op.updateKeys,
        nextKeyHashes: op.nextKeyHashes,
        domain: op.domain,
        paths: op.paths,
        verificationMethods: methods(s),
        updated: op.updated,
        witnessProofs: op.witness,
      });
      return { did, log: writeLog(log) };
    }
    case 'deactivate': {
      const { did, log } = await deactivateDID({ log: parseLog(op.log), signer: signer(op.seed), verifier });
      return { did, log: writeLog(log) };
    }
    case 'witness': {
      const s = signer(op.seed);
      const proof = {
        type: 'DataIntegrityProof',
        cryptosuite: 'eddsa-jcs-2022',
        verificationMethod: s.getVerificationMethodId(),
        created: op.created,
        proofPurpose: 'assertionMethod',
      };
      const { proofValue } = await s.sign({ document: { versionId: op.versionId }, proof });
      return { proof: { ...proof, proofValue } };
    }
    case 'keyHash':
      return { hash: await deriveNextKeyHash(op.multikey) };
    case 'multikey':
      return { multikey: keyPair(op.seed).multikey, decoded: Array.from(multibaseDecode(keyPair(op.seed).multikey).bytes.slice(0, 2)) };
    default:
      throw new Error(`unknown operation ${op.op}`);
  }
}

const request = JSON.parse(await readStdin());
const results = [];
for (const op of request.ops) {
  try {
    results.push({ ok: await run(op) });
  } catch (e) {
    results.push({ error: `${e?.name ?? 'Error'}: ${e?.message ?? e}` });
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
