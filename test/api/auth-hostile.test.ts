import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';
import { TEST_JWT_SECRET } from '../support/tokens.js';

const seconds = (offsetS: number) => Math.floor(Date.now() / 1000) + offsetS;

function sign(claims: {
  sub?: string;
  role?: string;
  exp?: number;
  nbf?: number;
  iss?: string;
  aud?: string;
}) {
  const { sub = 'alice', role = 'user', exp = seconds(3600), nbf, iss, aud } = claims;
  let jwt = new SignJWT({ role }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub);
  jwt = jwt.setExpirationTime(exp);
  if (nbf !== undefined) jwt = jwt.setNotBefore(nbf);
  if (iss !== undefined) jwt = jwt.setIssuer(iss);
  if (aud !== undefined) jwt = jwt.setAudience(aud);
  return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

const get = async (stack: Stack, token: string) =>
  (await stack.app.request('/v1/policies', { headers: { authorization: `Bearer ${token}` } }))
    .status;

describe('authentication against abusive callers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  it('refuses a token that claims to be the service itself (system:…)', async () => {
    expect(await get(stack, await sign({ sub: 'system:payment', role: 'admin' }))).toBe(401);
    expect(await get(stack, await sign({ sub: 'system:expiry' }))).toBe(401);
    expect(await get(stack, await sign({ sub: 'bad\u0001user' }))).toBe(401);
    expect(await get(stack, await sign({ sub: 'systemic' }))).toBe(200);
  });

  it('refuses every other spelling of a system actor: whitespace at either end, controls, look-alikes', async () => {
    for (const sub of [
      ' system:payment',
      'system:payment ',
      '\tsystem:expiry',
      '\nsystem:payment',
      '\u00a0system:payment',
      '\u3000system:payment',
      '\ufeffsystem:payment',
      '\u200bsystem:payment',
      '\u202esystem:payment',
      '\u0085system:payment',
      'SYSTEM:payment',
      'System:expiry',
      '\uff53\uff59\uff53\uff54\uff45\uff4d:payment',
      'alice ',
      ' alice',
      'al\u007fice',
      'al\u009bice',
    ]) {
      expect(await get(stack, await sign({ sub, role: 'admin' })), JSON.stringify(sub)).toBe(401);
    }
    // Inner spaces, other scripts and a colon elsewhere are ordinary user ids.
    for (const sub of [
      'alice smith',
      '김철수',
      'user:42',
      'systems:payment',
      'my-system:payment',
    ]) {
      expect(await get(stack, await sign({ sub })), JSON.stringify(sub)).toBe(200);
    }
  });

  it('allows 30 s of clock skew on exp and nbf, not more', async () => {
    expect(await get(stack, await sign({ exp: seconds(-20) }))).toBe(200);
    expect(await get(stack, await sign({ exp: seconds(-40) }))).toBe(401);
    expect(await get(stack, await sign({ nbf: seconds(20) }))).toBe(200);
    expect(await get(stack, await sign({ nbf: seconds(40) }))).toBe(401);
  });
});

describe('JWT_ISSUER and JWT_AUDIENCE', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'coupons' });
  });
  afterAll(() => stack.close());

  it('must match iss and aud when set', async () => {
    const right = { iss: 'https://id.example', aud: 'coupons' };
    expect(await get(stack, await sign(right))).toBe(200);
    expect(await get(stack, await sign({ ...right, iss: 'https://evil.example' }))).toBe(401);
    expect(await get(stack, await sign({ ...right, aud: 'other' }))).toBe(401);
    expect(await get(stack, await sign({ aud: 'coupons' }))).toBe(401);
    expect(await get(stack, await sign({ iss: 'https://id.example' }))).toBe(401);
  });
});

describe('failed authentication is rate-limited per address', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ RATE_LIMIT_MAX: '50', RATE_LIMIT_WINDOW_MS: '60000' });
  });
  afterAll(() => stack.close());

  it('answers 429 with Retry-After once an address spent its budget on bad tokens', async () => {
    const bad = await sign({ sub: 'alice' });
    const forged = `${bad.slice(0, -4)}AAAA`;
    const answers: { status: number; retryAfter: string | null }[] = [];
    for (let i = 0; i < 80; i += 1) {
      const res = await stack.app.request('/v1/policies', {
        headers: { authorization: `Bearer ${i % 2 ? forged : 'not.a.token'}` },
      });
      answers.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
    }
    expect(answers.slice(0, 50).every((a) => a.status === 401)).toBe(true);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited).toHaveLength(30);
    for (const answer of limited) expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    // A valid token is still served: its caller's own limit applies.
    expect(await get(stack, await sign({ sub: 'bob' }))).toBe(200);
  });
});
