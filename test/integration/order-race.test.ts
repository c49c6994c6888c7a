import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertIssuedCoupon } from '../support/fixtures-sql.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { ADMIN, createStack, drained, type Stack } from '../support/stack.js';

/**
 * The order and budget rules hold in PostgreSQL, not in the queue's order: many reserves racing
 * through two worker processes end exactly where the rules allow.
 */
describe('orders and budgets across worker processes', () => {
  let stack: Stack;
  let client: pg.Client;
  const running: ServiceProcess[] = [];
  beforeAll(async () => {
    stack = await createStack();
    client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((worker) => worker.stop('SIGTERM')));
  });
  afterAll(async () => {
    await client.end();
    await stack.close();
  });

  async function twoWorkers() {
    const env = { ...stack.envVars, ROLES: 'worker', LOG_LEVEL: 'info' };
    running.push(...(await Promise.all([startService(env), startService(env)])));
  }

  const fixed = (value: number, overrides: Record<string, unknown> = {}) =>
    stack.createPolicy({
      discountType: 'FIXED_AMOUNT',
      discountValue: value,
      maxDiscountAmount: null,
      minOrderAmount: 0,
      perUserLimit: 100,
      ...overrides,
    });

  /** Sends every reserve at once, waits for the queue to settle; the failed jobs' codes. */
  async function reserveAll(reserves: { couponId: string; orderId: string }[]) {
    const before = await stack.queues.usage.getJobCounts('completed', 'failed');
    const answers = await Promise.all(
      reserves.map(({ couponId, orderId }) =>
        stack.request('POST', `/v1/coupons/${couponId}/reserve`, ADMIN, {
          orderId,
          orderAmount: 30000,
        }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(202);
    const done = (before.completed ?? 0) + (before.failed ?? 0) + reserves.length;
    await drained(stack.queues.usage, done, 60_000);
    const ids = new Set(answers.map((a) => a.body.jobId as string));
    return (await stack.queues.usage.getFailed(0, -1))
      .filter((job) => ids.has(job.id as string))
      .map((job) => job.failedReason.split(':')[0]);
  }

  async function orderCoupons(orderId: string) {
    const { rows } = await client.query(
      `select policy_id as "policyId", discount_amount::int as discount from coupons
        where order_id = $1 and status = 'RESERVED'`,
      [orderId],
    );
    return rows as { policyId: string; discount: number }[];
  }

  it('twenty reserves of exclusive coupons for one order: exactly one holds it', async () => {
    const policyId = await fixed(1000);
    const couponIds = [];
    for (let slot = 1; slot <= 20; slot++) {
      couponIds.push(await insertIssuedCoupon(client, { policyId, userId: 'racer', slot }));
    }
    await twoWorkers();
    const failed = await reserveAll(couponIds.map((couponId) => ({ couponId, orderId: 'o-race' })));
    expect(await orderCoupons('o-race')).toHaveLength(1);
    expect(failed).toHaveLength(19);
    expect(new Set(failed)).toEqual(new Set(['STACKING_NOT_ALLOWED']));
  });

  it('twenty reserves of stackable coupons of ten policies: one per policy, never more off than the order', async () => {
    const policies = [];
    for (let i = 0; i < 10; i++) policies.push(await fixed(4000, { stacking: 'STACKABLE' }));
    const couponIds = [];
    for (const policyId of policies) {
      for (let slot = 1; slot <= 2; slot++) {
        couponIds.push(await insertIssuedCoupon(client, { policyId, userId: 'stacker', slot }));
      }
    }
    await twoWorkers();
    const failed = await reserveAll(
      couponIds.map((couponId) => ({ couponId, orderId: 'o-stack' })),
    );
    const held = await orderCoupons('o-stack');
    expect(new Set(held.map((c) => c.policyId)).size).toBe(10);
    expect(held).toHaveLength(10);
    expect(held.reduce((sum, c) => sum + c.discount, 0)).toBe(30000);
    // The order's view lists them in the order they joined it: each cut to what the ones before left.
    const view = await stack.request('GET', '/v1/orders/o-stack', ADMIN);
    expect(view.body.coupons.map((c: { discountAmount: number }) => c.discountAmount)).toEqual([
      4000, 4000, 4000, 4000, 4000, 4000, 4000, 2000, 0, 0,
    ]);
    expect(view.body).toMatchObject({ totalDiscountAmount: 30000, payableAmount: 0 });
    expect(failed).toHaveLength(10);
    expect(new Set(failed)).toEqual(new Set(['STACKING_NOT_ALLOWED']));
  });

  it('thirty users racing for a budget of ten discounts: exactly ten reserved, the budget spent exactly', async () => {
    const policyId = await fixed(1000, { budget: 10000, perUserLimit: 1 });
    const couponIds = [];
    for (let i = 0; i < 30; i++) {
      couponIds.push(
        await insertIssuedCoupon(client, { policyId, userId: `budget-${i}`, slot: 1 }),
      );
    }
    await twoWorkers();
    const failed = await reserveAll(
      couponIds.map((couponId, i) => ({ couponId, orderId: `o-budget-${i}` })),
    );
    expect(failed).toHaveLength(20);
    expect(new Set(failed)).toEqual(new Set(['BUDGET_EXHAUSTED']));
    const { rows } = await client.query(
      `select (select count(*)::int from coupons where policy_id = $1 and status = 'RESERVED') as reserved,
              (select budget_spent::int from coupon_policies where id = $1) as spent`,
      [policyId],
    );
    expect(rows[0]).toEqual({ reserved: 10, spent: 10000 });
    const stats = await stack.request('GET', `/v1/policies/${policyId}/statistics`, ADMIN);
    expect(stats.body).toMatchObject({ budget: 10000, budgetSpent: 10000, budgetRemaining: 0 });
  });
});
