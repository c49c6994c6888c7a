import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentEvent } from '../../src/app/ports.js';
import { recordPendingPayments } from '../../src/infra/db/payment-events.js';
import { couponRows } from '../support/bridge.js';
import { waitFor } from '../support/payments.js';
import { createStack, type Stack, settledJob } from '../support/stack.js';

/**
 * The usage workers apply the payment events of many orders in one transaction. An order whose
 * write PostgreSQL refuses for a data reason must fail alone: the other orders of its group commit.
 */
describe('a payment order whose write fails for a data reason', () => {
  let stack: Stack;
  let rows: Awaited<ReturnType<typeof couponRows>>;
  beforeAll(async () => {
    stack = await createStack({ JOB_ATTEMPTS: '2' });
    stack.startWorkers();
    rows = await couponRows(stack.db.url);
    // Stands for any row the database refuses (class 23): the poisoned order's coupon.
    await rows.client.query(`
      create function refuse_poisoned_order() returns trigger language plpgsql as $$
      begin
        if new.order_id like 'poisoned-%' then
          raise exception 'refused for the test' using errcode = '23514';
        end if;
        return new;
      end $$;
      create trigger refuse_poisoned_order before update on coupons
        for each row execute function refuse_poisoned_order();`);
  });
  afterAll(async () => {
    await rows?.close();
    await stack?.close();
  });

  const completed = (orderId: string): PaymentEvent => ({
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId,
    userId: 'alice',
    amount: 30000,
    occurredAt: new Date().toISOString(),
  });

  it('fails alone: the other orders of its group are applied', async () => {
    const orders = [`good-${randomUUID()}`, `poisoned-${randomUUID()}`, `good-${randomUUID()}`];
    const coupons = await Promise.all(orders.map((orderId) => rows.reserved(orderId, 'alice')));
    const events = orders.map(completed);
    const pending = await recordPendingPayments(stack.db.orm.em.fork(), {
      topic: 'payments',
      partition: 0,
      events: events.map((event, i) => ({ event, offset: String(i) })),
    });
    // One job carrying the three orders: they are applied in one group.
    await stack.queues.usage.add(
      'job',
      { type: 'PAYMENT', actor: 'system:payment', events: pending },
      { jobId: `use_pay_chunk_${randomUUID()}` },
    );
    await waitFor('the good orders applied, or the job failed for good', async () => {
      const statuses = await rows.statuses(coupons);
      const failed = await stack.queues.usage.getFailedCount();
      return (statuses[0] === 'USED' && statuses[2] === 'USED') || failed > 0;
    });
    expect(await rows.statuses(coupons)).toEqual(['USED', 'RESERVED', 'USED']);
    const { rows: applied } = await rows.client.query<{ order_id: string }>(
      'select order_id from payment_events where applied_at is not null order by order_id',
    );
    expect(applied.map((row) => row.order_id).sort()).toEqual([orders[0], orders[2]].sort());
    // The job holding the poisoned order fails (and is retried), never the orders beside it.
    const [job] = await stack.queues.usage.getJobs(['failed', 'delayed', 'waiting', 'active']);
    expect(job).toBeDefined();
    if (job) expect((await settledJob(stack, job.id as string)).state).toBe('failed');
  });
});
