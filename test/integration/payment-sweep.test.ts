import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPendingPayments } from '../../src/app/sweep-pending-payments.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { startScheduler } from '../../src/wiring/workers.js';
import { waitFor } from '../support/payments.js';
import { createStack, type Stack } from '../support/stack.js';

describe('nothing strands: the scheduler applies payment events still pending', () => {
  let stack: Stack;
  let policyId: string;
  let slot = 0;
  let offset = 0;
  const sql = <T>(text: string, params: unknown[] = []) =>
    stack.db.orm.em.getConnection().execute<T[]>(text, params);

  beforeAll(async () => {
    stack = await createStack({ PAYMENT_PENDING_SWEEP_MS: '300', EXPIRY_INTERVAL_MS: '60000' });
    policyId = randomUUID();
    await sql(
      `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                    total_quantity, per_user_limit, valid_from, valid_until)
       values (?, 'sweep', 'FIXED_AMOUNT', 1000, 'DIRECT', 1000, 1000,
               now() - interval '1 hour', now() + interval '7 days')`,
      [policyId],
    );
  });
  afterAll(() => stack.close());

  /** A RESERVED coupon and a PAYMENT_COMPLETED for its order recorded `ageMs` ago, with no job. */
  async function strandedPayment(ageMs: number) {
    const couponId = randomUUID();
    const orderId = `order-${couponId}`;
    const eventId = randomUUID();
    await sql(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                            order_id, reserved_at, discount_amount, issue_job_id)
       values (?, ?, 'payer', ?, 'RESERVED', now(), now() + interval '7 days', ?, now(), 1000, ?)`,
      [couponId, policyId, ++slot, orderId, `job-${couponId}`],
    );
    await sql(
      `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                   topic, kafka_partition, kafka_offset, received_at)
       values (?, ?, 'PAYMENT_COMPLETED', 'payer', 30000, now(), 'payments', 0, ?,
               now() - ? * interval '1 millisecond')`,
      [eventId, orderId, offset++, ageMs],
    );
    return { couponId, eventId };
  }

  const state = async ({ couponId, eventId }: { couponId: string; eventId: string }) => {
    const [row] = await sql<{ status: string; outcome: string | null }>(
      `select c.status, e.outcome from coupons c, payment_events e
        where c.id = ? and e.event_id = ?`,
      [couponId, eventId],
    );
    return row;
  };

  it('applies events pending longer than the threshold, and leaves younger ones to their jobs', async () => {
    const old = await strandedPayment(60_000);
    const young = await strandedPayment(0);
    const result = await sweepPendingPayments(databasePorts(stack.db.orm), {
      now: new Date(),
      olderThanMs: 30_000,
      batchSize: 1,
    });
    expect(result.events).toBeGreaterThanOrEqual(1);
    expect(await state(old)).toEqual({ status: 'USED', outcome: 'COUPON_USED' });
    expect(await state(young)).toEqual({ status: 'RESERVED', outcome: null });
  });

  it('the scheduler role sweeps every PAYMENT_PENDING_SWEEP_MS: a pending row with no queue job gets applied', async () => {
    const stranded = await strandedPayment(1_000);
    expect(await stack.queues.usage.count()).toBe(0);
    const scheduler = await startScheduler({
      env: stack.env,
      logger: pino({ level: 'silent' }),
      orm: stack.db.orm,
      stats: new StatsCache(stack.redis, stack.env.QUEUE_PREFIX),
      redis: stack.redis,
    });
    try {
      await waitFor(
        'the stranded payment to be applied',
        async () => (await state(stranded))?.status === 'USED',
        20_000,
      );
      expect(await state(stranded)).toEqual({ status: 'USED', outcome: 'COUPON_USED' });
    } finally {
      await scheduler.close();
    }
  });
});
