import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

const CREDENTIALS = { ADMIN_USER: 'ops', ADMIN_PASSWORD: 'secret-ops-password' };
const basic = `Basic ${Buffer.from('ops:secret-ops-password').toString('base64')}`;
const ADD = 'http://localhost/admin/queues/api/queues/maintenance/add';

const add = (stack: Stack, headers: Record<string, string> = {}) =>
  stack.app.request(ADD, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'text/plain', ...headers },
    body: JSON.stringify({ name: 'planted', data: {} }),
  });

describe('/admin/queues against cross-site requests', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack(CREDENTIALS);
  });
  afterAll(() => stack.close());

  const waiting = () => stack.queues.maintenance.getWaitingCount();

  it('refuses a state-changing request from another origin with 403 and changes nothing', async () => {
    const before = await waiting();
    const evil = await add(stack, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(await evil.json()).toEqual({
      error: { code: 'FORBIDDEN', message: expect.any(String) },
    });
    expect((await add(stack, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await add(stack, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await add(stack, { origin: 'null' })).status).toBe(403);
    expect(
      (
        await stack.app.request('http://localhost/admin/queues/api/queues/maintenance/pause', {
          method: 'PUT',
          headers: { authorization: basic, origin: 'http://localhost.evil.example' },
        })
      ).status,
    ).toBe(403);
    expect(await waiting()).toBe(before);
  });

  it('accepts the same request from its own pages, and reads from anywhere', async () => {
    const before = await waiting();
    const own = await add(stack, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
    expect((await add(stack)).status).toBe(200);
    expect(await waiting()).toBe(before + 2);
    const read = await stack.app.request('http://localhost/admin/queues/api/queues', {
      headers: { authorization: basic, origin: 'https://evil.example' },
    });
    expect(read.status).toBe(200);
  });
});

describe('/admin/queues with ADMIN_READ_ONLY=true', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ ...CREDENTIALS, ADMIN_READ_ONLY: 'true' });
  });
  afterAll(() => stack.close());

  it('shows the queues and changes nothing', async () => {
    const list = await stack.app.request('http://localhost/admin/queues/api/queues', {
      headers: { authorization: basic },
    });
    expect(list.status).toBe(200);
    const queues = ((await list.json()) as { queues: { name: string; readOnlyMode: boolean }[] })
      .queues;
    expect(queues.map((q) => q.name).sort()).toEqual(['codes', 'issuance', 'maintenance', 'usage']);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    const res = await add(stack);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await stack.queues.maintenance.getWaitingCount()).toBe(0);
  });
});

describe('/admin/queues and /v1 with malformed paths', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack(CREDENTIALS);
  });
  afterAll(() => stack.close());

  /**
   * Percent-encodings that do not decode (`%ZZ`, a lone `%`, a cut or overlong UTF-8 sequence, a
   * UTF-16 surrogate) and ones that decode to what no name holds (NUL, a control character).
   */
  const MALFORMED = ['%ZZ', '%', '%E0%A4%A', '%C0%80', '%FF', '%ED%A0%80', '%00', '%1B'];

  const expectRefused = async (res: Response) => {
    expect(res.status, `${res.url}`).toBeGreaterThanOrEqual(400);
    expect(res.status, `${res.url}`).toBeLessThan(500);
    const text = await res.text();
    const { error } = JSON.parse(text) as { error: Record<string, unknown> };
    expect(error).toMatchObject({
      code: expect.stringMatching(/^(VALIDATION_ERROR|NOT_FOUND)$/),
      message: expect.any(String),
    });
    expect(Object.keys(error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(
      true,
    );
    expect(text).not.toMatch(/URIError|\bat \S+ \(|\.ts:\d+/);
  };

  it('answers 400 or 404 in the contract’s body, never 500, and changes or records nothing', async () => {
    for (const segment of MALFORMED) {
      for (const [method, path] of [
        ['PUT', `/admin/queues/api/queues/${segment}/pause`],
        ['PUT', `/admin/queues/api/queues/maintenance/${segment}/retry`],
        ['POST', `/admin/queues/api/queues/${segment}/add`],
        ['GET', `/admin/queues/api/queues/${segment}`],
        ['GET', `/admin/queues/${segment}`],
      ] as const) {
        await expectRefused(
          await stack.app.request(`http://localhost${path}`, {
            method,
            headers: { authorization: basic, 'content-type': 'text/plain' },
            ...(method === 'POST' && { body: JSON.stringify({ name: 'planted', data: {} }) }),
          }),
        );
      }
    }
    expect(await stack.queues.maintenance.isPaused()).toBe(false);
    expect(await stack.queues.maintenance.getWaitingCount()).toBe(0);
    const audit = await stack.request('GET', '/v1/audit?limit=100', ADMIN);
    expect(audit.body.items).toEqual([]);
  });

  it('still names an encoded queue right in the audit log (decoded once)', async () => {
    const res = await stack.app.request(
      'http://localhost/admin/queues/api/queues/%6Daintenance/pause',
      { method: 'PUT', headers: { authorization: basic } },
    );
    expect(res.status).toBe(200);
    const twice = await stack.app.request('http://localhost/admin/queues/api/queues/%25ZZ/pause', {
      method: 'PUT',
      headers: { authorization: basic },
    });
    expect(twice.status).toBe(404);
    const audit = await stack.request('GET', '/v1/audit?limit=100', ADMIN);
    expect(audit.body.items.map((i: { target: string }) => i.target).sort()).toEqual([
      'queue:%ZZ',
      'queue:maintenance',
    ]);
    await stack.queues.maintenance.resume();
  });

  it('answers malformed /v1 paths with 400 or 404 too', async () => {
    const headers = await authHeaders(...ADMIN);
    for (const segment of MALFORMED) {
      for (const path of [
        `/v1/coupons/${segment}`,
        `/v1/coupons/${segment}/history`,
        `/v1/coupons/${segment}/reservations`,
        `/v1/policies/${segment}`,
        `/v1/jobs/${segment}`,
        `/v1/orders/${segment}`,
        `/v1/${segment}`,
        `/${segment}`,
      ]) {
        await expectRefused(await stack.app.request(`http://localhost${path}`, { headers }));
      }
      await expectRefused(
        await stack.app.request(`http://localhost/v1/coupons/${segment}/cancel`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ reason: 'x' }),
        }),
      );
    }
  });
});
