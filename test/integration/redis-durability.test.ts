import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/infra/kafka/client.js';
import { createProbes } from '../../src/infra/probes.js';
import { type OwnRedis, startRedisServer } from '../support/redis-server.js';
import { createTestDatabase, services } from '../support/services.js';
import { ADMIN, createStack, type Stack, settledJob } from '../support/stack.js';

/**
 * A 202 is a job that survives Redis: the service accepts work only on a Redis that keeps it, and
 * on one that does, a Redis killed mid-sale loses no accepted job.
 */
describe('Redis durability', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function own(args: string[]): Promise<OwnRedis> {
    const server = await startRedisServer(args);
    cleanup.push(() => server.stop());
    return server;
  }
  async function stackOn(url: string, overrides: Record<string, string> = {}): Promise<Stack> {
    const stack = await createStack({ REDIS_URL: url, ...overrides });
    cleanup.push(() => stack.close());
    return stack;
  }

  it('refuses work on a Redis without AOF, naming the setting, unless told REDIS_DURABILITY=off', async () => {
    const volatile = await own(['--appendonly', 'no']);
    const stack = await stackOn(volatile.url);
    const policyId = await stack.createPolicy();
    const refused = await stack.request('POST', '/v1/issuances', ADMIN, {
      policyId,
      userId: 'u-1',
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');

    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const redis = new Redis(volatile.url, { maxRetriesPerRequest: 1 });
    cleanup.push(async () => redis.disconnect());
    const probes = createProbes({
      orm: db.orm,
      redis,
      durability: { durability: 'on', fsync: 'everysec' },
      kafka: createKafka({ brokers: services().kafkaBrokers, clientId: 'durability-test' }),
      groupId: 'g',
      topic: 't',
    });
    cleanup.push(() => probes.close());
    const report = await probes.readiness();
    expect(report.checks.redis).toBe('down');
    expect(report.reasons.redis).toMatch(/appendonly is no \(needs yes\)/);

    const knowingly = await stackOn(volatile.url, { REDIS_DURABILITY: 'off' });
    const accepted = await knowingly.request('POST', '/v1/issuances', ADMIN, {
      policyId: await knowingly.createPolicy(),
      userId: 'u-1',
    });
    expect(accepted.status).toBe(202);
  });

  it('refuses a Redis that may evict jobs, and one that does not fsync each write under REDIS_FSYNC=always', async () => {
    const evicting = await own(['--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru']);
    const a = await stackOn(evicting.url);
    const first = await a.request('POST', '/v1/issuances', ADMIN, {
      policyId: await a.createPolicy(),
      userId: 'u-1',
    });
    expect(first.status).toBe(503);

    const everysec = await own(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    const b = await stackOn(everysec.url, { REDIS_FSYNC: 'always' });
    const second = await b.request('POST', '/v1/issuances', ADMIN, {
      policyId: await b.createPolicy(),
      userId: 'u-1',
    });
    expect(second.status).toBe(503);
    const c = await stackOn(everysec.url);
    const third = await c.request('POST', '/v1/issuances', ADMIN, {
      policyId: await c.createPolicy(),
      userId: 'u-1',
    });
    expect(third.status).toBe(202);
  });

  it('loses no accepted job when Redis with AOF is SIGKILLed mid-sale and restarted', async () => {
    const redis = await own(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    const stack = await stackOn(redis.url);
    const policyId = await stack.createPolicy({ totalQuantity: 150, perUserLimit: 1 });
    const accepted: string[] = [];
    let refused = 0;
    const rush = async (from: number, to: number) => {
      await Promise.all(
        Array.from({ length: to - from }, async (_, i) => {
          const res = await stack.request('POST', '/v1/issuances', ADMIN, {
            policyId,
            userId: `sale-${from + i}`,
          });
          if (res.status === 202) accepted.push(res.body.jobId);
          else {
            expect(res.status).toBe(503);
            refused += 1;
          }
        }),
      );
    };
    // Accepted before any worker runs: every one of these jobs is only in Redis when it dies.
    await rush(0, 100);
    expect(accepted).toHaveLength(100);
    await redis.kill('SIGKILL');
    await rush(100, 120);
    await redis.restart();
    stack.startWorkers();
    await rush(120, 200);
    expect(accepted.length + refused).toBe(200);

    const outcomes = await Promise.all(accepted.map((jobId) => settledJob(stack, jobId)));
    const completed = outcomes.filter((job) => job.state === 'completed');
    const failed = outcomes.filter((job) => job.state === 'failed');
    expect(new Set(failed.map((job) => job.error.code))).toEqual(
      failed.length ? new Set(['QUOTA_EXHAUSTED']) : new Set(),
    );
    expect(completed).toHaveLength(Math.min(150, accepted.length));
    const [row] = await stack.db.orm.em
      .getConnection()
      .execute<{ coupons: number }[]>(
        'select count(*)::int as coupons from coupons where policy_id = ?',
        [policyId],
      );
    expect(row?.coupons).toBe(completed.length);
  });
});
