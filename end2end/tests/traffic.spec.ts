// Traffic controls in the console: a webhook's delivery controls and own headers, a delivery that
// waits behind an earlier one, a key's rate limit and the addresses it may be used from.
import { test, expect, signIn, open, WebhookForm } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test("a webhook's delivery controls and headers are set in the form, shown on its page and sent", async ({ page, request }) => {
  const receiver = await Receiver.start();
  const tenant = unique('ctl');
  await signIn(page);
  await open(page, '/webhooks/new');
  const form = new WebhookForm(page);
  await form.fill(receiver.url('/controlled'), unique('controlled'));
  await form.pickEvent('kyc.completed');
  await page.getByLabel('Headers sent with every delivery').fill('X-Partner: acme\nAuthorization: Bearer partner-token');
  await page.getByLabel('At most this many deliveries per second').fill('2');
  await page.getByLabel('Order').selectOption('fifo');
  await form.newTenant(tenant);
  await form.create();
  await expect(page.getByTestId('new-secret')).toContainText('whsec_');
  await page.getByRole('link', { name: 'Open the webhook' }).click();
  await expect(page.getByTestId('delivery-controls')).toHaveText('At most 2 per second, one at a time, in publish order (FIFO).');
  await expect(page.getByTestId('sending')).toContainText('X-Partner: acme');

  await new Api(request).publish('kyc.completed', { userId: 'u1' }, tenant);
  await expect.poll(() => receiver.received.length).toBe(1);
  expect(receiver.received[0].headers['x-partner']).toBe('acme');
  expect(receiver.received[0].headers['authorization']).toBe('Bearer partner-token');

  // A reserved header is refused, naming it, and nothing changes.
  const edit = page.getByRole('form', { name: 'Edit webhook' });
  await edit.getByLabel('Headers sent with every delivery').fill('Webhook-Signature: forged');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(edit.locator('.field-error')).toContainText('`Webhook-Signature` is set by the server');
  // Lifting the rate and the order.
  await edit.getByLabel('Headers sent with every delivery').fill('X-Partner: acme');
  await edit.getByLabel('At most this many deliveries per second').fill('');
  await edit.getByLabel('Order').selectOption('none');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('delivery-controls')).toHaveText('As fast as they come, in any order.');
  await receiver.stop();
});

test('a delivery of a FIFO webhook shows what it waits behind', async ({ page, request }) => {
  const receiver = await Receiver.start();
  receiver.delayMs = 4_000;
  const tenant = unique('fifo');
  const api = new Api(request);
  const hook = await api.post('/webhooks', { url: receiver.url('/fifo'), events: ['aml.alert'], tenant, ordering: 'fifo' });
  for (let n = 0; n < 3; n++) await api.publish('aml.alert', { n }, tenant);
  await expect.poll(() => receiver.received.length).toBe(1);
  await signIn(page);
  await open(page, `/deliveries?webhookId=${hook.id}`);
  await expect(page.getByTestId('waiting-behind')).toHaveCount(2);
  await page.getByTestId('waiting-behind').first().getByRole('link').click();
  await expect(page.getByTestId('delivery-status')).toContainText('delivering');
  await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(3);
  const order = receiver.received.map((r) => JSON.parse(r.body).data.n);
  expect(order).toEqual([0, 1, 2]);
  await receiver.stop();
});

test("a key's rate limit and allowed addresses are set on the keys page and hold at once", async ({ page, request }) => {
  const name = unique('limited key');
  await signIn(page);
  await open(page, '/keys');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Tenant').fill(unique('lim'));
  await page.getByLabel('Rate limit (requests per second; empty: the server\'s default, 0: unlimited)').first().fill('3');
  await page.getByLabel('Allowed addresses (one IP or CIDR per line; empty: anywhere)').first().fill('203.0.113.0/24');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-key').textContent())!.trim();
  const row = page.getByTestId('keys').locator('tr', { hasText: name });
  await expect(row.getByTestId('key-limits')).toHaveText('3/s · from 203.0.113.0/24');
  // The test runs on loopback: outside the list.
  const refused = await request.get('/api/webhooks', { headers: { Authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.code).toBe('ip_not_allowed');

  await row.getByRole('button', { name: 'Change…' }).click();
  await row.getByLabel('Allowed addresses (one IP or CIDR per line; empty: anywhere)').fill('127.0.0.1\n::1');
  await row.getByRole('button', { name: 'Save limits' }).click();
  await expect(row.getByTestId('key-limits')).toHaveText('3/s · from 127.0.0.1/32, ::1/128');
  const let_in = await request.get('/api/webhooks', { headers: { Authorization: `Bearer ${key}` } });
  expect(let_in.status()).toBe(200);
  expect(let_in.headers()['ratelimit-limit']).toBe('3');

  await open(page, '/audit?action=auth.ip_refused');
  await expect(page.getByTestId('audit')).toContainText('auth.ip_refused');
});
