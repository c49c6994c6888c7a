import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCouponAction } from '../../src/app/apply-coupon-action.js';
import { expireCoupons } from '../../src/app/expire-coupons.js';
import { applyPaymentEvents } from '../../src/app/process-payments.js';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { insertIssuedCoupon, insertPolicy } from '../support/fixtures-sql.js';
import { capturedLogger } from '../support/logger.js';
import { recordAndApply } from '../support/payments.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const TTL = 15 * 60_000;
const OWNER = 'late-owner';

describe('late completion: PAYMENT_COMPLETED after the reservation closed unpaid', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let policyId: string;
  let slot = 0;
  let offset = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    policyId = await insertPolicy(client, 'late');
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  /** An ISSUED coupon of {@link OWNER} expiring `expiresInMs` from now. */
  async function issued(expiresInMs = 7 * 86_400_000) {
    return insertIssuedCoupon(client, { policyId, userId: OWNER, slot: ++slot, expiresInMs });
  }

  const act = (couponId: string, action: Record<string, unknown>) =>
    applyCouponAction(
      databasePorts(db.orm),
      { actor: OWNER, couponId, ...action } as never,
      new Date(),
      {
        reservationTtlMs: TTL,
      },
    );

  /** Reserves the coupon for `orderId`, then lets the scheduler time the reservation out. */
  async function timedOut(couponId: string, orderId: string) {
    const reserved = await act(couponId, { type: 'RESERVE', orderId, orderAmount: 30000 });
    expect(reserved.ok).toBe(true);
    const swept = await expireCoupons(databasePorts(db.orm), {
      now: new Date(Date.now() + TTL + 60_000),
      ttlMs: TTL,
    });
    expect(swept.released).toBeGreaterThanOrEqual(1);
  }

  const completed = (orderId: string, userId = OWNER): PaymentEvent => ({
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId,
    userId,
    amount: 29000,
    occurredAt: new Date().toISOString(),
  });

  const pay = (events: PaymentEvent[], logger?: pino.Logger) =>
    recordAndApply(
      db.orm.em.fork(),
      {
        topic: 'payments',
        partition: 0,
        events: events.map((event) => ({ event, offset: String(offset++) })),
      },
      new Date(),
      { logger },
    );

  async function coupon(couponId: string) {
    const { rows } = await client.query(
      `select status, order_id as "orderId", discount_amount::int as "discountAmount",
              used_at is not null as "hasUsedAt"
         from coupons where id = $1`,
      [couponId],
    );
    return rows[0];
  }
  async function reservations(couponId: string) {
    const { rows } = await client.query(
      `select order_id as "orderId", state, closed_by as "closedBy" from coupon_reservations
        where coupon_id = $1 order by reserved_at, id`,
      [couponId],
    );
    return rows;
  }
  async function outcome(eventId: string) {
    const { rows } = await client.query(
      'select outcome from payment_events where event_id = $1 and applied_at is not null',
      [eventId],
    );
    return rows[0]?.outcome;
  }

  it('uses a coupon still ISSUED for the late order, with the reservation’s discount, and confirms it', async () => {
    const id = await issued();
    await timedOut(id, 'order-late');
    expect(await coupon(id)).toMatchObject({ status: 'ISSUED', orderId: null });
    const event = completed('order-late');
    await pay([event]);
    expect(await coupon(id)).toEqual({
      status: 'USED',
      orderId: 'order-late',
      discountAmount: 1000,
      hasUsedAt: true,
    });
    expect(await outcome(event.eventId)).toBe('COUPON_USED');
    expect(await reservations(id)).toEqual([
      { orderId: 'order-late', state: 'CONFIRMED', closedBy: 'system:payment' },
    ]);
    // A cancellation of the same order afterwards restores it, as for any use.
    const cancelled = { ...completed('order-late'), type: 'PAYMENT_CANCELLED' as const };
    await pay([cancelled]);
    expect(await coupon(id)).toMatchObject({ status: 'ISSUED', orderId: null });
  });

  it('uses a coupon that EXPIRED only because time passed since the reservation', async () => {
    const id = await issued(TTL / 2);
    await timedOut(id, 'order-expired');
    expect(await coupon(id)).toMatchObject({ status: 'EXPIRED' });
    const event = completed('order-expired');
    await pay([event]);
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-expired' });
    expect(await outcome(event.eventId)).toBe('COUPON_USED');
  });

  it('changes nothing when another order holds or used the coupon meanwhile: COUPON_TAKEN, warned', async () => {
    const held = await issued();
    const used = await issued();
    await timedOut(held, 'order-slow-1');
    await timedOut(used, 'order-slow-2');
    await act(held, { type: 'RESERVE', orderId: 'order-other-1', orderAmount: 30000 });
    await act(used, { type: 'USE', orderId: 'order-other-2', orderAmount: 30000 });

    const { logger, lines } = capturedLogger('info');
    const events = [completed('order-slow-1'), completed('order-slow-2')];
    await pay(events, logger);
    expect(await coupon(held)).toMatchObject({ status: 'RESERVED', orderId: 'order-other-1' });
    expect(await coupon(used)).toMatchObject({ status: 'USED', orderId: 'order-other-2' });
    expect(await outcome(events[0]!.eventId)).toBe('COUPON_TAKEN');
    expect(await outcome(events[1]!.eventId)).toBe('COUPON_TAKEN');
    expect((await reservations(held)).map((r) => r.state)).toEqual(['TIMED_OUT', 'ACTIVE']);
    const warned = lines.filter((line) => line.outcome === 'COUPON_TAKEN');
    expect(warned.map((line) => [line.level, line.orderId])).toEqual([
      [40, 'order-slow-1'],
      [40, 'order-slow-2'],
    ]);
  });

  it('a payment completing after the owner released the coupon uses it: pay, then keep it, no more', async () => {
    const id = await issued();
    await act(id, { type: 'RESERVE', orderId: 'order-released', orderAmount: 30000 });
    await act(id, { type: 'RELEASE', orderId: 'order-released' });
    expect(await coupon(id)).toMatchObject({ status: 'ISSUED', orderId: null });
    const event = completed('order-released');
    await pay([event]);
    expect(await outcome(event.eventId)).toBe('COUPON_USED');
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-released' });
    expect(await reservations(id)).toEqual([
      { orderId: 'order-released', state: 'CONFIRMED', closedBy: 'system:payment' },
    ]);
  });

  it('a card that failed and was retried: PAYMENT_FAILED then PAYMENT_COMPLETED uses the coupon', async () => {
    const id = await issued();
    await act(id, { type: 'RESERVE', orderId: 'order-retried', orderAmount: 30000 });
    const failed = { ...completed('order-retried'), type: 'PAYMENT_FAILED' as const };
    const retried = completed('order-retried');
    await pay([failed, retried]);
    expect(await outcome(failed.eventId)).toBe('COUPON_RELEASED');
    expect(await outcome(retried.eventId)).toBe('COUPON_USED');
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-retried' });
  });

  it('a retried card uses every stackable coupon the failed one released, at the payable amount', async () => {
    const stackable = async (name: string) => {
      const id = await insertPolicy(client, name);
      await client.query("update coupon_policies set stacking = 'STACKABLE' where id = $1", [id]);
      return id;
    };
    const first = await insertIssuedCoupon(client, {
      policyId: await stackable('stack-a'),
      userId: OWNER,
      slot: 1,
    });
    const second = await insertIssuedCoupon(client, {
      policyId: await stackable('stack-b'),
      userId: OWNER,
      slot: 1,
    });
    for (const id of [first, second]) {
      expect(
        (await act(id, { type: 'RESERVE', orderId: 'order-stacked', orderAmount: 30000 })).ok,
      ).toBe(true);
    }
    const failed = { ...completed('order-stacked'), type: 'PAYMENT_FAILED' as const };
    await pay([failed]);
    expect(await coupon(first)).toMatchObject({ status: 'ISSUED' });
    const retried = { ...completed('order-stacked'), amount: 28000 };
    await pay([retried]);
    expect(await outcome(retried.eventId)).toBe('COUPON_USED');
    for (const id of [first, second]) {
      expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-stacked' });
      expect((await reservations(id)).map((r) => r.state)).toEqual(['CONFIRMED']);
    }
  });

  it('another user’s coupon on the same order id cannot keep the payer’s coupon free', async () => {
    const id = await issued();
    await timedOut(id, 'order-shared');
    // From before an order had one user: someone else's coupon reserved for the same order id.
    const foreign = await insertIssuedCoupon(client, { policyId, userId: 'intruder', slot: 1 });
    await client.query(
      "update coupons set status = 'RESERVED', order_id = 'order-shared', reserved_at = now(), discount_amount = 1000 where id = $1",
      [foreign],
    );
    const event = completed('order-shared');
    await pay([event]);
    expect(await outcome(event.eventId)).toBe('COUPON_USED');
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-shared' });
    expect(await coupon(foreign)).toMatchObject({ status: 'RESERVED' });
  });

  it('a paid amount other than the payable amount is applied, recorded AMOUNT_MISMATCH and warned', async () => {
    const id = await issued();
    await act(id, { type: 'RESERVE', orderId: 'order-short', orderAmount: 30000 });
    const { logger, lines } = capturedLogger('info');
    const short = { ...completed('order-short'), amount: 100 };
    await pay([short], logger);
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-short' });
    expect(await outcome(short.eventId)).toBe('AMOUNT_MISMATCH');
    const warned = lines.filter((line) => line.outcome === 'AMOUNT_MISMATCH');
    expect(warned.map((line) => [line.level, line.amount, line.payableAmount])).toEqual([
      [40, 100, 29000],
    ]);
  });

  it('the workers’ path completes late too, and only for the coupon’s owner', async () => {
    const id = await issued();
    await timedOut(id, 'order-queued');
    const foreign = completed('order-queued', 'someone-else');
    const own = completed('order-queued');
    for (const event of [foreign, own]) {
      await client.query(
        `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                     topic, kafka_partition, kafka_offset)
         values ($1, $2, $3, $4, 29000, now(), 'payments', 0, $5)`,
        [event.eventId, event.orderId, event.type, event.userId, offset++],
      );
    }
    await applyPaymentEvents(databasePorts(db.orm), ['order-queued'], new Date());
    expect(await outcome(foreign.eventId)).toBe('USER_MISMATCH');
    expect(await outcome(own.eventId)).toBe('COUPON_USED');
    expect(await coupon(id)).toMatchObject({ status: 'USED', orderId: 'order-queued' });
  });
});
