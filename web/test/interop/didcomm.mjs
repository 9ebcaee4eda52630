// DIDComm interop with didcomm-node, the DIF reference implementation
// (didcomm-rust compiled to WebAssembly), for core/didcomm's Go tests
// (interop_test.go). It reads one JSON request on standard input: the DID
// documents to resolve and the secrets to hold, in didcomm-node's shapes,
// and a list of operations; it writes one JSON line with a result for each
// operation, in order: {ok: …} or {error: "name: message"}.
//
//   {op: "unpack", message, options?}      → {message, metadata}
//   {op: "pack_encrypted", message, to, from?, sign_by?, options?}
//                                          → {packed, metadata}
//   {op: "pack_signed", message, sign_by}  → {packed, metadata}
//   {op: "parse_forward", message}         → {next, forwarded}
//
// No network: the resolver answers from the documents given, nothing else.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Message } = require('didcomm-node');

/** Reads standard input whole. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A DIDResolver over the documents of the request. */
function resolver(docs) {
  return {
    async resolve(did) {
      return docs[did] ?? null;
    },
  };
}

/** A SecretsResolver over the secrets of the request. */
function secrets(list) {
  const byId = new Map(list.map((s) => [s.id, s]));
  return {
    async get_secret(id) {
      return byId.get(id) ?? null;
    },
    async find_secrets(ids) {
      return ids.filter((id) => byId.has(id));
    },
  };
}

/** Runs one operation. */
async function run(op, r, s) {
  switch (op.op) {
    case 'unpack': {
      const [msg, metadata] = await Message.unpack(op.message, r, s, op.options ?? {});
      return { message: msg.as_value(), metadata };
    }
    case 'pack_encrypted': {
      const msg = new Message(op.message);
      const [packed, metadata] = await msg.pack_encrypted(op.to, op.from ?? null, op.sign_by ?? null, r, s, op.options ?? {});
      return { packed, metadata };
    }
    case 'pack_signed': {
      const msg = new Message(op.message);
      const [packed, metadata] = await msg.pack_signed(op.sign_by, r, s);
      return { packed, metadata };
    }
    case 'parse_forward': {
      const [msg] = await Message.unpack(op.message, r, s, {});
      // try_parse_forward gives a plain object (the typings say a
      // ParsedForward), or null for a message that is not a forward.
      const fwd = msg.try_parse_forward();
      if (!fwd) throw new Error('not a forward message');
      const { next, forwarded_msg: forwarded } = typeof fwd.as_value === 'function' ? fwd.as_value() : fwd;
      return { next, forwarded: JSON.stringify(forwarded) };
    }
    default:
      throw new Error(`unknown operation ${op.op}`);
  }
}

const request = JSON.parse(await readStdin());
const r = resolver(request.dids ?? {});
const s = secrets(request.secrets ?? []);
const results = [];
for (const op of request.ops) {
  try {
    results.push({ ok: await run(op, r, s) });
  } catch (e) {
    results.push({ error: `${e?.name ?? 'Error'}: ${e?.message ?? e}` });
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
