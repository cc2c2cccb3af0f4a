// Tenant isolation in the console: a tenant key sees its tenant's webhooks only, and no admin pages.
import { test, expect, signIn, open, Dashboard } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test("a tenant cannot see another tenant's webhook", async ({ page, request }) => {
  const admin = new Api(request);
  const acmeKey = await admin.tenantKey(unique('acme'));
  const globexKey = await admin.tenantKey(unique('globex'));
  const receiver = await Receiver.start();
  const acmeHook = await new Api(request, acmeKey).webhook(receiver.url('/acme'), ['wallet.created']);

  await signIn(page, globexKey);
  await expect(page.getByRole('link', { name: 'API keys' })).toHaveCount(0);
  // Opened by its address, the keys page offers a tenant nothing it may not use.
  await open(page, '/keys');
  await expect(page.getByTestId('keys-admin-only')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create key' })).toHaveCount(0);
  await open(page, '/webhooks');
  await expect(page.getByTestId('empty')).toBeVisible();
  await open(page, `/webhooks/${acmeHook.id}`);
  await expect(page.getByRole('alert')).toContainText('not found');
  await new Dashboard(page).signOut();

  await signIn(page, acmeKey);
  await open(page, '/webhooks');
  await expect(page.getByTestId('webhooks')).toContainText(receiver.url('/acme'));
  await receiver.stop();
});

test('an admin picks the tenant filter from the tenants that exist', async ({ page, request }) => {
  const admin = new Api(request);
  const tenant = unique('picked');
  const receiver = await Receiver.start();
  await admin.webhook(receiver.url('/picked'), ['wallet.created'], tenant);
  await signIn(page);
  await open(page, '/webhooks');
  await page.getByTestId('tenant-select').selectOption(tenant);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(new RegExp(`tenant=${tenant}`));
  await expect(page.getByTestId('webhooks').locator('tbody tr')).toHaveCount(1);
  // A misspelt tenant in the address says so, rather than showing an empty success.
  await open(page, `/deliveries?tenant=${tenant}x`);
  await expect(page.getByTestId('tenant-select').locator('option:checked')).toHaveText(`${tenant}x (no webhooks)`);
  await receiver.stop();
});
