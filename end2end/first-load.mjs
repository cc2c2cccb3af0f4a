// Measures the console's first load on a throttled "slow 4G" network (Lighthouse's: 150 ms round
// trip, 1.6 Mbit/s down, 750 kbit/s up) in Debian's Chromium: bytes over the wire, first
// contentful paint, and time to interactive (the app marks <body data-hydrated> once hydrated);
// then a repeat visit (the browser's cache), and, for comparison, the bundle sent uncompressed
// (as before the server compressed it); then, signed in, the first visit of the dashboard with an
// empty cache (with the bundle split by route, it loads the dashboard's own chunks besides the main
// module). Prints the figures; asserts nothing.
//   node end2end/first-load.mjs http://127.0.0.1:3102/login [admin key]
import { chromium } from '@playwright/test';

const url = process.argv[2] ?? 'http://127.0.0.1:3102/login';
const adminKey = process.argv[3];
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

async function visit(page, cdp, to = url) {
  let bytes = 0;
  let requests = 0;
  const onFinished = (e) => (bytes += e.encodedDataLength);
  const onRequest = () => (requests += 1);
  cdp.on('Network.loadingFinished', onFinished);
  cdp.on('Network.requestWillBeSent', onRequest);
  const started = Date.now();
  await page.goto(to, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120_000 });
  const interactive = Date.now() - started;
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
  await page.waitForTimeout(200);
  cdp.off('Network.loadingFinished', onFinished);
  cdp.off('Network.requestWillBeSent', onRequest);
  return { bytes, requests, fcp, interactive };
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const rows = [];
for (const [name, headers] of [['compressed', {}], ['uncompressed (as before)', { 'Accept-Encoding': 'identity' }]]) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  if (Object.keys(headers).length) await cdp.send('Network.setExtraHTTPHeaders', { headers });
  rows.push([`first visit, ${name}`, await visit(page, cdp)]);
  // The repeat visit shows the caching (immutable hashed names): only the page itself is fetched.
  if (name === 'compressed') rows.push(['repeat visit (cached bundle)', await visit(page, cdp)]);
  await context.close();
}
if (adminKey) {
  // Signed in on a fast network, then the cache emptied and the network slowed: the dashboard as a
  // user's first visit after signing in on another device would see it.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel('API key').fill(adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  rows.push(['dashboard, signed in, empty cache', await visit(page, cdp, new URL('/', url).href)]);
  // A deep link to a webhook's page (the heaviest page: charts, recovery, the edit form), as a
  // link in a chat or an e-mail opens it: signed in, nothing cached.
  const made = await page.request.post(new URL('/api/webhooks', url).href, {
    headers: { Authorization: `Bearer ${adminKey}` },
    data: { url: 'https://receiver.example.com/first-load', events: ['wallet.*'], description: 'first load' },
  });
  const hook = await made.json();
  await cdp.send('Network.clearBrowserCache');
  rows.push(['deep link to a webhook, empty cache', await visit(page, cdp, new URL(`/webhooks/${hook.id}`, url).href)]);
  // Then a move to another page, as a click makes it (its code fetched on the slow link).
  await cdp.send('Network.clearBrowserCache');
  const started = Date.now();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deliveries' }).click();
  await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor({ timeout: 120_000 });
  await page.waitForSelector('body[data-hydrated="true"]');
  const moved = Date.now() - started;
  await context.close();
  console.log(`moving from the webhook's page to the deliveries (slow 4G, code not cached): ${(moved / 1000).toFixed(2)} s`);
}
await browser.close();
console.log(`first load of ${url} on slow 4G (150 ms RTT, 1.6 Mbit/s down):`);
for (const [name, r] of rows) {
  console.log(`  ${name.padEnd(40)} ${(r.bytes / 1024).toFixed(0).padStart(6)} KiB ${String(r.requests).padStart(4)} requests   first paint ${(r.fcp / 1000).toFixed(2)} s   interactive ${(r.interactive / 1000).toFixed(2)} s`);
}
