// What a user notices before and around the WASM bundle: pages carry their data in the first HTML,
// work at a phone's width, and show times in the browser's zone.
import { test, expect, signIn, open, ADMIN_TOKEN } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('pages render their data on the server', async ({ page, request }) => {
    const receiver = await Receiver.start();
    const hook = await new Api(request).webhook(receiver.url('/ssr'), ['wallet.created']);
    await page.goto('/login');
    await page.getByLabel('API key').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
    await expect(page.getByTestId('card-success')).toBeVisible();
    await page.goto(`/webhooks/${hook.id}`);
    await expect(page.getByRole('heading', { name: receiver.url('/ssr') })).toBeVisible();
    await expect(page.getByTestId('webhook-status')).toHaveText('active');
    await page.goto('/webhooks');
    await expect(page.getByTestId('webhooks')).toContainText(receiver.url('/ssr'));
    await receiver.stop();
  });
});

test.describe('before the WASM arrives (JavaScript disabled)', () => {
  test.use({ javaScriptEnabled: false });

  test('the new-webhook form works as a plain HTML form', async ({ page, request }) => {
    const receiver = await Receiver.start();
    const description = unique('no-js hook');
    await page.goto('/login');
    await page.getByLabel('API key').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();

    // Refused: back on the form with the reason next to the field and what was typed kept.
    await page.goto('/webhooks/new');
    await page.getByLabel('Endpoint URL').fill('ftp://files.example.com/hook');
    await page.getByLabel('Description').fill(description);
    await page.getByRole('checkbox', { name: 'user.created', exact: true }).check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect(page).toHaveURL(/\/webhooks\/new\?/);
    await expect(page.locator('.field-error')).toContainText('http');
    await expect(page.getByLabel('Description')).toHaveValue(description);
    await expect(page.getByRole('checkbox', { name: 'user.created', exact: true })).toBeChecked();

    // Corrected: created, and the browser lands on the new webhook's page.
    await page.getByLabel('Endpoint URL').fill(receiver.url('/no-js'));
    await page.getByTestId('group-wallet').getByRole('checkbox').first().check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect(page.getByTestId('created-notice')).toBeVisible();
    await expect(page.getByRole('heading', { name: receiver.url('/no-js') })).toBeVisible();
    const found = await new Api(request).get(`/webhooks?search=${encodeURIComponent(description)}`);
    expect(found.data).toHaveLength(1);
    expect(found.data[0].events.sort()).toEqual(['category:wallet', 'user.created']);
    await receiver.stop();
  });
});

test.describe('at a phone width', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('pages fit the screen (wide tables scroll inside their box)', async ({ page }) => {
    await signIn(page);
    for (const path of ['/', '/webhooks', '/webhooks/new', '/events', '/deliveries', '/event-types', '/keys']) {
      await open(page, path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
    }
    // The header is compact: two short rows, not a quarter of the screen.
    const header = await page.locator('header.topbar').boundingBox();
    expect(header!.height).toBeLessThanOrEqual(100);
  });

  test("list rows are cards that show each row's health and status without scrolling sideways", async ({ page, request }) => {
    const receiver = await Receiver.start();
    const api = new Api(request);
    const tenant = unique('phone');
    const hook = await api.webhook(receiver.url('/a-rather-long-path/for/a/phone/screen'), ['wallet.created'], tenant);
    await api.publish('wallet.created', { n: 1 }, tenant);
    await expect.poll(() => receiver.received.length).toBe(1);
    await signIn(page);
    const inView = async (locator: ReturnType<typeof page.locator>) => {
      await expect(locator).toBeVisible();
      const box = (await locator.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    };
    await open(page, `/webhooks?tenant=${tenant}`);
    await inView(page.getByTestId(`webhook-${hook.id}`).getByTestId('health'));
    await expect(page.getByTestId('webhooks').locator('thead')).toBeHidden();
    await open(page, `/deliveries?tenant=${tenant}`);
    const row = page.getByTestId('deliveries').locator('tbody tr').first();
    await inView(row.locator('.badge'));
    await open(page, `/events?tenant=${tenant}`);
    await inView(page.getByTestId('events').locator('tbody tr').first().getByRole('link', { name: 'Details' }));
    for (const path of [`/webhooks?tenant=${tenant}`, `/deliveries?tenant=${tenant}`, `/events?tenant=${tenant}`]) {
      await open(page, path);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), path).toBeLessThanOrEqual(0);
    }
    // The delivery's own page fits a 360 px screen.
    const deliveries = await api.get(`/deliveries?webhookId=${hook.id}`);
    await page.setViewportSize({ width: 360, height: 740 });
    await open(page, `/deliveries/${deliveries.data[0].id}`);
    await expect(page.getByRole('heading', { name: 'wallet.created to' })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await receiver.stop();
  });
});

