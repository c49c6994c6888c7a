import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireCoupons } from '../../src/app/expire-coupons.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { ADMIN, createStack, type Stack, settledJob, user } from '../support/stack.js';

type As = [string, 'admin' | 'user'];

/**
 * Orders and money through the API and the workers on real PostgreSQL and Redis: stacking, one
 * user and one amount per order, discounts cut to the order, the order's view, validation's
 * payable amount, spend budgets and the money on coupon events.
 */
describe('orders and money', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  /** A policy of FIXED_AMOUNT `value` off, no minimum, 100 coupons, up to 10 per user. */
  const fixedPolicy = (value: number, overrides: Record<string, unknown> = {}) =>
    stack.createPolicy({
      discountType: 'FIXED_AMOUNT',
      discountValue: value,
      maxDiscountAmount: null,
      minOrderAmount: 0,
      perUserLimit: 10,
      ...overrides,
    });

  async function couponOf(policyId: string, owner: string): Promise<string> {
    const res = await stack.request('POST', '/v1/issuances', ADMIN, { policyId, userId: owner });
    const job = await settledJob(stack, res.body.jobId);
    expect(job.state).toBe('completed');
    return job.result.coupon.id as string;
  }

  /** Runs an action as `as`; the settled job (completed or failed). */
  async function act(couponId: string, action: string, body: unknown, as: As = ADMIN) {
    const res = await stack.request('POST', `/v1/coupons/${couponId}/${action}`, as, body);
    expect(res.status).toBe(202);
    return settledJob(stack, res.body.jobId, as);
  }

  const failedWith = (job: { state: string; error?: { code: string } }) =>
    job.state === 'failed' ? job.error?.code : `completed`;

  it('an exclusive coupon is the order’s only one; stackable ones combine, one per policy', async () => {
    const exclusive = await fixedPolicy(1000);
    const stackA = await fixedPolicy(2000, { stacking: 'STACKABLE' });
    const stackB = await fixedPolicy(3000, { stacking: 'STACKABLE' });
    const owner = 'stacker';
    const [ex, a1, a2, b1] = [
      await couponOf(exclusive, owner),
      await couponOf(stackA, owner),
      await couponOf(stackA, owner),
      await couponOf(stackB, owner),
    ];
    const body = { orderId: 'order-ex', orderAmount: 30000 };
    expect(failedWith(await act(ex, 'reserve', body))).toBe('completed');
    expect(failedWith(await act(a1, 'reserve', body))).toBe('STACKING_NOT_ALLOWED');
    expect(failedWith(await act(a1, 'use', body))).toBe('STACKING_NOT_ALLOWED');

    const stacked = { orderId: 'order-stack', orderAmount: 30000 };
    expect(failedWith(await act(a1, 'reserve', stacked))).toBe('completed');
    expect(failedWith(await act(b1, 'reserve', stacked))).toBe('completed');
    expect(failedWith(await act(a2, 'reserve', stacked))).toBe('STACKING_NOT_ALLOWED');
    const released = await act(ex, 'release', { orderId: 'order-ex' });
    expect(released.state).toBe('completed');
    expect(failedWith(await act(ex, 'reserve', stacked))).toBe('STACKING_NOT_ALLOWED');
  });

  it('one order, one user and one amount: ORDER_MISMATCH otherwise', async () => {
    const policyId = await fixedPolicy(1000, { stacking: 'STACKABLE' });
    const other = await fixedPolicy(1000, { stacking: 'STACKABLE' });
    const mine = await couponOf(policyId, 'order-owner');
    const mineToo = await couponOf(other, 'order-owner');
    const theirs = await couponOf(other, 'order-intruder');
    expect(
      failedWith(await act(mine, 'reserve', { orderId: 'order-one', orderAmount: 30000 })),
    ).toBe('completed');
    expect(
      failedWith(await act(theirs, 'reserve', { orderId: 'order-one', orderAmount: 30000 })),
    ).toBe('ORDER_MISMATCH');
    expect(
      failedWith(await act(mineToo, 'reserve', { orderId: 'order-one', orderAmount: 31000 })),
    ).toBe('ORDER_MISMATCH');
    expect(failedWith(await act(mine, 'use', { orderId: 'order-one', orderAmount: 29000 }))).toBe(
      'ORDER_MISMATCH',
    );
  });

  it('never takes more off than the order: two 30,000 coupons on a 30,000 order take 30,000', async () => {
    const a = await fixedPolicy(30000, { stacking: 'STACKABLE' });
    const b = await fixedPolicy(30000, { stacking: 'STACKABLE' });
    const owner = 'big-spender';
    const first = await couponOf(a, owner);
    const second = await couponOf(b, owner);
    const body = { orderId: 'order-cut', orderAmount: 30000 };
    const one = await act(first, 'reserve', body, user(owner));
    const two = await act(second, 'use', body, user(owner));
    expect(one.result.coupon.discountAmount).toBe(30000);
    expect(two.result.coupon.discountAmount).toBe(0);

    const view = await stack.request('GET', '/v1/orders/order-cut', user(owner));
    expect(view.status).toBe(200);
    expect(view.body).toEqual({
      orderId: 'order-cut',
      userId: owner,
      orderAmount: 30000,
      coupons: [
        { couponId: first, policyId: a, status: 'RESERVED', discountAmount: 30000 },
        { couponId: second, policyId: b, status: 'USED', discountAmount: 0 },
      ],
      totalDiscountAmount: 30000,
      payableAmount: 0,
      payments: [],
    });
    expect((await stack.request('GET', '/v1/orders/order-cut', user('someone'))).status).toBe(403);
    expect((await stack.request('GET', '/v1/orders/order-cut', ADMIN)).status).toBe(200);
    expect((await stack.request('GET', '/v1/orders/order-nobody', ADMIN)).status).toBe(404);
    const hostile = await stack.request('GET', '/v1/orders/bad%00id', ADMIN);
    expect(hostile.status).toBe(400);
  });

  it('validate answers the payable amount with the order’s other coupons, and their refusals', async () => {
    const a = await fixedPolicy(5000, { stacking: 'STACKABLE' });
    const b = await fixedPolicy(4000, { stacking: 'STACKABLE' });
    const ex = await fixedPolicy(1000);
    const owner = 'validator';
    const first = await couponOf(a, owner);
    const second = await couponOf(b, owner);
    const exclusive = await couponOf(ex, owner);
    const validate = (couponId: string, body: unknown) =>
      stack.request('POST', `/v1/coupons/${couponId}/validate`, user(owner), body);

    expect((await validate(second, { orderAmount: 20000 })).body).toEqual({
      valid: true,
      discountAmount: 4000,
      payableAmount: 16000,
    });
    await act(first, 'reserve', { orderId: 'order-val', orderAmount: 20000 }, user(owner));
    expect((await validate(second, { orderAmount: 20000, orderId: 'order-val' })).body).toEqual({
      valid: true,
      discountAmount: 4000,
      payableAmount: 11000,
    });
    expect((await validate(first, { orderAmount: 20000, orderId: 'order-val' })).body).toEqual({
      valid: true,
      discountAmount: 5000,
      payableAmount: 15000,
    });
    expect((await validate(exclusive, { orderAmount: 20000, orderId: 'order-val' })).body).toEqual({
      valid: false,
      reason: 'STACKING_NOT_ALLOWED',
    });
    expect((await validate(second, { orderAmount: 25000, orderId: 'order-val' })).body).toEqual({
      valid: false,
      reason: 'ORDER_MISMATCH',
    });
  });

  it('a budget caps reserved and used discounts; releases and time-outs give back', async () => {
    const policyId = await fixedPolicy(4000, { budget: 10000, perUserLimit: 1 });
    expect((await stack.request('GET', `/v1/policies/${policyId}`, ADMIN)).body).toMatchObject({
      stacking: 'EXCLUSIVE',
      budget: 10000,
    });
    const coupons: string[] = [];
    for (let i = 0; i < 4; i++) coupons.push(await couponOf(policyId, `budget-${i}`));
    const reserve = (i: number) =>
      act(coupons[i] as string, 'reserve', { orderId: `order-budget-${i}`, orderAmount: 30000 });
    expect(failedWith(await reserve(0))).toBe('completed');
    expect(failedWith(await reserve(1))).toBe('completed');
    expect(failedWith(await reserve(2))).toBe('BUDGET_EXHAUSTED');
    const dryRun = await stack.request('POST', `/v1/coupons/${coupons[2]}/validate`, ADMIN, {
      orderAmount: 30000,
    });
    expect(dryRun.body).toEqual({ valid: false, reason: 'BUDGET_EXHAUSTED' });
    const statistics = async () =>
      (await stack.request('GET', `/v1/policies/${policyId}/statistics`, ADMIN)).body;
    expect(await statistics()).toMatchObject({
      budget: 10000,
      budgetSpent: 8000,
      budgetRemaining: 2000,
    });

    expect((await act(coupons[0] as string, 'release', { orderId: 'order-budget-0' })).state).toBe(
      'completed',
    );
    expect(failedWith(await reserve(2))).toBe('completed');
    expect(failedWith(await reserve(3))).toBe('BUDGET_EXHAUSTED');

    const ttlMs = stack.env.RESERVATION_TTL_MS;
    await expireCoupons(databasePorts(stack.db.orm), {
      now: new Date(Date.now() + ttlMs + 1000),
      ttlMs,
    });
    expect(await statistics()).toMatchObject({ budgetSpent: 0, budgetRemaining: 10000 });
    expect(failedWith(await reserve(3))).toBe('completed');
    const [row] = await stack.db.orm.em
      .getConnection()
      .execute<{ spent: string }[]>(
        'select budget_spent as spent from coupon_policies where id = ?',
        [policyId],
      );
    expect(Number(row?.spent)).toBe(4000);
  });

  it('coupon events carry the discount and the order amount', async () => {
    const policyId = await fixedPolicy(2500);
    const couponId = await couponOf(policyId, 'ledger');
    await act(couponId, 'reserve', { orderId: 'order-ledger', orderAmount: 12000 });
    await act(couponId, 'release', { orderId: 'order-ledger' });
    const events = await stack.db.orm.em
      .getConnection()
      .execute<{ payload: Record<string, unknown> }[]>(
        'select payload from outbox where message_key = ? order by id',
        [couponId],
      );
    expect(events.map((e) => e.payload)).toMatchObject([
      { type: 'COUPON_ISSUED' },
      {
        type: 'COUPON_RESERVED',
        orderId: 'order-ledger',
        discountAmount: 2500,
        orderAmount: 12000,
      },
      {
        type: 'COUPON_RELEASED',
        orderId: 'order-ledger',
        discountAmount: 2500,
        orderAmount: 12000,
      },
    ]);
  });
});
