// Checks the eddsa-jcs-2022 test vector of W3C vc-di-eddsa
// (TestVectors/eddsa-jcs-2022/signedJCS.json, key TestVectors/keyPair.json)
// with the page's verification script: node vector_driver.mjs <file> <key>.
// Prints "ok" or the error.
import { readFileSync } from 'node:fs';
import { checkProof, ed25519Key } from './verify.mjs';

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));
try {
  await checkProof(doc, doc.proof, ed25519Key(process.argv[3]));
  process.stdout.write('ok');
} catch (e) {
  process.stdout.write(e.message);
}
