// The events page: published events, one event's payload and where it went, and "send again to…".
import { test, expect, signIn, open } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test('an event is found in the list, shows where it went, and is sent again to a chosen webhook', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const tenant = unique('evt');
  const first = await api.post('/webhooks', { url: receiver.url('/first'), events: ['wallet.created'], tenant, description: 'First receiver' });
  const published = await api.publish('wallet.created', { walletId: 'w_e2e', balance: 0 }, tenant);
  await expect.poll(() => receiver.received.length).toBe(1);
  // A webhook made after the event never got it.
  await api.post('/webhooks', { url: receiver.url('/later'), events: ['user.created'], tenant, description: 'Later receiver' });
  const off = await api.post('/webhooks', { url: receiver.url('/off'), events: ['wallet.*'], tenant, description: 'Off receiver' });
  await api.patch(`/webhooks/${off.id}`, { active: false });

  await signIn(page);
  await open(page, `/events?tenant=${tenant}`);
  const rows = page.getByTestId('events').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('wallet.created');
  await expect(rows.first()).toContainText(published.id);
  await rows.first().getByRole('link', { name: 'Details' }).click();

  await expect(page.getByTestId('event-data')).toContainText('"walletId": "w_e2e"');
  const went = page.getByTestId('deliveries').locator('tbody tr');
  await expect(went).toHaveCount(1);
  await expect(went.first().getByRole('link', { name: 'First receiver' })).toBeVisible();
  await expect(went.first()).toContainText('succeeded');

  // Nothing is chosen beforehand, and each webhook says what sending it the event would do.
  const send = page.getByTestId('send-again');
  await expect(send.getByRole('button', { name: 'Send again' })).toBeDisabled();
  await expect(send.getByLabel('To')).toHaveValue('');
  await expect(send.getByLabel('To').locator('option')).toHaveText([
    'Choose a webhook…',
    'First receiver (already has it)',
    'Later receiver (not subscribed to wallet.created)',
    'Off receiver (off: it would be held until switched on)',
  ]);
  await expect(send.getByTestId('send-caveat')).toHaveText(
    'Of these 3 webhooks, 1 would only hold it (off or paused) and 1 do not subscribe to this type.',
  );
  await send.getByLabel('To').selectOption({ label: 'Later receiver (not subscribed to wallet.created)' });
  await send.getByRole('button', { name: 'Send again' }).click();
  await expect(page.getByTestId('sent-again')).toContainText('Queued');
  await expect.poll(() => receiver.received.map((r) => r.path)).toEqual(['/first', '/later']);
  const body = JSON.parse(receiver.received[1].body);
  expect(body.id).toBe(published.id);
  expect(body.data).toEqual({ walletId: 'w_e2e', balance: 0 });
  // The page shows the new delivery beside the first.
  await expect(went).toHaveCount(2);
  await expect(went.filter({ hasText: 'Later receiver' })).toHaveCount(1);
  expect(first.id).toBeTruthy();
  await receiver.stop();
});
