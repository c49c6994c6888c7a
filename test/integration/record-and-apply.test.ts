import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentChunk, PaymentEvent } from '../../src/app/ports.js';
import { applyPaymentEvents } from '../../src/app/process-payments.js';
import { recordPendingPayments } from '../../src/infra/db/payment-events.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { waitFor } from '../support/payments.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

type Type = PaymentEvent['type'];

describe('recording a chunk as pending (the bridge) and applying its orders (the usage worker)', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let policyId: string;
  const topic = 'payments';

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    policyId = randomUUID();
    await client.query(
      `insert into coupon_policies (id, name, discount_type, discount_value, max_discount_amount,
                                    issue_type, total_quantity, per_user_limit, valid_from, valid_until)
       values ($1, 'payments', 'PERCENTAGE', 10, 5000, 'DIRECT', 1000, 1,
               now() - interval '1 hour', now() + interval '7 days')`,
      [policyId],
    );
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  /** The owner of every coupon here, and the payer every event names. */
  const BUYER = 'buyer';
  let slot = 0;

  /** A coupon of {@link BUYER} RESERVED for a fresh order; returns both ids. */
  async function reserved() {
    const couponId = randomUUID();
    const orderId = `order-${randomUUID()}`;
    await client.query(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                            order_id, reserved_at, discount_amount, issue_job_id)
       values ($1, $2, $3, $4, 'RESERVED', now(), now() + interval '7 days', $5, now(), 1000, $6)`,
      [couponId, policyId, BUYER, ++slot, orderId, `job-${couponId}`],
    );
    return { couponId, orderId };
  }

  const event = (type: Type, orderId: string, userId = BUYER): PaymentEvent => ({
    eventId: randomUUID(),
    type,
    orderId,
    userId,
    amount: 30000,
    occurredAt: new Date().toISOString(),
  });

  let offset = 0;
  const chunk = (events: PaymentEvent[]): PaymentChunk => ({
    topic,
    partition: 0,
    events: events.map((e) => ({ event: e, offset: String(offset++) })),
  });

  /**
   * Records `events` as the next chunk of partition 0, as the bridge does, then applies the orders
   * of the events still pending, as the worker running their PAYMENT job does; `recorded` is how
   * many rows the chunk added.
   */
  async function apply(events: PaymentEvent[]) {
    const before = await countRows();
    const pending = await recordPendingPayments(db.orm.em.fork(), chunk(events));
    const recorded = (await countRows()) - before;
    const orderIds = [...new Set(pending.map(({ orderId }) => orderId))];
    const results = await applyPaymentEvents(databasePorts(db.orm), orderIds, new Date());
    return { pending, recorded, results };
  }

  async function countRows(): Promise<number> {
    const { rows } = await client.query('select count(*)::int as n from payment_events');
    return rows[0].n;
  }

  async function couponState(couponId: string) {
    const { rows } = await client.query(
      `select status, order_id as "orderId",
              (select count(*)::int from coupon_history h where h.coupon_id = c.id) as history,
              (select count(*)::int from outbox o where o.message_key = c.id::text) as events
         from coupons c where id = $1`,
      [couponId],
    );
    return rows[0];
  }

  async function recorded(eventIds: string[]) {
    const { rows } = await client.query(
      `select event_id as "eventId", outcome, applied_at is not null as applied
         from payment_events where event_id = any($1::uuid[]) order by kafka_offset`,
      [eventIds],
    );
    return rows;
  }

  it('applies each event in offset order, a coupon changing twice included, and records each once', async () => {
    const a = await reserved();
    const b = await reserved();
    const c = await reserved();
    const events = [
      event('PAYMENT_COMPLETED', a.orderId),
      event('PAYMENT_COMPLETED', b.orderId),
      event('PAYMENT_FAILED', c.orderId),
      event('PAYMENT_CANCELLED', b.orderId),
      event('PAYMENT_COMPLETED', 'order-without-coupon'),
    ];
    const { recorded: count } = await apply(events);
    expect(count).toBe(5);
    expect(await couponState(a.couponId)).toEqual({
      status: 'USED',
      orderId: a.orderId,
      history: 1,
      events: 1,
    });
    // USED by the first event, given back by the later cancellation: two changes, in that order.
    expect(await couponState(b.couponId)).toEqual({
      status: 'ISSUED',
      orderId: null,
      history: 2,
      events: 2,
    });
    expect(await couponState(c.couponId)).toMatchObject({ status: 'ISSUED', history: 1 });
    expect((await recorded(events.map((e) => e.eventId))).map((r) => r.outcome)).toEqual([
      'COUPON_USED',
      'COUPON_USED',
      'COUPON_RELEASED',
      'COUPON_RESTORED',
      'NO_COUPON',
    ]);

    // The same chunk delivered again changes nothing and records nothing.
    const again = await apply(events);
    expect(again.recorded).toBe(0);
    expect(again.pending).toEqual([]);
    expect(await couponState(b.couponId)).toMatchObject({ history: 2, events: 2 });
    expect(await recorded(events.map((e) => e.eventId))).toHaveLength(5);
  });

  it('records an event sent twice in one chunk once', async () => {
    const a = await reserved();
    const completed = event('PAYMENT_COMPLETED', a.orderId);
    const result = await apply([completed, completed]);
    expect(result.recorded).toBe(1);
    expect(await couponState(a.couponId)).toMatchObject({ status: 'USED', history: 1 });
  });

  it('applies an order’s older pending event (left for the workers) before the chunk’s own', async () => {
    const a = await reserved();
    const older = event('PAYMENT_COMPLETED', a.orderId);
    await client.query(
      `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                   topic, kafka_partition, kafka_offset)
       values ($1, $2, $3, 'buyer', 30000, now(), $4, 0, $5)`,
      [older.eventId, a.orderId, older.type, topic, offset++],
    );
    const cancelled = event('PAYMENT_CANCELLED', a.orderId);
    // The older event comes again with it (a redelivery): applied once, not recorded twice.
    const result = await apply([older, cancelled]);
    expect(result.recorded).toBe(1);
    expect(await couponState(a.couponId)).toMatchObject({ status: 'ISSUED', history: 2 });
    expect(await recorded([older.eventId, cancelled.eventId])).toEqual([
      { eventId: older.eventId, outcome: 'COUPON_USED', applied: true },
      { eventId: cancelled.eventId, outcome: 'COUPON_RESTORED', applied: true },
    ]);
  });

  it('records an event once when another bridge records it meanwhile, and applies it once', async () => {
    const a = await reserved();
    const completed = event('PAYMENT_COMPLETED', a.orderId);
    // Another bridge (a rebalance) has inserted the same event and not committed yet.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(
        `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                     topic, kafka_partition, kafka_offset)
         values ($1, $2, $3, 'buyer', 30000, now(), $4, 0, 999999)`,
        [completed.eventId, a.orderId, completed.type, topic],
      );
      const recording = recordPendingPayments(db.orm.em.fork(), chunk([completed]));
      recording.catch(() => undefined);
      // Our insert waits on the other's uncommitted row; once that commits, ours adds nothing.
      await waitFor('the insert to wait on the other transaction', async () => {
        const { rows } = await client.query(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return rows[0].n > 0;
      });
      await other.query('commit');
      // Not ours to enqueue: the bridge that recorded it enqueues its job (or, should it die
      // first, the redelivery finds the event pending and enqueues it).
      expect(await recording).toEqual([]);
    } finally {
      await other.end();
    }
    expect(await recorded([completed.eventId])).toEqual([
      { eventId: completed.eventId, outcome: null, applied: false },
    ]);
    // Both bridges' jobs may run: the event is applied once.
    for (let i = 0; i < 2; i++) {
      await applyPaymentEvents(databasePorts(db.orm), [a.orderId], new Date());
    }
    expect(await couponState(a.couponId)).toMatchObject({ status: 'USED', history: 1, events: 1 });
    expect(await recorded([completed.eventId])).toEqual([
      { eventId: completed.eventId, outcome: 'COUPON_USED', applied: true },
    ]);
  });

  it('returns an event recorded before and still pending, so a lost job is enqueued again', async () => {
    const a = await reserved();
    const completed = event('PAYMENT_COMPLETED', a.orderId);
    const first = await recordPendingPayments(db.orm.em.fork(), chunk([completed]));
    // The delivery died before its job was added: the same message comes again.
    const again = await recordPendingPayments(db.orm.em.fork(), chunk([completed]));
    expect(first).toEqual([{ eventId: completed.eventId, orderId: a.orderId }]);
    expect(again).toEqual(first);
    await applyPaymentEvents(databasePorts(db.orm), [a.orderId], new Date());
    expect(await recordPendingPayments(db.orm.em.fork(), chunk([completed]))).toEqual([]);
  });

  it('changes only coupons of the event’s user: another user’s payment is recorded USER_MISMATCH', async () => {
    const a = await reserved();
    const b = await reserved();
    const foreign = [
      event('PAYMENT_COMPLETED', a.orderId, 'mallory'),
      event('PAYMENT_FAILED', b.orderId, 'mallory'),
    ];
    await apply(foreign);
    expect(await couponState(a.couponId)).toEqual({
      status: 'RESERVED',
      orderId: a.orderId,
      history: 0,
      events: 0,
    });
    expect(await couponState(b.couponId)).toMatchObject({ status: 'RESERVED', history: 0 });
    expect(await recorded(foreign.map((e) => e.eventId))).toEqual(
      foreign.map((e) => ({ eventId: e.eventId, outcome: 'USER_MISMATCH', applied: true })),
    );
    // The owner's own payment still goes through afterwards.
    const own = event('PAYMENT_COMPLETED', a.orderId);
    await apply([own]);
    expect(await couponState(a.couponId)).toMatchObject({ status: 'USED', history: 1 });
  });

  it('the workers’ path applies the owner check too', async () => {
    const a = await reserved();
    const foreign = event('PAYMENT_COMPLETED', a.orderId, 'mallory');
    await client.query(
      `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                   topic, kafka_partition, kafka_offset)
       values ($1, $2, $3, $4, 30000, now(), $5, 0, $6)`,
      [foreign.eventId, a.orderId, foreign.type, foreign.userId, topic, offset++],
    );
    const results = await applyPaymentEvents(databasePorts(db.orm), [a.orderId], new Date());
    expect(results.get(a.orderId)?.applied).toEqual([
      { eventId: foreign.eventId, type: foreign.type, outcome: 'USER_MISMATCH', couponIds: [] },
    ]);
    expect(await couponState(a.couponId)).toMatchObject({ status: 'RESERVED', history: 0 });
    expect(await recorded([foreign.eventId])).toEqual([
      { eventId: foreign.eventId, outcome: 'USER_MISMATCH', applied: true },
    ]);
  });
});
