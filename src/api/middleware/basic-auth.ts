import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.js';
import { ApiError } from '../errors.js';

// Digests have one length, so the comparison takes the same time whatever was sent.
const digest = (value: string) => createHash('sha256').update(value).digest();

/** HTTP Basic auth for operators' pages, compared in constant time. */
export function basicAuth(user: string, password: string): MiddlewareHandler<AppEnv> {
  const expected = digest(`${user}:${password}`);
  return async (c, next) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(c.req.header('authorization') ?? '');
    const given = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    if (!timingSafeEqual(digest(given), expected)) {
      c.header('WWW-Authenticate', 'Basic realm="coupon-service operators", charset="UTF-8"');
      throw new ApiError('UNAUTHORIZED', 'Operator credentials are required');
    }
    await next();
  };
}
