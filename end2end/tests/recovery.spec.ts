// Recovery in the console: failed deliveries recovered since a time, the failed ones of a filtered
// log view retried in bulk, events missed while a webhook was off replayed, and a pause that holds
// deliveries until the webhook is resumed. Each time the receiver is what shows it worked.
import { test, expect, signIn, open } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

async function failedCount(api: Api, query: string): Promise<number> {
  return (await api.get(`/deliveries?status=failed&${query}`)).data.length;
}

test('recover the failed deliveries of a webhook since a time', async ({ page, request }) => {
  const receiver = await Receiver.start(500);
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/recover'), ['kyc.failed']);
  await api.publish('kyc.failed', { n: 1 });
  await api.publish('kyc.failed', { n: 2 });
  await expect.poll(() => failedCount(api, `webhookId=${hook.id}`)).toBe(2);
  receiver.status = 200;

  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const recovery = page.getByTestId('recovery');
  await recovery.getByLabel('Since').selectOption('1h');
  await recovery.getByRole('button', { name: 'Check' }).click();
  // Counted before anything is sent.
  await expect(recovery.getByTestId('recovery-counts')).toContainText('2 failed deliveries can be sent again');
  expect(receiver.received).toHaveLength(2);
  await recovery.getByRole('button', { name: 'Recover 2 failed' }).click();
  await expect(recovery.getByTestId('recovery-done')).toHaveText('2 failed deliveries queued again.');
  await expect.poll(() => receiver.received.length).toBe(4);
  await expect.poll(() => failedCount(api, `webhookId=${hook.id}`)).toBe(0);
  await receiver.stop();
});

test('retry all the failed deliveries of a filtered log view', async ({ page, request }) => {
  const receiver = await Receiver.start(500);
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/bulk'), ['user.created', 'user.deleted']);
  await api.publish('user.created', { n: 1 });
  await api.publish('user.created', { n: 2 });
  await api.publish('user.deleted', { n: 3 });
  await expect.poll(() => failedCount(api, `webhookId=${hook.id}`)).toBe(3);
  receiver.status = 200;

  await signIn(page);
  await open(page, `/deliveries?webhookId=${hook.id}&event=user.created`);
  const bulk = page.getByTestId('retry-failed');
  await bulk.getByRole('button', { name: 'Retry all 2 failed in this view' }).click();
  await expect(bulk).toContainText('Queue 2 failed deliveries again, now?');
  await bulk.getByRole('button', { name: 'Retry 2' }).click();
  await expect(page.getByTestId('retry-failed-done')).toHaveText('2 queued again.');
  await expect.poll(() => receiver.received.length).toBe(5);
  const resent = receiver.received.slice(3).map((r) => JSON.parse(r.body).event);
  expect(resent).toEqual(['user.created', 'user.created']);
  // The delivery outside the view stays failed.
  await expect.poll(() => failedCount(api, `webhookId=${hook.id}`)).toBe(1);
  await expect(page.getByTestId('retry-failed')).toHaveCount(0);
  await receiver.stop();
});

test("retrying the failed deliveries of a webhook that is off says they are only held", async ({ page, request }) => {
  const receiver = await Receiver.start(500);
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/off'), ['user.created']);
  await api.publish('user.created', { n: 1 });
  await expect.poll(() => failedCount(api, `webhookId=${hook.id}`)).toBe(1);
  await api.post(`/webhooks/${hook.id}/disable`, {});

  await signIn(page);
  await open(page, `/deliveries?webhookId=${hook.id}`);
  const bulk = page.getByTestId('retry-failed');
  await bulk.getByRole('button', { name: 'Retry all 1 failed in this view' }).click();
  const confirm = bulk.getByRole('group', { name: 'Confirm retry' });
  await expect(confirm).toContainText('1 of them is only held: its webhook is off');
  // The panel takes the focus, and Esc closes it without queuing anything.
  await expect(confirm.getByRole('button', { name: 'Retry 1' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  expect(await failedCount(api, `webhookId=${hook.id}`)).toBe(1);
  await bulk.getByRole('button', { name: 'Retry all 1 failed in this view' }).click();
  await confirm.getByRole('button', { name: 'Retry 1' }).click();
  await expect(page.getByTestId('retry-failed-done')).toContainText('1 queued again. 1 of them is only held');
  expect((await api.get(`/deliveries?webhookId=${hook.id}&status=held`)).data).toHaveLength(1);
  await receiver.stop();
});

test('replay the events a webhook missed while it was disabled', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  // A tenant of its own: only its events (and broadcasts) count as missed.
  const tenant = unique('replay');
  const hook = await api.webhook(receiver.url('/missed'), ['kyc.completed'], tenant);
  await api.post(`/webhooks/${hook.id}/disable`, {});
  await api.publish('kyc.completed', { n: 1 }, tenant);
  await api.post(`/webhooks/${hook.id}/enable`, {});

  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const recovery = page.getByTestId('recovery');
  await recovery.getByRole('button', { name: 'Check' }).click();
  await expect(recovery.getByTestId('recovery-counts')).toContainText('1 event it missed');
  expect(receiver.received).toHaveLength(0);
  await recovery.getByRole('button', { name: 'Replay 1 missed' }).click();
  await expect(recovery.getByTestId('recovery-done')).toHaveText('1 missed event queued.');
  await expect.poll(() => receiver.received.length).toBe(1);
  expect(JSON.parse(receiver.received[0].body).event).toBe('kyc.completed');
  await receiver.stop();
});

test('pause a webhook after confirming, then resume it: what was held is sent', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/paused'), ['user.deleted']);

  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  await page.getByRole('button', { name: 'Pause…' }).click();
  const confirm = page.getByRole('group', { name: 'Confirm pause' });
  await expect(confirm).toContainText('Nothing is lost');
  await confirm.getByRole('button', { name: 'Pause deliveries' }).click();
  await expect(page.getByTestId('webhook-status')).toHaveText('paused');

  await api.publish('user.deleted', { n: 1 });
  await expect.poll(async () => (await api.get(`/deliveries?webhookId=${hook.id}&status=held`)).data.length).toBe(1);
  await page.waitForTimeout(500);
  expect(receiver.received).toHaveLength(0);

  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('webhook-status')).toHaveText('active');
  await expect.poll(() => receiver.received.length).toBe(1);
  const audit = await api.get('/audit?action=webhook.paused');
  expect(audit.data.some((e: { target: string }) => e.target === hook.id)).toBeTruthy();
  await receiver.stop();
});
