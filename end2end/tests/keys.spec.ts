// API keys and the audit log, as an admin sees them in the console.
import { test, expect, signIn, open } from './fixtures/console';
import { unique } from './fixtures/api';

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

test('the event catalog lists every category', async ({ page }) => {
  await signIn(page);
  await open(page, '/event-types');
  for (const category of ['wallet', 'transaction', 'user', 'compliance', 'security', 'system']) {
    await expect(page.getByTestId(`catalog-${category}`)).toBeVisible();
  }
  await expect(page.getByTestId('catalog-transaction')).toContainText('transaction.completed');
});