for (const width of [1024, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 800 } });

    test('the header is one row and every link of the navigation is in view', async ({ page }) => {
      await signIn(page);
      const account = page.getByTestId('account').locator('summary');
      const middle = async (box: Promise<{ y: number; height: number } | null>) => {
        const b = (await box)!;
        return b.y + b.height / 2;
      };
      const row = await middle(account.boundingBox());
      expect(Math.abs((await middle(page.getByRole('link', { name: 'Monay Webhooks' }).boundingBox())) - row)).toBeLessThan(4);
      const nav = page.getByRole('navigation', { name: 'Main' });
      for (const name of ['Dashboard', 'Webhooks', 'Events', 'Deliveries', 'Event catalog', 'API keys', 'Audit log']) {
        const link = nav.getByRole('link', { name });
        await expect(link).toBeInViewport({ ratio: 1 });
        // Not cut by the navigation's own box either (it scrolls sideways when too narrow).
        const [l, n] = [(await link.boundingBox())!, (await nav.boundingBox())!];
        expect(l.x + l.width, `${name} is cut`).toBeLessThanOrEqual(n.x + n.width + 0.5);
        expect(Math.abs((await middle(link.boundingBox())) - row)).toBeLessThan(4);
      }
      expect((await page.locator('header.topbar').boundingBox())!.height).toBeLessThan(70);
      // Who is signed in, and Sign out, are in the account menu.
      await expect(page.getByRole('button', { name: 'Sign out' })).toBeHidden();
      await account.click();
      await expect(page.getByTestId('who')).toContainText('admin');
      await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
    });
  });
}

test.describe('in another time zone', () => {
  test.use({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });

  test("times are shown in the browser's zone", async ({ page, request }) => {
    const receiver = await Receiver.start();
    const path = `/${unique('tz')}`;
    const hook = await new Api(request).webhook(receiver.url(path), ['wallet.created']);
    await signIn(page);
    await open(page, `/webhooks?search=${path.slice(1)}`);
    await expect(page.getByTestId('webhooks').locator('tbody tr')).toHaveCount(1);
    const time = page.getByTestId('webhooks').locator('time').first();
    const iso = await time.getAttribute('datetime');
    const expected = new Date(iso!).toLocaleString('en-US', { timeZone: 'Asia/Tokyo' });
    await expect(time).toHaveText(expected);
    expect(hook.id).toBeTruthy();
    await receiver.stop();
  });

  test("a custom time range is read in the browser's zone", async ({ page, request }) => {
    const receiver = await Receiver.start();
    const tenant = unique('tzrange');
    const hook = await new Api(request).webhook(receiver.url('/tz'), ['wallet.created'], tenant);
    await new Api(request).publish('wallet.created', { n: 1 }, tenant);
    await expect.poll(() => receiver.received.length).toBe(1);
    await signIn(page);
    await open(page, `/deliveries?webhookId=${hook.id}`);
    // Tokyo is UTC+9: read as UTC, "the last half hour in Tokyo" would lie nine hours ahead and
    // hold nothing.
    const tokyo = (ms: number) =>
      new Date(ms + 9 * 3_600_000).toISOString().slice(0, 16);
    await page.getByTestId('range').selectOption('custom');
    await page.getByTestId('range-since').fill(tokyo(Date.now() - 30 * 60_000));
    await page.getByTestId('range-until').fill(tokyo(Date.now() + 30 * 60_000));
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/tz=-540/);
    await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–1 of 1');
    // Reloaded, the server renders the same view, and the fields show the times as typed.
    const since = await page.getByTestId('range-since').inputValue();
    await page.reload();
    await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–1 of 1');
    await expect(page.getByTestId('range-since')).toHaveValue(since);
    await receiver.stop();
  });
});
