// The dashboard's live feed shows attempts as they happen, without a reload.
import { test, expect, signIn } from './fixtures/console';
import { Api } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test('an event published through the API appears in the live feed', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/live'), ['user.created']);
  await signIn(page);
  await expect(page.getByTestId('live-status')).toContainText('connected');
  await api.publish('user.created', { userId: 'u_live' });
  const feed = page.getByTestId('live-feed');
  await expect(feed).toContainText(hook.id);
  await expect(feed).toContainText('succeeded');
  // A person reads the event type and the webhook's name (its URL: it has no description).
  await expect(feed).toContainText('user.created');
  await expect(feed.getByRole('link', { name: receiver.url('/live') })).toBeVisible();
  await expect(page.getByTestId('card-success')).toBeVisible();
  await receiver.stop();
});
