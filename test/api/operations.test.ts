import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startService } from '../support/process.js';
import { createStack, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

describe('operators and the internet: bull-board, rate limits, CORS', () => {
  let stack: Stack;
  const apis: ServiceProcess[] = [];
  beforeAll(async () => {
    stack = await createStack({
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'secret-ops-password',
      CORS_ORIGINS: 'https://shop.example',
    });
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.stop('SIGTERM')));
    await stack.close();
  });

  const basic = (credentials: string) => ({
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
  });

  it('guards /admin/queues with Basic auth and serves bull-board over every queue', async () => {
    const none = await stack.app.request('/admin/queues');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await none.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String) },
    });
    expect((await stack.app.request('/admin/queues', { headers: basic('ops:wrong') })).status).toBe(
      401,
    );
    expect(
      (await stack.app.request('/admin/queues/api/queues', { headers: basic('ops:wrong') })).status,
    ).toBe(401);

    const page = await stack.app.request('/admin/queues', {
      headers: basic('ops:secret-ops-password'),
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await stack.app.request('/admin/queues/api/queues', {
      headers: basic('ops:secret-ops-password'),
    });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues
      .map((q) => q.name)
      .sort();
    expect(names).toEqual(['codes', 'issuance', 'maintenance', 'usage']);

    // Its actions too (bull-board runs as an app of its own behind one route: the request goes on).
    const paused = async () =>
      (
        (await (
          await stack.app.request('/admin/queues/api/queues', {
            headers: basic('ops:secret-ops-password'),
          })
        ).json()) as { queues: { name: string; isPaused: boolean }[] }
      ).queues.find((q) => q.name === 'maintenance')?.isPaused;
    for (const action of ['pause', 'resume'] as const) {
      const res = await stack.app.request(`/admin/queues/api/queues/maintenance/${action}`, {
        method: 'PUT',
        headers: basic('ops:secret-ops-password'),
      });
      expect(res.status).toBe(200);
      expect(await paused()).toBe(action === 'pause');
    }
  });

  it("matches routes with Hono's RegExpRouter, bull-board's included", async () => {
    // The smart router picks RegExpRouter only if every route of the app fits it, else TrieRouter
    // for all of them; its choice is made at the first request.
    expect((await stack.app.request('/health')).status).toBe(200);
    const router = stack.app.router as unknown as { activeRouter: { name: string } };
    expect(router.activeRouter.name).toBe('RegExpRouter');
  });

  it('answers CORS preflights for the configured origins only', async () => {
    const allowed = await stack.app.request('/v1/policies', {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const other = await stack.app.request('/v1/policies', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('shares one rate limit between two API processes', async () => {
    const env = {
      ...stack.envVars,
      ROLES: 'api',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_MS: '60000',
    };
    apis.push(...(await Promise.all([startService(env), startService(env)])));
    const headers = await authHeaders('limited-user');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${apis[i % 2]!.baseUrl}/v1/policies`, { headers });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const over = await fetch(`${apis[1]!.baseUrl}/v1/policies`, { headers });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await over.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.any(String) },
    });
    // Another caller has a budget of its own, and probes are never limited.
    expect(
      (
        await fetch(`${apis[0]!.baseUrl}/v1/policies`, {
          headers: await authHeaders('someone-else'),
        })
      ).status,
    ).toBe(200);
    for (let i = 0; i < 8; i++)
      expect((await fetch(`${apis[0]!.baseUrl}/health`)).status).toBe(200);
  });
});
