// API keys and the audit log, as an admin sees them in the console.
import { test, expect, signIn, open } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test('create a key (shown once), revoke it, and find both in the audit log', async ({ page }) => {
  const name = unique('e2e partner');
  const tenant = unique('partner');
  await signIn(page);
  await open(page, '/keys');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('tenant');
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-key')).toHaveText(/^mwk_/);
  // No webhook belongs to that tenant: the console says so (a misspelt tenant is caught here).
  await expect(page.getByTestId('new-tenant-warning')).toContainText(`No webhook belongs to tenant “${tenant}” yet`);
  const row = page.getByTestId('keys').locator('tr', { hasText: name });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(tenant);

  await row.getByRole('button', { name: 'Revoke…' }).click();
  await expect(row).toContainText('Requests with this key will be refused');
  await row.getByRole('button', { name: 'Revoke now' }).click();
  await expect(page.getByTestId('keys').locator('tr', { hasText: name })).toHaveCount(0);

  await open(page, '/audit?action=key.revoked');
  await expect(page.getByTestId('audit')).toContainText('key.revoked');
  await open(page, '/audit');
  await expect(page.getByTestId('audit')).toContainText('key.created');
  await expect(page.getByTestId('audit')).toContainText('console.login');
});

test("a key for a tenant that has webhooks gets no warning; the tenant is offered as it is typed", async ({ page, request }) => {
  const tenant = unique('known');
  const receiver = await Receiver.start();
  await new Api(request).post('/webhooks', { url: receiver.url('/known'), events: ['user.created'], tenant });
  await signIn(page);
  await open(page, '/keys');
  await expect(page.locator(`#known-tenants option[value="${tenant}"]`)).toHaveCount(1);
  await page.getByLabel('Name').fill(unique('known key'));
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-key')).toHaveText(/^mwk_/);
  await expect(page.getByTestId('new-tenant-warning')).toHaveCount(0);
  await receiver.stop();
});

test('the event catalog lists every category', async ({ page }) => {
  await signIn(page);
  await open(page, '/event-types');
  for (const category of ['wallet', 'transaction', 'user', 'compliance', 'security', 'system']) {
    await expect(page.getByTestId(`catalog-${category}`)).toBeVisible();
  }
  await expect(page.getByTestId('catalog-transaction')).toContainText('transaction.completed');
});
