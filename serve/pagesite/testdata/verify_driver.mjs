// Runs the page's verification script (verify.js, copied beside this file
// as verify.mjs) under Node against a PLANET server on loopback, as a
// visitor's browser would: node verify_driver.mjs <page URL> <did> <docs> <now>.
// Prints verifySite's result as JSON.
import { verifySite } from './verify.mjs';

const [base, did, docs, now] = process.argv.slice(2);
const result = await verifySite(base, did, docs.split(' '), fetch, new Date(now));
process.stdout.write(JSON.stringify(result));
