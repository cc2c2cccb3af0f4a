// The console's first load: its bundle (WASM, JavaScript — the module and the loader of the split
// chunks —, stylesheet) arrives compressed, under
// names that carry its content hash, cached for a year, with an ETag that a revalidation answers
// with 304 and no body. (Bytes and time to interactive are measured by scripts/first-load.sh.)
import { test, expect } from './fixtures/console';
import { hydrated, ADMIN_TOKEN } from './fixtures/console';
import type { Response } from '@playwright/test';
import { Api } from './fixtures/api';

test('the bundle is served compressed, hashed, cached for a year, with an ETag', async ({ page }) => {
  const bundle: Response[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) bundle.push(r);
  });
  await page.goto('/login');
  await hydrated(page);
  const kinds = bundle.map((r) => r.url().split('.').pop());
  expect(kinds.sort()).toEqual(['css', 'js', 'js', 'wasm']);
  for (const r of bundle) {
    const headers = await r.allHeaders();
    expect(r.url()).toMatch(/\/pkg\/(monay-webhooks|__wasm_split)\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/);
    // Chromium asks for brotli over HTTPS only; over plain HTTP it gets gzip.
    expect(['br', 'gzip']).toContain(headers['content-encoding']);
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(headers['vary']).toBe('Accept-Encoding');
    expect(headers['etag']).toMatch(/^"[0-9a-f]{24}-(br|gzip)"$/);
  }

  const wasm = bundle.find((r) => r.url().endsWith('.wasm'))!;
  const etag = (await wasm.allHeaders())['etag'];
  const encoding = etag.includes('-br') ? 'br' : 'gzip';
  const again = await page.request.get(wasm.url(), { headers: { 'Accept-Encoding': encoding, 'If-None-Match': etag } });
  expect(again.status()).toBe(304);
  expect((await again.body()).length).toBe(0);
  const brotli = await page.request.get(wasm.url(), { headers: { 'Accept-Encoding': 'br' } });
  expect(brotli.headers()['content-encoding']).toBe('br');
});

// The bundle is split by area of the console (`cargo leptos build --split`): the sign-in page
// loads the main module only, and a page's own code arrives the first time a page of its area is
// shown, from its hashed, compressed, immutable chunks.
test("each page's code is fetched when the page is first shown", async ({ page }) => {
  const wasm: Response[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push(r);
  });
  const named = (part: string) => wasm.filter((r) => r.url().includes(part));
  await page.goto('/login');
  await hydrated(page);
  expect(wasm.map((r) => new URL(r.url()).pathname)).toEqual([expect.stringMatching(/^\/pkg\/monay-webhooks\./)]);

  await page.getByLabel('API key').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  expect(named('split___dashboard_area')).toHaveLength(1);
  expect(named('split___webhooks_area')).toHaveLength(0);

  // A client-side move to the webhook list fetches that page's code, and the page works.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();
  await expect.poll(() => named('split___webhooks_area').length).toBe(1);
  for (const r of wasm) {
    expect(r.status(), r.url()).toBe(200);
    const headers = await r.allHeaders();
    expect(r.url()).toMatch(/\.[A-Za-z0-9_-]{22}\.wasm$/);
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(['br', 'gzip']).toContain(headers['content-encoding']);
  }
  await page.getByRole('link', { name: 'New webhook' }).click();
  await expect(page.getByLabel('Endpoint URL')).toBeVisible();
  // The same area: its code is there already.
  expect(named('split___webhooks_area')).toHaveLength(1);
  await expect(page).toHaveTitle('New webhook · Monay Webhooks');
});

// A link to a webhook's page, opened with nothing cached: the page, its bundle and its area's
// chunks (preloaded by the page itself) — a few requests, not the hundred-odd small chunks of a
// split by route. (Its time on a slow link is measured by scripts/first-load.sh.)
test("a deep link fetches its page's code in a few requests", async ({ browser, request }) => {
  const hook = await new Api(request).webhook('https://receiver.example.com/deep-link', ['wallet.*']);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('API key').fill(ADMIN_TOKEN);
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  const requests: string[] = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`/webhooks/${hook.id}`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'https://receiver.example.com/deep-link' })).toBeVisible();
  expect(requests.length, requests.join('\n')).toBeLessThanOrEqual(30);
  expect(requests.filter((p) => p.includes('split___webhooks_area'))).toHaveLength(1);
  await context.close();
});
