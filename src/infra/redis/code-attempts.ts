import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { CodeAttempts } from '../../app/ports.js';
import type { RedisClient } from './connection.js';

/** Failed and refused code redemptions, by outcome (`CODE_INVALID`, `RATE_LIMITED`), all processes. */
export const codeAttemptCounterKey = (prefix: string) => `${prefix}:metrics:code-attempts`;

/**
 * Failed code redemptions per caller in Redis, shared by every process: the workers count each
 * `CODE_INVALID`, and a caller with more than `max` of them in the window is refused at intake
 * until the window that started with its first failure ends.
 */
export function redisCodeAttempts(
  redis: RedisClient,
  prefix: string,
  { max, windowMs }: { max: number; windowMs: number },
): CodeAttempts {
  if (max === 0) return { blockedFor: async () => null, failed: async () => undefined };
  const failures = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}:code-attempts`,
    points: max,
    duration: Math.max(1, Math.ceil(windowMs / 1000)),
  });
  const counted = (outcome: string, n: number) =>
    redis.hincrby(codeAttemptCounterKey(prefix), outcome, n);
  return {
    async blockedFor(actor) {
      const state = await failures.get(actor);
      if (!state || state.consumedPoints <= max) return null;
      await counted('RATE_LIMITED', 1);
      return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    },
    async failed(actors) {
      if (actors.length === 0) return;
      await Promise.all(actors.map((actor) => failures.penalty(actor, 1)));
      await counted('CODE_INVALID', actors.length);
    },
  };
}
