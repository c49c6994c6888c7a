import { describe, expect, it } from 'vitest';
import { CouponApiError, CouponClient, CouponJobTimeoutError } from '../../client/src/index.js';

/** A service stand-in answering every request with `answer` (the client's only dependency is fetch). */
const clientAnswering = (answer: (url: string) => Response) => {
  const calls: string[] = [];
  const client = new CouponClient({
    baseUrl: 'http://coupons.test/',
    token: () => 'tok',
    fetch: async (input) => {
      calls.push(String(input));
      return answer(String(input));
    },
  });
  return { client, calls };
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('CouponClient', () => {
  it('gives up waiting after timeoutMs with CouponJobTimeoutError naming the job and its state', async () => {
    const { client, calls } = clientAnswering((url) =>
      url.endsWith('/v1/issuances')
        ? json(202, { jobId: 'iss_1', statusUrl: '/v1/jobs/iss_1' })
        : json(200, {
            jobId: 'iss_1',
            type: 'ISSUE',
            state: 'waiting',
            createdAt: 'x',
            finishedAt: null,
          }),
    );
    const started = Date.now();
    const error = await client
      .issue({ policyId: 'p' })
      .settled({ timeoutMs: 300, intervalMs: 20 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CouponJobTimeoutError);
    expect(error).toMatchObject({ jobId: 'iss_1', state: 'waiting' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls[0]).toBe('http://coupons.test/v1/issuances');
    expect(calls.slice(1).every((url) => url === 'http://coupons.test/v1/jobs/iss_1')).toBe(true);
    expect(calls.length).toBeGreaterThan(2);
  });

  it('reads the error body, Retry-After and X-Request-Id into CouponApiError', async () => {
    const { client } = clientAnswering(() =>
      json(
        429,
        { error: { code: 'RATE_LIMITED', message: 'slow down' } },
        { 'retry-after': '3', 'x-request-id': 'req-1' },
      ),
    );
    const error = await client.getPolicy('p').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CouponApiError);
    expect(error).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      message: 'slow down',
      retryAfter: 3,
      requestId: 'req-1',
    });
  });

  it('names an answer that is not the error body UNEXPECTED_RESPONSE', async () => {
    const { client } = clientAnswering(
      () => new Response('<html>bad gateway</html>', { status: 502 }),
    );
    await expect(client.getHealth()).rejects.toMatchObject({
      status: 502,
      code: 'UNEXPECTED_RESPONSE',
    });
  });

  it('fills path parameters, the query and the idempotency key', async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    const client = new CouponClient({
      baseUrl: 'http://coupons.test',
      fetch: async (input, init) => {
        seen.push({ url: String(input), init });
        return json(202, { jobId: 'j', statusUrl: '/v1/jobs/j' });
      },
    });
    await client.reserveCoupon('c/1', { orderId: 'o', orderAmount: 1 }, { idempotencyKey: 'k' });
    await client.listCoupons({ status: 'USED', limit: 5 }).catch(() => undefined);
    expect(seen[0]?.url).toBe('http://coupons.test/v1/coupons/c%2F1/reserve');
    expect(seen[0]?.init?.headers).toMatchObject({ 'Idempotency-Key': 'k' });
    expect(seen[0]?.init?.body).toBe('{"orderId":"o","orderAmount":1}');
    expect(seen[1]?.url).toBe('http://coupons.test/v1/coupons?status=USED&limit=5');
  });

  it('treats /ready answering 503 as an answer, not an error', async () => {
    const { client } = clientAnswering(() =>
      json(503, { status: 'unavailable', checks: { postgres: 'down' } }),
    );
    expect(await client.getReadiness()).toMatchObject({ status: 'unavailable' });
  });
});
