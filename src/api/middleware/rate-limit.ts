import type { Context, MiddlewareHandler } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppEnv } from '../context.js';
import { ApiError } from '../errors.js';
import { clientAddress } from './client-address.js';

export interface RateLimitOptions {
  /** One Redis server or a Redis Cluster (the limiter keeps one key per caller). */
  redis: Redis | Cluster;
  keyPrefix: string;
  /** Requests per window; 0 turns limiting off. */
  max: number;
  windowMs: number;
  /**
   * Proxies in front of the service (`TRUSTED_PROXIES`): a request from one is counted against
   * the client its `X-Forwarded-For` names ({@link clientAddress}). @defaultValue none
   */
  trustedProxies?: readonly string[];
}

/** Paths that probes and scrapers call: never limited. */
const EXEMPT = new Set(['/health', '/ready', '/metrics']);

/**
 * The per-caller limit, counted in Redis so every API process shares it. Returns two middlewares:
 * `byUser` runs after authentication (the key is `sub`), `byIp` covers everything else; and
 * `failedAuth`, which counts a request that failed authentication against its address (the same
 * budget, counted apart), so guessing tokens is limited too.
 */
export function rateLimits({ redis, keyPrefix, max, windowMs, trustedProxies }: RateLimitOptions) {
  const clientIp = clientAddress(trustedProxies);
  const limiter =
    max > 0
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${keyPrefix}:rl`,
          points: max,
          duration: windowMs / 1000,
        })
      : null;

  const consume = async (c: Context<AppEnv>, key: string) => {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        c.header('Retry-After', String(seconds));
        throw new ApiError('RATE_LIMITED', `Too many requests; retry in ${seconds} s`);
      }
      // Redis trouble must not lock every caller out; the request meets Redis again when it enqueues.
      c.get('logger')?.warn(
        { err: error, requestId: c.get('requestId') },
        'rate limiter unavailable; request let through',
      );
    }
  };

  const byUser: MiddlewareHandler<AppEnv> = async (c, next) => {
    await consume(c, `user:${c.get('principal').sub}`);
    await next();
  };
  const byIp: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!EXEMPT.has(c.req.path) && !c.req.path.startsWith('/v1/'))
      await consume(c, `ip:${clientIp(c)}`);
    await next();
  };
  const failedAuth = (c: Context<AppEnv>) => consume(c, `auth-failed:${clientIp(c)}`);
  // Off: nothing to mount, so requests do not pass through two empty steps.
  return limiter
    ? { byUser, byIp, failedAuth }
    : { byUser: undefined, byIp: undefined, failedAuth: undefined };
}
