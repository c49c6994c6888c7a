import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepLastRunKey } from '../../src/infra/queue/scheduler.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { startScheduler } from '../../src/wiring/workers.js';
import { insertIssuedCoupon, insertPolicy } from '../support/fixtures-sql.js';
import { scrape } from '../support/metrics.js';
import { waitFor } from '../support/payments.js';
import { createStack, type Stack } from '../support/stack.js';

/**
 * The sweeps are repeatable jobs in Redis: when Redis loses them (a flush, a restart without its
 * data), a running scheduler schedules them again, and they show on /metrics.
 */
describe('scheduled sweeps that heal', () => {
  let stack: Stack;
  let client: pg.Client;
  beforeAll(async () => {
    stack = await createStack({ EXPIRY_INTERVAL_MS: '500' });
    client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await stack.close();
  });

  const lastExpiry = async () =>
    Number((await stack.redis.hget(sweepLastRunKey(stack.env.QUEUE_PREFIX), 'expire')) ?? 0);
  const status = async (id: string) =>
    (await client.query('select status from coupons where id = $1', [id])).rows[0]?.status;

  it('resumes expiry within a minute after every queue key is deleted under a running scheduler', async () => {
    const scheduler = await startScheduler({
      env: stack.env,
      logger: pino({ level: 'silent' }),
      orm: stack.db.orm,
      stats: new StatsCache(stack.redis, stack.env.QUEUE_PREFIX),
      redis: stack.redis,
    });
    try {
      await waitFor('a first expiry run', async () => (await lastExpiry()) > 0, 20_000);
      const metrics = await scrape(stack.app);
      expect(metrics.samples.get('coupon_sweep_interval_seconds{sweep="expire"}')).toBe(0.5);
      expect(
        metrics.samples.get('coupon_sweep_last_run_timestamp_seconds{sweep="expire"}'),
      ).toBeGreaterThan(0);

      // Redis loses the deployment's keys: the sweeps' schedules and next jobs with them.
      const keys = await stack.redis.keys(`${stack.env.QUEUE_PREFIX}:*`);
      await stack.redis.del(...keys);
      const flushedAt = Date.now() / 1000;

      const policyId = await insertPolicy(client, 'heal');
      const expired = await insertIssuedCoupon(client, {
        policyId,
        userId: 'heal-user',
        slot: 1,
        expiresInMs: -60_000,
      });
      await waitFor('expiry to run again', async () => (await lastExpiry()) > flushedAt, 60_000);
      await waitFor('the coupon to expire', async () => (await status(expired)) === 'EXPIRED');
    } finally {
      await scheduler.close();
    }
  });
});
