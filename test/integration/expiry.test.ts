import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startService } from '../support/process.js';
import { ADMIN, createStack, policyBody, type Stack, user } from '../support/stack.js';

describe('scheduled expiry with two scheduler processes', () => {
  let stack: Stack;
  const schedulers: ServiceProcess[] = [];
  beforeAll(async () => {
    stack = await createStack({ EXPIRY_INTERVAL_MS: '300', RESERVATION_TTL_MS: '60000' });
    stack.startWorkers();
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop('SIGTERM')));
    await stack.close();
  });

  it('expires past-due coupons and releases stale reservations exactly once each', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 300, perUserLimit: 300, minOrderAmount: 0 }),
    );
    const accepted = await Promise.all(
      Array.from({ length: 250 }, () =>
        stack.request('POST', '/v1/issuances', user('exp'), { policyId: policy.id }),
      ),
    );
    expect(accepted.every((res) => res.status === 202)).toBe(true);
    const db = stack.db.orm.em.getConnection();
    const count = async (sql: string) =>
      (await db.execute<{ n: number }[]>(sql, [policy.id]))[0]?.n ?? 0;
    for (;;) {
      if ((await count('select count(*)::int as n from coupons where policy_id = ?')) === 250)
        break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // 200 coupons are past due; 30 are reserved long ago; 20 stay valid.
    await db.execute(
      `update coupons set expires_at = now() - interval '1 minute'
        where id in (select id from coupons where policy_id = ? order by id limit 200)`,
      [policy.id],
    );
    await db.execute(
      `update coupons set status = 'RESERVED', order_id = 'old-' || id, reserved_at = now() - interval '1 hour',
              discount_amount = 0
        where id in (select id from coupons where policy_id = ? order by id desc limit 30)`,
      [policy.id],
    );

    for (let i = 0; i < 2; i++) {
      schedulers.push(
        await startService({ ...stack.envVars, ROLES: 'scheduler', LOG_LEVEL: 'info' }),
      );
    }
    for (;;) {
      const expired = await count(
        "select count(*)::int as n from coupons where policy_id = ? and status = 'EXPIRED'",
      );
      const reserved = await count(
        "select count(*)::int as n from coupons where policy_id = ? and status = 'RESERVED'",
      );
      if (expired === 200 && reserved === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const perCoupon = await db.execute<{ n: number; actor: string }[]>(
      `select count(*)::int as n, min(h.actor) as actor from coupon_history h join coupons c on c.id = h.coupon_id
        where c.policy_id = ? and h.to_status = 'EXPIRED' group by h.coupon_id`,
      [policy.id],
    );
    expect(perCoupon).toHaveLength(200);
    expect(new Set(perCoupon.map((row) => `${row.n} ${row.actor}`))).toEqual(
      new Set(['1 system:expiry']),
    );
    expect(
      await count(
        "select count(*)::int as n from coupons where policy_id = ? and status = 'ISSUED'",
      ),
    ).toBe(50);
    const events = await db.execute<{ type: string; n: number }[]>(
      `select o.event_type as type, count(*)::int as n from outbox o join coupons c on c.id::text = o.message_key
        where c.policy_id = ? group by 1 order by 1`,
      [policy.id],
    );
    expect(events).toEqual([
      { type: 'COUPON_EXPIRED', n: 200 },
      { type: 'COUPON_ISSUED', n: 250 },
      { type: 'COUPON_RELEASED', n: 30 },
    ]);
    const stats = await stack.request('GET', `/v1/policies/${policy.id}/statistics`, ADMIN);
    expect(stats.body).toMatchObject({ issuedCount: 250, expiredCount: 200, reservedCount: 0 });
  });
});
