import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';

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
    const queues = ((await list.json()) as { queues: { readOnlyMode: boolean }[] }).queues;
    expect(queues.length).toBe(3);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    const res = await add(stack);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await stack.queues.maintenance.getWaitingCount()).toBe(0);
  });
});
