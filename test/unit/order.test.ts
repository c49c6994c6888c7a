import { describe, expect, it } from 'vitest';
import {
  admitToOrder,
  checkBudget,
  joinOrder,
  type OrderCoupon,
  payableAmount,
  refund,
  reserveCoupon,
} from '../../src/domain/index.js';
import { coupon, NOW, ORDER, policy } from './fixtures.js';

const order = { userId: 'user-1', orderAmount: 30000 };
const held = (overrides: Partial<OrderCoupon> = {}): OrderCoupon => ({
  couponId: 'held-1',
  policyId: 'policy-held',
  stacking: 'STACKABLE',
  discountAmount: 10000,
  ...overrides,
});
const candidate = (stacking: 'EXCLUSIVE' | 'STACKABLE', overrides = {}) => ({
  couponId: 'coupon-1',
  policyId: 'policy-1',
  userId: 'user-1',
  stacking,
  ...overrides,
});

describe('admitToOrder', () => {
  it('admits any coupon to an order that holds none, with the whole amount as room', () => {
    expect(admitToOrder(null, [], candidate('EXCLUSIVE'), 30000)).toEqual({
      ok: true,
      value: { room: 30000 },
    });
  });

  it('combines stackable coupons of different policies, the room cut by the discounts before', () => {
    expect(admitToOrder(order, [held()], candidate('STACKABLE'), 30000)).toEqual({
      ok: true,
      value: { room: 20000 },
    });
  });

  it('refuses an exclusive coupon beside another, anything beside an exclusive one, two of one policy', () => {
    const refused = [
      admitToOrder(order, [held()], candidate('EXCLUSIVE'), 30000),
      admitToOrder(order, [held({ stacking: 'EXCLUSIVE' })], candidate('STACKABLE'), 30000),
      admitToOrder(order, [held({ policyId: 'policy-1' })], candidate('STACKABLE'), 30000),
    ];
    for (const outcome of refused) expect(outcome).toMatchObject({ code: 'STACKING_NOT_ALLOWED' });
  });

  it('judges a coupon the order already holds against the others only', () => {
    const self = held({ couponId: 'coupon-1', policyId: 'policy-1', stacking: 'EXCLUSIVE' });
    expect(admitToOrder(order, [self], candidate('EXCLUSIVE'), 30000)).toEqual({
      ok: true,
      value: { room: 30000 },
    });
  });

  it('keeps one user and, while it holds coupons, one amount per order', () => {
    expect(
      admitToOrder(order, [], candidate('STACKABLE', { userId: 'user-2' }), 30000),
    ).toMatchObject({ code: 'ORDER_MISMATCH' });
    expect(admitToOrder(order, [held()], candidate('STACKABLE'), 31000)).toMatchObject({
      code: 'ORDER_MISMATCH',
    });
    expect(admitToOrder(order, [], candidate('STACKABLE'), 31000).ok).toBe(true);
  });
});

describe('joinOrder', () => {
  it('never lets an order take more off than its amount: two fixed 30,000 coupons on 30,000', () => {
    const fixed = policy({
      discountType: 'FIXED_AMOUNT',
      discountValue: 30000,
      maxDiscountAmount: null,
      minOrderAmount: 0,
      stacking: 'STACKABLE',
    });
    const reserve = (c: ReturnType<typeof coupon>, before: OrderCoupon[]) =>
      joinOrder(
        { order: before.length ? order : null, held: before },
        { coupon: c, policy: fixed },
        30000,
        (room) => reserveCoupon(c, fixed, { orderId: ORDER, orderAmount: 30000, now: NOW, room }),
      );
    const first = reserve(coupon('ISSUED'), []);
    const second = reserve(coupon('ISSUED', { id: 'coupon-2', policyId: 'policy-2' }), [
      held({ couponId: 'coupon-1', policyId: 'policy-1', discountAmount: 30000 }),
    ]);
    expect(first).toMatchObject({ ok: true, value: { discountAmount: 30000 } });
    expect(second).toMatchObject({ ok: true, value: { discountAmount: 0, spend: 0 } });
  });
});

describe('payableAmount', () => {
  it('is the amount less the discounts, never below 0', () => {
    expect(payableAmount(30000, [{ discountAmount: 3000 }, { discountAmount: 2000 }])).toBe(25000);
    expect(payableAmount(3000, [{ discountAmount: 5000 }])).toBe(0);
  });
});

describe('checkBudget', () => {
  it('passes without a budget, up to the budget exactly, and any give-back', () => {
    expect(checkBudget({ budget: null }, 1e9, 5000)).toBeNull();
    expect(checkBudget({ budget: 10000 }, 5000, 5000)).toBeNull();
    expect(checkBudget({ budget: 10000 }, 20000, -5000)).toBeNull();
  });

  it('refuses a discount past the budget', () => {
    expect(checkBudget({ budget: 10000 }, 5001, 5000)).toMatchObject({ code: 'BUDGET_EXHAUSTED' });
  });
});

describe('refund', () => {
  it('adds refunds up; the one reaching the paid amount is full', () => {
    const first = refund({ paidAmount: 27000, refundedAmount: 0 }, 10000, 27000);
    expect(first).toEqual({ refundedAmount: 10000, full: false });
    expect(refund({ paidAmount: 27000, refundedAmount: 10000 }, 17000, 27000)).toEqual({
      refundedAmount: 27000,
      full: true,
    });
  });

  it('measures an order with no completed payment on record against its payable amount', () => {
    expect(refund({ paidAmount: 0, refundedAmount: 0 }, 27000, 27000).full).toBe(true);
    expect(refund({ paidAmount: 0, refundedAmount: 0 }, 100, 27000).full).toBe(false);
  });
});
