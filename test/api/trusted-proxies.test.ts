import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';

/** Loopback addresses a test connection comes from: Linux routes all of 127.0.0.0/8 to `lo`. */
const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';

/**
 * The per-address limit behind a proxy, over real HTTP: the service listens on 127.0.0.1 and each
 * request leaves from the address that plays its part.
 */
describe('TRUSTED_PROXIES: the client address behind a proxy', () => {
  let stack: Stack;
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    stack = await createStack({
      RATE_LIMIT_MAX: '2',
      RATE_LIMIT_WINDOW_MS: '60000',
      TRUSTED_PROXIES: `${PROXY}, 10.0.0.0/8`,
    });
    server = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stack.close();
  });

  /** GET `path` from `from`, with `forwardedFor` as X-Forwarded-For when given; the status. */
  const get = (from: string, forwardedFor?: string, path = '/docs') =>
    new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          localAddress: from,
          agent: false,
          headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'] as string | undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  const statuses = async (from: string, forwardedFor: string | undefined, n: number) => {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) seen.push((await get(from, forwardedFor)).status);
    return seen;
  };

  it('gives each client behind a trusted proxy its own bucket', async () => {
    expect(await statuses(PROXY, '203.0.113.1', 3)).toEqual([200, 200, 429]);
    expect((await get(PROXY, '203.0.113.1')).retryAfter).toMatch(/^\d+$/);
    // Another client through the same proxy is not limited by the first one.
    expect(await statuses(PROXY, '203.0.113.2', 1)).toEqual([200]);
    // The right-most address that is not a trusted proxy counts: what the client wrote before it
    // (its own X-Forwarded-For, passed on by the proxy) does not.
    expect(await statuses(PROXY, '198.51.100.9, 203.0.113.1', 1)).toEqual([429]);
    expect(await statuses(PROXY, '203.0.113.3, 10.1.2.3', 3)).toEqual([200, 200, 429]);
    // A request from the proxy itself, without the header, is the proxy's.
    expect(await statuses(PROXY, undefined, 1)).toEqual([200]);
    // So is one whose right-most entry is not an address: the key is always one.
    expect(await statuses(PROXY, '203.0.113.9, not-an-address', 2)).toEqual([200, 429]);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    // Whatever it claims, the stranger is one address with one budget.
    expect((await get(STRANGER, '203.0.113.20')).status).toBe(200);
    expect((await get(STRANGER, '203.0.113.20')).status).toBe(200);
    expect((await get(STRANGER, '192.0.2.77')).status).toBe(429);
    expect((await get(STRANGER)).status).toBe(429);
    // ... and it spent none of the budget of the client it named.
    expect(await statuses(PROXY, '203.0.113.20', 3)).toEqual([200, 200, 429]);
  });

  it('counts failed authentication per client behind the proxy too', async () => {
    const failed = (from: string, forwardedFor?: string) =>
      get(from, forwardedFor, '/v1/policies').then((res) => res.status);
    expect(await failed(PROXY, '203.0.113.50')).toBe(401);
    expect(await failed(PROXY, '203.0.113.50')).toBe(401);
    expect(await failed(PROXY, '203.0.113.50')).toBe(429);
    expect(await failed(PROXY, '203.0.113.51')).toBe(401);
    expect(await failed(STRANGER, '203.0.113.52')).toBe(401);
    expect(await failed(STRANGER, '203.0.113.53')).toBe(401);
    expect(await failed(STRANGER, '203.0.113.54')).toBe(429);
    expect(await failed(PROXY, '203.0.113.52')).toBe(401);
  });
});
