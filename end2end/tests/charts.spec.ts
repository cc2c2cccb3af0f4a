// Charts: attempts as stacked succeeded/failed bars, latency lines, a tooltip with a bucket's figures,
// labels readable (at least 12 px) and a legend.
import { test, expect, signIn, open } from './fixtures/console';
import { Api, unique } from './fixtures/api';
import { Receiver } from './fixtures/receiver';

test("hovering a bucket shows its figures; labels are at least 12 px", async ({ page, request }) => {
  const receiver = await Receiver.start();
  const api = new Api(request);
  const tenant = unique('chart');
  const hook = await api.post('/webhooks', { url: receiver.url('/chart'), events: ['user.created'], tenant });
  for (let i = 0; i < 3; i++) await api.publish('user.created', { n: i }, tenant);
  await expect.poll(() => receiver.received.length).toBe(3);
  receiver.status = 500;
  await api.publish('user.created', { n: 3 }, tenant);
  await expect.poll(() => receiver.received.length).toBe(4);

  await signIn(page);
  await open(page, `/webhooks/${hook.id}`);
  const chart = page.getByTestId('volume-chart');
  await expect(chart.locator('.legend')).toContainText('Succeeded');
  await expect(chart.locator('.legend')).toContainText('Failed');
  await expect(chart.locator('rect.ok')).toHaveCount(1);
  await expect(chart.locator('rect.failed')).toHaveCount(1);
  // Four attempts is too few for a rate line: drawn as such, not as a 75 % point.
  await expect(chart.locator('polyline.rate')).toHaveCount(0);
  await expect(chart.locator('line.few')).toHaveCount(1);

  // The current hour is the last bucket: hover it.
  const last = chart.locator('svg.hit rect').last();
  await last.hover();
  const tip = chart.getByTestId('chart-tooltip');
  await expect(tip).toContainText('4 attempts: 3 succeeded, 1 failed');
  await expect(tip).toContainText('75.0 %');
  await expect(tip).toContainText('too few attempts');
  await expect(tip).toContainText(/p50 \d+ ms · p95 \d+ ms/);
  await page.mouse.move(0, 0);
  await expect(tip).toHaveCount(0);

  const latency = page.getByTestId('latency-chart');
  await expect(latency.locator('.legend')).toContainText('p95');
  await latency.locator('svg.hit rect').last().hover();
  await expect(latency.getByTestId('chart-tooltip')).toContainText('4 attempts');

  // Every label of the charts is at least 12 px.
  const sizes = await page.locator('.chart .y-axis span, .chart .x-axis span, .chart .legend span').evaluateAll((els) =>
    els.map((e) => parseFloat(getComputedStyle(e).fontSize)),
  );
  expect(sizes.length).toBeGreaterThan(6);
  expect(Math.min(...sizes)).toBeGreaterThanOrEqual(12);
  await receiver.stop();
});
