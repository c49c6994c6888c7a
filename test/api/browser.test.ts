import { mkdir } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startService } from '../support/process.js';
import { createStack, type Stack } from '../support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = 'test-output';

/** The operators' pages as a person sees them: real headless Chromium against a real API process. */
describe('pages in headless Chromium', () => {
  let stack: Stack;
  let api: ServiceProcess;
  let browser: Browser;
  beforeAll(async () => {
    stack = await createStack({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'browser-test-password' });
    api = await startService({ ...stack.envVars, ROLES: 'api', LOG_LEVEL: 'info' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await mkdir(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.stop('SIGTERM');
    await stack.close();
  });

  it('refuses /admin/queues without credentials', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const url = `${api.baseUrl}/admin/queues`;
    // Chromium ends a navigation refused by Basic auth with ERR_INVALID_AUTH_CREDENTIALS; the
    // response it received is what counts.
    const [response] = await Promise.all([
      page.waitForResponse(url),
      page.goto(url).catch(() => null),
    ]);
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toMatch(/^Basic /);
    await context.close();
  });

  it('renders every queue in bull-board with credentials', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password: 'browser-test-password' },
    });
    const page = await context.newPage();
    const response = await page.goto(`${api.baseUrl}/admin/queues`);
    expect(response?.status()).toBe(200);
    for (const name of ['issuance', 'usage', 'maintenance']) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20_000 });
    }
    await page.screenshot({ path: `${OUTPUT}/admin-queues.png`, fullPage: true });
    await context.close();
  });

  it('renders the API documentation at /docs', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.baseUrl}/docs`);
    await page.getByText('/v1/issuances').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${OUTPUT}/docs.png` });
    await page.close();
  });
});
