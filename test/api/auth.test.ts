import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';
import { TEST_JWT_SECRET, token } from '../support/tokens.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer tokens', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  const get = (authorization: string) =>
    stack.app.request('/v1/policies', { headers: { authorization } });
  const sign = (claims: Record<string, unknown>, secret = TEST_JWT_SECRET, alg = 'HS256') =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));

  it('accepts a valid token', async () => {
    expect((await get(`Bearer ${await token('u1')}`)).status).toBe(200);
  });

  it.each([
    [
      'alg none',
      async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u1', role: 'admin' })}.`,
    ],
    ['another secret', () => sign({ sub: 'u1', role: 'admin' }, 'another-secret-0123456789abcdef')],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await token('u1', 'user')).split('.');
        return `${header}.${b64({ sub: 'u1', role: 'admin' })}.${signature}`;
      },
    ],
    ['HS512 instead of HS256', () => sign({ sub: 'u1', role: 'user' }, TEST_JWT_SECRET, 'HS512')],
    ['no sub', () => sign({ role: 'user' })],
    ['an unknown role', () => sign({ sub: 'u1', role: 'root' })],
    [
      'an expired exp',
      () => sign({ sub: 'u1', role: 'user', exp: Math.floor(Date.now() / 1000) - 60 }),
    ],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s with 401 UNAUTHORIZED', async (_, make) => {
    const res = await get(`Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String) },
    });
  });

  it('refuses a missing or non-bearer Authorization header', async () => {
    expect((await stack.app.request('/v1/policies')).status).toBe(401);
    expect((await get('Basic dXNlcjpwYXNz')).status).toBe(401);
  });
});
