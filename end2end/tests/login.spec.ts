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
  // The sign-in page will bring the user back to the page they were on.
  await expect(page).toHaveURL(/\/login\?next=%2Fwebhooks$/);
});

test('signing in from a link goes on to the page it named', async ({ page }) => {
  await page.goto('/deliveries?status=failed');
  await expect(page).toHaveURL(/\/login\?next=%2Fdeliveries%3Fstatus%3Dfailed$/);
  await hydrated(page);
  await new LoginPage(page).signIn(ADMIN_TOKEN);
  await expect(page).toHaveURL(/\/deliveries\?status=failed$/);
  await expect(page.getByRole('heading', { name: 'Deliveries' })).toBeVisible();
  await expect(page).toHaveTitle('Deliveries · Monay Webhooks');
  // Only pages of the console: another site is never where a sign-in leads.
  await page.context().clearCookies();
  await page.goto('/login?next=//evil.example.com/');
  await hydrated(page);
  await new LoginPage(page).signIn(ADMIN_TOKEN);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a wrong key is refused with its reason on the page', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('API key').fill('mwk_this-is-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/login\?error=/);
    await expect(page.getByTestId('login-error')).toContainText('not valid');
    // And the right key signs in.
    await page.getByLabel('API key').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  });
});
