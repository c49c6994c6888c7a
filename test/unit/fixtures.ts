import type { Coupon, CouponPolicy, CouponStatus, NewPolicyInput } from '../../src/domain/index.js';

export const NOW = new Date('2026-11-28T12:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function at(offsetMs: number): Date {
  return new Date(NOW.getTime() + offsetMs);
}

export function policy(overrides: Partial<CouponPolicy> = {}): CouponPolicy {
  return {
    id: 'policy-1',
    name: 'Black Friday 10%',
    description: null,
    discountType: 'PERCENTAGE',
    discountValue: 10,
    maxDiscountAmount: 5000,
    minOrderAmount: 20000,
    issueType: 'DIRECT',
    totalQuantity: 1000,
    perUserLimit: 1,
    validFrom: at(-DAY),
    validUntil: at(2 * DAY),
    validDaysAfterIssue: null,
    status: 'ACTIVE',
    issuedCount: 0,
    stacking: 'EXCLUSIVE',
    budget: null,
    publicCode: null,
    createdAt: at(-2 * DAY),
    ...overrides,
  };
}

export function policyInput(overrides: Partial<NewPolicyInput> = {}): NewPolicyInput {
  return {
    name: 'Black Friday 10%',
    discountType: 'PERCENTAGE',
    discountValue: 10,
    maxDiscountAmount: 5000,
    minOrderAmount: 20000,
    issueType: 'DIRECT',
    totalQuantity: 1000,
    perUserLimit: 1,
    validFrom: at(-DAY),
    validUntil: at(2 * DAY),
    validDaysAfterIssue: 7,
    ...overrides,
  };
}

export const ORDER = 'order-1';

/** A frozen coupon in `status` with the fields that status implies, expiring a day after NOW. */
export function coupon(status: CouponStatus = 'ISSUED', overrides: Partial<Coupon> = {}): Coupon {
  const base: Coupon = {
    id: 'coupon-1',
    policyId: 'policy-1',
    userId: 'user-1',
    status,
    issuedAt: at(-HOUR),
    expiresAt: at(DAY),
    usedAt: null,
    reservedAt: null,
    orderId: null,
    orderAmount: null,
    discountAmount: null,
  };
  const held = { orderId: ORDER, orderAmount: 30000, discountAmount: 3000 };
  if (status === 'RESERVED') Object.assign(base, { ...held, reservedAt: at(-10 * 60_000) });
  if (status === 'USED') Object.assign(base, { ...held, usedAt: at(-60_000) });
  return Object.freeze({ ...base, ...overrides });
}
