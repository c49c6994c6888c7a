import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCouponAction } from '../../src/app/apply-coupon-action.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { insertIssuedCoupon, insertPolicy } from '../support/fixtures-sql.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const TTL = 15 * 60_000;

describe('coupon_reservations: at most one ACTIVE reservation per coupon, by the database', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let policyId: string;
  let slot = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    policyId = await insertPolicy(client, 'reservations');
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const issued = () => insertIssuedCoupon(client, { policyId, userId: 'holder', slot: ++slot });

  it('refuses a second ACTIVE reservation written from several connections at once: one wins', async () => {
    const couponId = await issued();
    const clients = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      const results = await Promise.allSettled(
        clients.map((c, i) =>
          c.query(
            `insert into coupon_reservations (id, coupon_id, order_id, user_id, order_amount,
                                              discount_amount, state, reserved_at, expires_at)
             values (gen_random_uuid(), $1, $2, 'holder', 30000, 1000, 'ACTIVE', now(),
                     now() + interval '15 minutes')`,
            [couponId, `order-${i}`],
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason).toMatchObject({
          code: '23505',
          constraint: 'coupon_reservations_one_active',
        });
      }
      // A closed reservation does not count: a new ACTIVE one may follow it.
      await client.query(
        `update coupon_reservations set state = 'RELEASED', closed_at = now() where coupon_id = $1`,
        [couponId],
      );
      await client.query(
        `insert into coupon_reservations (id, coupon_id, order_id, user_id, discount_amount, state,
                                          reserved_at, expires_at)
         values (gen_random_uuid(), $1, 'order-next', 'holder', 1000, 'ACTIVE', now(), now())`,
        [couponId],
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('concurrent reserves of one coupon: exactly one succeeds and records one ACTIVE reservation', async () => {
    const couponId = await issued();
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        applyCouponAction(
          databasePorts(db.orm),
          { type: 'RESERVE', actor: 'holder', couponId, orderId: `order-${i}`, orderAmount: 30000 },
          new Date(),
          { reservationTtlMs: TTL },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.code)).toEqual(
      Array(4).fill('COUPON_NOT_USABLE'),
    );
    const { rows } = await client.query(
      'select state, order_id as "orderId", order_amount::int as "orderAmount" from coupon_reservations where coupon_id = $1',
      [couponId],
    );
    const winner = outcomes.find((o) => o.ok);
    expect(rows).toEqual([
      { state: 'ACTIVE', orderId: winner?.ok && winner.value.coupon.orderId, orderAmount: 30000 },
    ]);
  });

  it('every action closes the reservation it ends: use confirms, release releases, cancel cancels', async () => {
    const act = (couponId: string, action: Record<string, unknown>) =>
      applyCouponAction(
        databasePorts(db.orm),
        { actor: 'holder', couponId, ...action } as never,
        new Date(),
        {
          reservationTtlMs: TTL,
        },
      );
    const states = async (couponId: string) =>
      (
        await client.query(
          `select state, closed_by as "closedBy", reason from coupon_reservations
            where coupon_id = $1 order by reserved_at, id`,
          [couponId],
        )
      ).rows;
    const a = await issued();
    await act(a, { type: 'RESERVE', orderId: 'o-1', orderAmount: 30000 });
    await act(a, { type: 'RELEASE', orderId: 'o-1' });
    await act(a, { type: 'RESERVE', orderId: 'o-2', orderAmount: 30000 });
    await act(a, { type: 'USE', orderId: 'o-2', orderAmount: 30000 });
    expect(await states(a)).toEqual([
      { state: 'RELEASED', closedBy: 'holder', reason: 'order o-1' },
      { state: 'CONFIRMED', closedBy: 'holder', reason: 'order o-2' },
    ]);
    const b = await issued();
    await act(b, { type: 'RESERVE', orderId: 'o-3', orderAmount: 30000 });
    await act(b, { type: 'CANCEL', actor: 'admin-1', reason: 'fraud' });
    expect(await states(b)).toEqual([{ state: 'CANCELLED', closedBy: 'admin-1', reason: 'fraud' }]);
  });
});
