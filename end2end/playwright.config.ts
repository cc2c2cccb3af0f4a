// End-to-end tests of the console, in Debian's Chromium, against the release build of the server.
// The server is started here on its own port and database (a fresh SQLite file, or the PostgreSQL
// database E2E_DATABASE_URL names), with a known admin key.
import { defineConfig } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const port = Number(process.env.E2E_PORT ?? 3101);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'monay-e2e-'));
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: process.env.MONAY_BIN ?? '../target/release/monay-webhooks',
    cwd: '..',
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? `sqlite://${dataDir}/e2e.db`,
      WEBHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_SUBNETS: '127.0.0.0/8',
      // A failed delivery gives up at once, so a test can retry it by hand.
      WEBHOOK_MAX_RETRIES: '0',
      RUST_LOG: 'warn',
    },
  },
});
