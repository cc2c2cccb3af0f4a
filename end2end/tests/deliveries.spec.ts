// The delivery log: filters kept in the URL, a failed attempt's details, a retry, and the CSV export.
import * as fs from 'fs';
import { test, expect, signIn, open, DeliveryLog } from './fixtures/console';
import { Api } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test('filter the log, open a failed attempt, export the view and retry it', async ({ page, request }) => {
  const receiver = await Receiver.start(500);
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/flaky'), ['kyc.failed']);
  await api.publish('kyc.failed', { userId: 'u_e2e' });
  await expect
    .poll(async () => (await api.get(`/deliveries?webhookId=${hook.id}&status=failed`)).data.length)
    .toBe(1);

  await signIn(page);
  await open(page, `/deliveries?webhookId=${hook.id}`);
  const log = new DeliveryLog(page);
  await log.filterStatus('failed');
  await expect(page).toHaveURL(/status=failed/);
  await expect(page).toHaveURL(new RegExp(`webhookId=${hook.id}`));
  await expect(log.rows()).toHaveCount(1);
  // A person reads the webhook's name (its URL here, as it has no description), the id beside it.
  await expect(log.rows().first().getByRole('link', { name: receiver.url('/flaky') })).toBeVisible();
  await expect(log.rows().first()).toContainText(hook.id);

  const download = page.waitForEvent('download');
  await log.exportLink().click();
  const csv = fs.readFileSync((await (await download).path())!, 'utf8').trim().split('\n');
  expect(csv[0].split(',').slice(0, 3)).toEqual(['id', 'createdAt', 'updatedAt']);
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(hook.id);
  expect(csv[1]).toContain(',failed,');

  await log.rows().first().getByRole('link', { name: 'Details' }).click();
  await expect(page.getByTestId('attempt')).toContainText('HTTP 500');
  await expect(page.getByTestId('response-body')).toHaveText('receiver is down');

  receiver.status = 200;
  await page.getByRole('button', { name: 'Retry now' }).click();
  await expect(page.getByTestId('retry-result')).toContainText('Retry delivered');
  await expect(page.getByTestId('delivery-status')).toContainText('succeeded');
  expect(receiver.received).toHaveLength(2);
  await receiver.stop();
});

test('the time range picker and the webhook picker change the log; pages count and go back', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const tenant = `range-${Date.now().toString(36)}`;
  const hook = await api.post('/webhooks', { url: receiver.url('/range'), events: ['user.created'], tenant, description: 'Range receiver' });
  const other = await api.post('/webhooks', { url: receiver.url('/other'), events: ['user.created'], tenant, description: 'Other receiver' });
  for (let i = 0; i < 27; i++) await api.publish('user.created', { n: i }, tenant);
  await expect.poll(() => receiver.received.length).toBe(54);

  await signIn(page);
  await open(page, `/deliveries?tenant=${tenant}`);
  const log = new DeliveryLog(page);
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–25 of 54');

  // Pick one webhook by name: the log shows its 27, over two pages.
  await page.getByTestId('webhook-select').selectOption({ label: `Range receiver · ${tenant}` });
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(new RegExp(`webhookId=${hook.id}`));
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–25 of 27');
  await page.getByRole('link', { name: 'Next' }).click();
  await expect(page.getByTestId('page-count')).toHaveText('Page 2 · 26–27 of 27');
  await expect(log.rows()).toHaveCount(2);
  await page.getByRole('link', { name: 'Previous' }).click();
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–25 of 27');
  await expect(log.rows()).toHaveCount(25);

  // Last hour: everything is in it. A custom range that ended an hour ago: nothing.
  await page.getByTestId('range').selectOption('1h');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/range=1h/);
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–25 of 27');
  await page.getByTestId('range').selectOption('custom');
  await expect(page.getByTestId('range-since')).toBeVisible();
  const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByTestId('range-since').fill(local(new Date(Date.now() - 3 * 3_600_000)));
  await page.getByTestId('range-until').fill(local(new Date(Date.now() - 3_600_000)));
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/range=custom/);
  await expect(page.getByText('No deliveries match these filters.')).toBeVisible();
  // Until now (and a minute): all 27 again, the times read in this browser's zone.
  await page.getByTestId('range-until').fill(local(new Date(Date.now() + 60_000)));
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–25 of 27');
  expect(other.id).not.toBe(hook.id);
  await receiver.stop();
});

test('the CSV export holds exactly the rows the view counts: last hour, and a custom range', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const tenant = `export-${Date.now().toString(36)}`;
  await api.post('/webhooks', { url: receiver.url('/export'), events: ['user.created'], tenant });
  for (let i = 0; i < 3; i++) await api.publish('user.created', { n: i }, tenant);
  await expect.poll(() => receiver.received.length).toBe(3);
  const csvRows = async () => {
    const download = page.waitForEvent('download');
    await new DeliveryLog(page).exportLink().click();
    const text = fs.readFileSync((await (await download).path())!, 'utf8').trim();
    expect(text.startsWith('id,'), `a CSV, not an error: ${text.slice(0, 200)}`).toBeTruthy();
    return text.split('\n').length - 1;
  };

  await signIn(page);
  await open(page, `/deliveries?tenant=${tenant}&range=1h`);
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–3 of 3');
  // Published after the view was read: not in it, so not in its export either.
  await api.publish('user.created', { n: 3 }, tenant);
  await expect.poll(() => receiver.received.length).toBe(4);
  expect(await csvRows()).toBe(3);

  // A custom range in local times (UTC here, tz=0) around now: the export is a CSV of the same rows.
  const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const since = utc(Date.now() - 30 * 60_000);
  const until = utc(Date.now() + 30 * 60_000);
  await open(page, `/deliveries?tenant=${tenant}&range=custom&since=${since}&until=${until}&tz=0`);
  await expect(page.getByTestId('page-count')).toHaveText('Page 1 · 1–4 of 4');
  expect(await csvRows()).toBe(4);
  await receiver.stop();
});
