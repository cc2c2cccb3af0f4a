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
