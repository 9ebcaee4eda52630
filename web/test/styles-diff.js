// Compares the computed styles two screenshots.js runs wrote:
// node styles-diff.js <dir-a> <dir-b>. Prints each difference; exits 1 if any.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const [a, b] = process.argv.slice(2);
let differences = 0;
for (const name of (await readdir(a)).filter((n) => n.endsWith('.json')).sort()) {
  const left = JSON.parse(await readFile(join(a, name), 'utf8'));
  const right = JSON.parse(await readFile(join(b, name), 'utf8'));
  for (const el of new Set([...Object.keys(left), ...Object.keys(right)])) {
    if (!left[el] || !right[el]) {
      console.log(`${name}: ${el} only in ${left[el] ? a : b}`);
      differences++;
      continue;
    }
    for (const p of new Set([...Object.keys(left[el]), ...Object.keys(right[el])])) {
      if (left[el][p] !== right[el][p]) {
        console.log(`${name}: ${el} { ${p}: ${left[el][p]} → ${right[el][p]} }`);
        differences++;
      }
    }
  }
}
console.log(`${differences} differences`);
process.exitCode = differences ? 1 : 0;
