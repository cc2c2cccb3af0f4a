// The console's first load: its bundle (WASM, JavaScript, stylesheet) arrives compressed, under
// names that carry its content hash, cached for a year, with an ETag that a revalidation answers
// with 304 and no body. (Bytes and time to interactive are measured by scripts/first-load.sh.)
import { test, expect } from './fixtures/console';
import { hydrated } from './fixtures/console';
import type { Response } from '@playwright/test';

test('the bundle is served compressed, hashed, cached for a year, with an ETag', async ({ page }) => {
  const bundle: Response[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) bundle.push(r);
  });
  await page.goto('/login');
  await hydrated(page);
  const kinds = bundle.map((r) => r.url().split('.').pop());
  expect(kinds.sort()).toEqual(['css', 'js', 'wasm']);
  for (const r of bundle) {
    const headers = await r.allHeaders();
    expect(r.url()).toMatch(/\/pkg\/monay-webhooks\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/);
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
