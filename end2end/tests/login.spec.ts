// Signing in to the console with an API key, and out again.
import { test, expect, LoginPage, Dashboard, ADMIN_TOKEN, hydrated, signIn } from './fixtures/console';
import { Api, unique } from './fixtures/api';

test('a visitor is sent to the login page, signs in with an API key and out again', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  const login = new LoginPage(page);
  await hydrated(page);

  await login.signIn(ADMIN_TOKEN);
  const dashboard = new Dashboard(page);
  await expect(dashboard.heading()).toBeVisible();
  await expect(dashboard.who()).toContainText('admin');
  await expect(page).toHaveURL(/\/$/);

  // The key never reaches script-readable storage; only an HttpOnly cookie holds the session.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'monay_session');
  expect(session?.httpOnly).toBe(true);
  expect(await page.evaluate(() => document.cookie)).not.toContain('monay_session');
  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(ADMIN_TOKEN);

  await hydrated(page);
  await dashboard.signOut();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong key is refused with a message, without leaving the page', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn('mwk_this-is-not-a-key');
  await expect(login.error()).toContainText('not valid');
  await expect(page).toHaveURL(/\/login$/);
});

test('revoking the key ends its console session: the next page says so and offers to sign in', async ({ page, request }) => {
  const admin = new Api(request);
  const created = await admin.post('/keys', { tenant: unique('revoked'), role: 'tenant', name: 'short-lived' });
  await signIn(page, created.key);
  // The dashboard's live feed is open before the key goes (one opened after would be refused: a 401
  // in the console, which this test's fixture counts as an error).
  await expect(page.getByTestId('live-status')).toHaveText('● connected');
  await request.delete(`/api/keys/${created.id}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Your session has ended');
  await page.getByRole('link', { name: 'Sign in again' }).click();
  await expect(page).toHaveURL(/\/login$/);
});
