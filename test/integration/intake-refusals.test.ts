import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCounterKey } from '../../src/infra/metrics.js';
import {
  INTAKE_REFUSAL_TTL_S,
  type IntakeRefusal,
  IntakeRefusalLog,
  newIntakeRefusalJobId,
  readIntakeRefusal,
} from '../../src/infra/queue/intake-refusals.js';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import { services, uniqueName, unreachableRedis } from '../support/services.js';

/** Verdicts (issuance jobs decided at intake) on a real Redis. */
describe('verdict records', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(services().redisUrl);
    prefix = uniqueName('verdicts');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const verdict = (actor: string): IntakeRefusal => ({
    jobId: newIntakeRefusalJobId(),
    actor,
    code: 'QUOTA_EXHAUSTED',
    message: 'The policy has no coupon left',
    at: Date.now(),
  });

  it('stores the verdicts of one turn together, each readable and counted once stored', async () => {
    const recorder = new IntakeRefusalLog(redis, prefix);
    const verdicts = Array.from({ length: 50 }, (_, i) => verdict(`user-${i}`));
    await Promise.all(verdicts.map((v) => recorder.record(v)));
    for (const v of verdicts) expect(await readIntakeRefusal(redis, prefix, v.jobId)).toEqual(v);
    expect(await redis.hget(jobCounterKey(prefix), `${QUEUE_NAMES.issuance}|QUOTA_EXHAUSTED`)).toBe(
      '50',
    );
    // One hash for the day, kept at least as long as a failed job and at most a day longer.
    const keys = await redis.keys(`${prefix}:verdicts:*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(INTAKE_REFUSAL_TTL_S);
    expect(ttl).toBeLessThanOrEqual(INTAKE_REFUSAL_TTL_S + 24 * 3600);
  });

  it('still reads a verdict stored under its own key by an earlier version', async () => {
    const old = { ...verdict('old-user'), jobId: 'iss_0b3c9a70-63f4-4b8e-9d5c-7f1c2a9e4d10' };
    await redis.set(`${prefix}:verdict:${old.jobId}`, JSON.stringify(old), 'EX', 60);
    expect(await readIntakeRefusal(redis, prefix, old.jobId)).toEqual(old);
    expect(await readIntakeRefusal(redis, prefix, newIntakeRefusalJobId())).toBeNull();
  });

  it('fails every verdict of a write that Redis refuses, storing none', async () => {
    const dead = unreachableRedis();
    const recorder = new IntakeRefusalLog(dead, prefix);
    const results = await Promise.allSettled([
      recorder.record(verdict('a')),
      recorder.record(verdict('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    dead.disconnect();
  });
});
