// Opens pages in headless Chromium (playwright-core from web/test) and
// prints, as JSON, what the verification script wrote into each, and any
// console errors (a Content-Security-Policy violation is one):
// node browser.mjs <web/test dir> <url>...
import { createRequire } from 'node:module';
import path from 'node:path';

const [webTest, ...urls] = process.argv.slice(2);
const { chromium } = createRequire(path.join(webTest, 'package.json'))('playwright-core');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const url of urls) {
    const page = await browser.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('404')) errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('#browser-check.ok, #browser-check.failed'), null, { timeout: 20000 }).catch(() => {});
    const text = await page.$eval('#verification', (e) => e.innerText);
    results.push({ url, text, errors });
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
