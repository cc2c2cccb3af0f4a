// Registering a webhook in the console, testing it, rotating its secret, switching it off and on.
import { test, expect, signIn, open, WebhookForm, WebhookDetail, ADMIN_TOKEN as ADMIN } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test('register a webhook against a real receiver, send a test and see the attempt', async ({ page }) => {
  const receiver = await Receiver.start();
  const description = unique('e2e orders');
  await signIn(page);
  await open(page, '/webhooks/new');
  const form = new WebhookForm(page);
  await form.fill(receiver.url('/orders'), description);
  await form.pickCategory('wallet');
  await form.pickEvent('transaction.completed');
  await form.create();
  await expect(page.getByTestId('new-secret')).toContainText('whsec_');
  // The form is emptied (a second click cannot make a duplicate) and the secret is in view.
  await expect(page.getByLabel('Endpoint URL')).toHaveValue('');
  await expect(page.getByLabel('Description')).toHaveValue('');
  await expect(page.getByTestId('new-secret')).toBeInViewport();

  await page.getByRole('link', { name: 'Open the webhook' }).click();
  await expect(page.getByRole('heading', { name: receiver.url('/orders') })).toBeVisible();
  // "wallet — all" means the wallet category: the page says which types that is today.
  const receives = page.getByTestId('receives');
  await expect(receives).toContainText('category:wallet, transaction.completed');
  for (const name of ['wallet.created', 'wallet.updated', 'wallet.deleted', 'transaction.completed']) {
    await expect(receives.getByText(name, { exact: true })).toBeVisible();
  }
  await expect(receives.getByText('transaction.failed', { exact: true })).toHaveCount(0);
  const detail = new WebhookDetail(page);
  await detail.sendTest();
  await expect(detail.testResult()).toContainText('Delivered');
  await expect(page.getByTestId('test-status')).toHaveText('200');
  expect(receiver.received).toHaveLength(1);
  expect(receiver.received[0].headers['x-webhook-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(JSON.parse(receiver.received[0].body).event).toBe('webhook.test');

  await detail.testResult().getByRole('link', { name: 'See the attempt' }).click();
  await expect(page.getByTestId('attempt')).toContainText('HTTP 200');
  await expect(page.getByTestId('response-body')).toHaveText('thanks');

  await open(page, `/webhooks?search=${encodeURIComponent(description)}`);
  await expect(page.getByTestId('webhooks').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('webhooks')).toContainText('category:wallet, transaction.completed');
  await receiver.stop();
});

test('the server explains a refused webhook next to the field at fault', async ({ page }) => {
  await signIn(page);
  await open(page, '/webhooks/new');
  const form = new WebhookForm(page);
  await form.fill('ftp://files.example.com/hook', 'bad scheme');
  await form.pickEvent('user.created');
  await form.create();
  await expect(form.fieldError()).toContainText('http');
  await expect(page.getByTestId('new-secret')).toHaveCount(0);
});

test('reveal and rotate the signing secret', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const hook = await new Api(request).webhook(receiver.url('/rotate'), ['user.*']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const detail = new WebhookDetail(page);
  await expect(detail.secret()).toContainText('********');
  await detail.reveal();
  await expect(detail.secret()).toHaveText(hook.secret);
  await detail.rotate();
  await expect(detail.secret()).not.toHaveText(hook.secret);
  await expect(detail.secret()).toContainText('whsec_');
  await expect(page.getByText('The previous secret also signs until')).toBeVisible();
  await receiver.stop();
});

test('rotate the secret with a chosen overlap, after confirming; Copy follows the clipboard', async ({ page, context, request }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const receiver = await Receiver.start();
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/grace'), ['user.*']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const detail = new WebhookDetail(page);
  await detail.reveal();
  await expect(detail.secret()).toHaveText(hook.secret);
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(hook.secret);

  // Cancelled: nothing changes.
  await page.getByRole('button', { name: 'Rotate…' }).click();
  await page.getByRole('group', { name: 'Confirm rotation' }).getByRole('button', { name: 'Cancel' }).click();
  expect((await api.get(`/webhooks/${hook.id}/secret`)).secret).toBe(hook.secret);

  const before = Date.now();
  await detail.rotate('1 hour');
  await expect(detail.secret()).not.toHaveText(hook.secret);
  // The clipboard still holds the old secret, so the button no longer says it holds this one.
  await expect(page.getByRole('button', { name: 'Copy', exact: true })).toBeVisible();
  const secret = await api.get(`/webhooks/${hook.id}/secret`);
  expect(secret.previousSecret).toBe(hook.secret);
  const until = Date.parse(secret.previousSecretExpiresAt) - before;
  expect(until).toBeGreaterThan(3_500_000);
  expect(until).toBeLessThan(3_700_000);
  await receiver.stop();
});

test('disable and enable a webhook', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const hook = await new Api(request).webhook(receiver.url('/switch'), ['user.created']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const detail = new WebhookDetail(page);
  await expect(detail.status()).toHaveText('active');
  // Disabling asks first, says what happens to new events, and offers Pause beside it.
  await page.getByRole('button', { name: 'Disable…' }).click();
  const confirm = page.getByRole('group', { name: 'Confirm disable' });
  await expect(confirm).toContainText('Events published while it is disabled are not queued for it');
  await expect(confirm.getByRole('button', { name: 'Pause instead' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  expect((await new Api(request).get(`/webhooks/${hook.id}`)).active).toBe(true);
  await detail.disable();
  await expect(detail.status()).toHaveText('disabled');
  await open(page, `/webhooks/${hook.id}`);
  await expect(detail.status()).toHaveText('disabled');
  await detail.enable();
  await expect(detail.status()).toHaveText('active');
  expect((await new Api(request).get(`/webhooks/${hook.id}`)).active).toBe(true);
  await receiver.stop();
});

test('Pause, offered when disabling, keeps what the webhook would get', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/paused'), ['user.created']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  await page.getByRole('button', { name: 'Disable…' }).click();
  await page.getByRole('group', { name: 'Confirm disable' }).getByRole('button', { name: 'Pause instead' }).click();
  const detail = new WebhookDetail(page);
  await expect(detail.status()).toHaveText('paused');
  await api.publish('user.created', { n: 1 });
  await expect.poll(async () => (await api.get(`/deliveries?webhookId=${hook.id}&status=held`)).data.length).toBe(1);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => receiver.received.length).toBe(1);
  await receiver.stop();
});

test('an edited webhook keeps exactly the subscriptions left as chips', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const hook = await api.webhook(receiver.url('/chips'), ['transaction.*', 'category:security', 'user.created']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const subscriptions = page.getByTestId('subscriptions');
  const chip = (pattern: string) => subscriptions.locator(`[data-pattern="${pattern}"]`);
  // Every saved pattern is shown, those the checkboxes cannot show too, with what it receives.
  await expect(subscriptions.getByTestId('chip')).toHaveCount(3);
  await expect(chip('transaction.*')).toContainText('transaction.completed, transaction.created, transaction.failed, transaction.pending');
  await expect(chip('category:security')).toContainText('auth.login.failed, auth.login.success, mfa.enabled, security.alert');
  await expect(chip('user.created')).toContainText('this type');

  // Removed by its chip, or by unticking its checkbox; added by typing.
  await chip('transaction.*').getByRole('button', { name: 'Remove transaction.*' }).click();
  await page.getByTestId('group-security').getByRole('checkbox').first().uncheck();
  await expect(chip('category:security')).toHaveCount(0);
  await subscriptions.getByLabel('Add a pattern').fill('invoice.*');
  await subscriptions.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(subscriptions.getByRole('alert')).toContainText('matches no known event type');
  await subscriptions.getByLabel('Add a pattern').fill('security.*');
  await subscriptions.getByRole('button', { name: 'Add', exact: true }).click();
  // A prefix that is also a category's name says how the two differ.
  await expect(chip('security.*').getByTestId('chip-note')).toContainText(
    'not the whole security category: it leaves out auth.login.failed, auth.login.success, mfa.enabled',
  );
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  expect((await api.get(`/webhooks/${hook.id}`)).events).toEqual(['user.created', 'security.*']);
  // The summaries above the form follow the save.
  await expect(page.getByTestId('receives')).toContainText('user.created, security.*');
  await expect(page.getByTestId('receives').getByText('transaction.created', { exact: true })).toHaveCount(0);
  // Reloaded, the form shows exactly what was saved.
  await page.reload();
  await expect(subscriptions.getByTestId('chip')).toHaveCount(2);

  // The catalog says what each form of pattern means.
  await open(page, '/event-types');
  await expect(page.getByTestId('pattern-forms')).toContainText('security.*');
  await expect(page.getByTestId('pattern-forms')).toContainText('goes by names, not categories');
  await receiver.stop();
});

test('delete a webhook after confirming', async ({ page, request }) => {
  const receiver = await Receiver.start();
  const hook = await new Api(request).webhook(receiver.url('/gone'), ['user.created']);
  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  await page.getByRole('button', { name: 'Delete…' }).click();
  await page.getByRole('button', { name: 'Delete permanently' }).click();
  await expect(page).toHaveURL(/\/webhooks\?deleted=/);
  await expect(page.getByTestId('deleted-notice')).toContainText(receiver.url('/gone'));
  const r = await request.get(`/api/webhooks/${hook.id}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  expect(r.status()).toBe(404);
  await receiver.stop();
});

test("the list shows each endpoint's health and latest delivery", async ({ page, request }) => {
  const up = await Receiver.start();
  const down = await Receiver.start(500);
  const api = new Api(request);
  const tenant = unique('health');
  const good = await api.webhook(up.url('/good'), ['wallet.created'], tenant);
  const bad = await api.webhook(down.url('/bad'), ['wallet.created'], tenant);
  const held = await api.webhook(up.url('/held'), ['wallet.created'], tenant);
  const quiet = await api.webhook(up.url('/quiet'), ['user.deleted'], tenant);
  await api.post(`/webhooks/${held.id}/pause`, {});
  await api.publish('wallet.created', { n: 1 }, tenant);
  await expect.poll(async () => (await api.get(`/deliveries?webhookId=${bad.id}&status=failed`)).data.length).toBe(1);
  await expect.poll(async () => (await api.get(`/deliveries?webhookId=${good.id}&status=succeeded`)).data.length).toBe(1);

  await signIn(page);
  await open(page, `/webhooks?tenant=${tenant}`);
  const row = (id: string) => page.getByTestId(`webhook-${id}`);
  await expect(row(good.id).getByTestId('health')).toHaveText('healthy');
  await expect(row(good.id)).toContainText('succeeded');
  await expect(row(good.id)).toContainText('100.0 %');
  await expect(row(bad.id).getByTestId('health')).toHaveText('failing');
  await expect(row(bad.id)).toContainText('failed');
  await expect(row(held.id).getByTestId('health')).toHaveText('paused');
  await expect(row(held.id)).toContainText('held');
  // Nothing sent to it yet: nothing to call it healthy by.
  await expect(row(quiet.id).getByTestId('health')).toHaveText('no traffic');

  // The list filters by health: failing, paused.
  await page.getByLabel('Status').selectOption('failing');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('webhooks').locator('tbody tr')).toHaveCount(1);
  await expect(row(bad.id)).toBeVisible();
  await page.getByLabel('Status').selectOption('paused');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('webhooks').locator('tbody tr')).toHaveCount(1);
  await expect(row(held.id)).toBeVisible();
  await up.stop();
  await down.stop();
});
