import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

  describe('with verified tokens remembered', () => {
    afterEach(() => vi.useRealTimers());

    it('refuses a tampered copy of a token it has just accepted', async () => {
      const genuine = await token('u1', 'user');
      expect((await get(`Bearer ${genuine}`)).status).toBe(200);
      const [header, , signature] = genuine.split('.');
      const tampered = `${header}.${b64({ sub: 'u1', role: 'admin' })}.${signature}`;
      expect((await get(`Bearer ${tampered}`)).status).toBe(401);
      expect((await get(`Bearer ${genuine}`)).status).toBe(200);
    });

    it('refuses a remembered token once its exp has passed', async () => {
      const exp = Math.floor(Date.now() / 1000) + 60;
      const shortLived = await sign({ sub: 'u1', role: 'user', exp });
      expect((await get(`Bearer ${shortLived}`)).status).toBe(200);
      vi.useFakeTimers({ toFake: ['Date'] });
      // Within the 30 s of clock skew allowed, still good; past it, expired.
      vi.setSystemTime((exp + 29) * 1000);
      expect((await get(`Bearer ${shortLived}`)).status).toBe(200);
      vi.setSystemTime((exp + 31) * 1000);
      const res = await get(`Bearer ${shortLived}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'The token has expired',
      );
    });
  });

  it('refuses a missing or non-bearer Authorization header', async () => {
    expect((await stack.app.request('/v1/policies')).status).toBe(401);
    expect((await get('Basic dXNlcjpwYXNz')).status).toBe(401);
  });
});
