// The new-webhook form's tenant (admins): picked from the tenants that exist, or made new on purpose
// — a typo never makes a tenant.
import { test, expect, signIn, open, WebhookForm } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test("a new webhook's tenant is picked from those that exist, or made new only when asked for by name", async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const existing = unique('pick');
  await api.post('/webhooks', { url: receiver.url('/first'), events: ['user.created'], tenant: existing });

  await signIn(page);
  await open(page, '/webhooks/new');
  const form = new WebhookForm(page);
  // The tenants that exist are offered; there is no field to type one in by mistake.
  await expect(page.getByTestId('tenant-choice').locator('option', { hasText: existing })).toHaveCount(1);
  await expect(page.getByLabel("New tenant's name")).toHaveCount(0);
  await form.fill(receiver.url('/picked'), unique('picked'));
  await form.pickEvent('user.created');
  await form.pickTenant(existing);
  await form.create();
  await expect(page.getByTestId('new-secret')).toContainText('whsec_');
  await expect.poll(async () => (await api.get(`/webhooks?tenant=${existing}`)).data.length).toBe(2);

  // A new tenant: chosen as such, then named.
  const fresh = unique('fresh');
  await form.fill(receiver.url('/fresh'), unique('fresh hook'));
  await form.pickEvent('user.created');
  await form.newTenant(fresh);
  await form.create();
  await expect.poll(async () => (await api.get(`/webhooks?tenant=${fresh}`)).data.length).toBe(1);
  await receiver.stop();
});
