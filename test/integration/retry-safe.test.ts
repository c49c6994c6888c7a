import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCouponAction } from '../../src/app/apply-coupon-action.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { capturedLogger } from '../support/logger.js';
import { waitFor } from '../support/payments.js';
import { createStack, type Stack, settledJob, user } from '../support/stack.js';

/** A statistics cache whose version bump (the work after a commit) fails while `failing` holds. */
class FailingStats extends StatsCache {
  failing = false;
  calls = 0;
  override async changed(policyIds: Iterable<string>): Promise<void> {
    this.calls++;
    if (this.failing) throw new Error('Connection is closed.');
    return super.changed(policyIds);
  }
}

describe('usage jobs retried after their change committed', () => {
  let stack: Stack;
  let policyId: string;
  const stats: { current?: FailingStats } = {};
  const { logger, lines } = capturedLogger('warn');

  beforeAll(async () => {
    stack = await createStack({ JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '20' });
    stats.current = new FailingStats(stack.redis, stack.env.QUEUE_PREFIX);
    stack.startWorkers({ stats: stats.current, logger });
    policyId = await stack.createPolicy({
      totalQuantity: 100,
      perUserLimit: 100,
      minOrderAmount: 0,
    });
  });
  afterAll(() => stack.close());

  async function couponFor(owner: string) {
    const res = await stack.request('POST', '/v1/issuances', user(owner), { policyId });
    const job = await settledJob(stack, res.body.jobId, user(owner));
    expect(job.state).toBe('completed');
    return job.result.coupon.id as string;
  }

  const historyCount = async (couponId: string) => {
    const [row] = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from coupon_history where coupon_id = ?',
        [couponId],
      );
    return row?.n;
  };

  it('the same job run again after its commit answers the same result, for every action', async () => {
    const id = await couponFor('retry-a');
    const cancelled = await couponFor('retry-a');
    const run = (jobId: string, action: Record<string, unknown>, couponId = id) =>
      applyCouponAction(
        databasePorts(stack.db.orm),
        { actor: 'retry-a', couponId, ...action } as never,
        new Date(),
        { reservationTtlMs: 60_000, jobId },
      );
    const steps: [string, Record<string, unknown>, string?][] = [
      ['use_r1', { type: 'RESERVE', orderId: 'o-1', orderAmount: 30000 }],
      ['use_r2', { type: 'RELEASE', orderId: 'o-1' }],
      ['use_r3', { type: 'USE', orderId: 'o-2', orderAmount: 30000 }],
      ['use_r4', { type: 'CANCEL', actor: 'admin-1', reason: 'test' }, cancelled],
    ];
    for (const [jobId, action, couponId] of steps) {
      const first = await run(jobId, action, couponId);
      expect(first).toMatchObject({ ok: true, value: { repeated: false } });
      const before = await historyCount(couponId ?? id);
      const again = await run(jobId, action, couponId);
      expect(again).toEqual({
        ok: true,
        value: { ...(first.ok && first.value), repeated: true },
      });
      // Nothing was written twice.
      expect(await historyCount(couponId ?? id)).toBe(before);
    }
    // Another job with the same data is a new action: the status machine refuses it.
    const other = await run('use_r5', { type: 'USE', orderId: 'o-2', orderAmount: 30000 });
    expect(other).toMatchObject({ ok: false, code: 'COUPON_NOT_USABLE' });
  });

  it('a completed reserve job run again by the queue completes with the same result', async () => {
    const id = await couponFor('retry-b');
    const res = await stack.request('POST', `/v1/coupons/${id}/reserve`, user('retry-b'), {
      orderId: 'order-retried',
      orderAmount: 30000,
    });
    const first = await settledJob(stack, res.body.jobId, user('retry-b'));
    expect(first.state).toBe('completed');
    // As if the acknowledgement had been lost: the queue hands the same job out once more.
    const job = await stack.queues.usage.getJob(res.body.jobId);
    await job?.retry('completed');
    await waitFor('the job to run again', async () => {
      const again = await stack.queues.usage.getJob(res.body.jobId);
      return (again?.attemptsStarted ?? 0) > (job?.attemptsStarted ?? 0) && !!again?.finishedOn;
    });
    const second = await settledJob(stack, res.body.jobId, user('retry-b'));
    expect(second.state).toBe('completed');
    expect(second.result).toEqual(first.result);
    expect(await historyCount(id)).toBe(2);
  });

  it('a failure after the commit (the statistics cache) never fails or retries the job', async () => {
    const id = await couponFor('retry-c');
    const callsBefore = stats.current?.calls ?? 0;
    (stats.current as FailingStats).failing = true;
    const res = await stack.request('POST', `/v1/coupons/${id}/reserve`, user('retry-c'), {
      orderId: 'order-cache-down',
      orderAmount: 30000,
    });
    const job = await settledJob(stack, res.body.jobId, user('retry-c'));
    (stats.current as FailingStats).failing = false;
    expect(job.state).toBe('completed');
    expect(job.result.coupon).toMatchObject({
      id,
      status: 'RESERVED',
      orderId: 'order-cache-down',
    });
    expect((await stack.queues.usage.getJob(res.body.jobId))?.attemptsMade).toBe(1);
    expect(stats.current?.calls).toBeGreaterThan(callsBefore);
    expect(lines.some((l) => l.msg === 'work after commit failed; the change stands')).toBe(true);
  });
});
