import type { MiddlewareHandler } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import type { AppEnv } from '../context.js';
import { ApiError } from '../errors.js';

export interface JobQuotaOptions {
  /** One Redis server or a Redis Cluster: one key per caller and period. */
  redis: Redis | Cluster;
  keyPrefix: string;
  /** Requests that make jobs per user and UTC day; 0: no limit. */
  dailyJobs: number;
  /** Actions per user, coupon and hour; 0: no limit. */
  couponActionsPerHour: number;
}

const HOUR_S = 3600;
/** The routes that answer 202 with a job; the coupon actions name their coupon. */
const JOB_ROUTE = /^\/v1\/(?:issuances|coupons\/([^/]+)\/(?:reserve|release|use|cancel))$/;
const DAY_S = 24 * HOUR_S;

/**
 * Counts one request in the period's key and says how long until the period ends when it is past
 * `limit`. Redis trouble lets the request through: it meets Redis again when its job is added.
 */
async function over(
  redis: Redis | Cluster,
  key: string,
  limit: number,
  periodS: number,
): Promise<number | null> {
  const now = Date.now() / 1000;
  const end = (Math.floor(now / periodS) + 1) * periodS;
  const answers = await redis.multi().incr(key).expireat(key, end).exec();
  const count = Number(answers?.[0]?.[1] ?? 0);
  return count > limit ? Math.max(1, Math.ceil(end - now)) : null;
}

/**
 * What one caller may keep in Redis, bounded: a user's requests that make jobs per UTC day, and
 * their actions per coupon per hour (a reserve/release loop). Past either: `429 RATE_LIMITED` with
 * `Retry-After` until the period ends. Admins act for the shop and are not limited here (the rate
 * limit still applies to them). Mounted on the routes that answer 202.
 */
export function jobQuotas({
  redis,
  keyPrefix,
  dailyJobs,
  couponActionsPerHour,
}: JobQuotaOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const route = c.req.method === 'POST' ? JOB_ROUTE.exec(c.req.path) : null;
    const { sub, role } = c.get('principal');
    if (!route || role === 'admin') return next();
    const checks: [string, number, number, string][] = [];
    const now = Math.floor(Date.now() / 1000);
    if (dailyJobs > 0) {
      const day = Math.floor(now / DAY_S);
      checks.push([`${keyPrefix}:quota:jobs:${day}:${sub}`, dailyJobs, DAY_S, 'requests a day']);
    }
    const couponId = route[1];
    if (couponActionsPerHour > 0 && couponId !== undefined) {
      const hour = Math.floor(now / HOUR_S);
      checks.push([
        `${keyPrefix}:quota:coupon:${hour}:${couponId}:${sub}`,
        couponActionsPerHour,
        HOUR_S,
        'actions on one coupon an hour',
      ]);
    }
    for (const [key, limit, periodS, what] of checks) {
      let wait: number | null = null;
      try {
        wait = await over(redis, key, limit, periodS);
      } catch (error) {
        c.get('logger')?.warn({ err: error }, 'job quota unavailable; request let through');
      }
      if (wait !== null) {
        c.header('Retry-After', String(wait));
        throw new ApiError('RATE_LIMITED', `More than ${limit} ${what}; retry in ${wait} s`);
      }
    }
    await next();
  };
}
