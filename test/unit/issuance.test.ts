import { describe, expect, it } from 'vitest';
import {
  checkIssuance,
  couponEvent,
  newCoupon,
  releaseCoupon,
  transitionEvent,
} from '../../src/domain/index.js';
import { at, coupon, DAY, HOUR, NOW, ORDER, policy } from './fixtures.js';

describe('checkIssuance', () => {
  it.each([
    ['an open policy', {}, 0, null],
    ['the last coupon of the quota', { totalQuantity: 5, issuedCount: 4 }, 0, null],
    ['a user one below the limit', { perUserLimit: 3 }, 2, null],
    ['an inactive policy', { status: 'INACTIVE' as const }, 0, 'POLICY_NOT_ACTIVE'],
    ['a policy not started', { validFrom: at(HOUR) }, 0, 'POLICY_NOT_ACTIVE'],
    ['a policy that has ended', { validUntil: at(-1) }, 0, 'POLICY_NOT_ACTIVE'],
    ['an exhausted quota', { totalQuantity: 5, issuedCount: 5 }, 0, 'QUOTA_EXHAUSTED'],
    ['an overshot quota', { totalQuantity: 5, issuedCount: 6 }, 0, 'QUOTA_EXHAUSTED'],
    ['a user at the limit', { perUserLimit: 1 }, 1, 'PER_USER_LIMIT_REACHED'],
    [
      'inactive and exhausted: the policy first',
      { status: 'INACTIVE' as const, issuedCount: 1000 },
      1,
      'POLICY_NOT_ACTIVE',
    ],
    ['exhausted and at the limit: the quota first', { issuedCount: 1000 }, 1, 'QUOTA_EXHAUSTED'],
  ])('%s', (_name, overrides, userIssuedCount, code) => {
    const result = checkIssuance(policy(overrides), { userIssuedCount, now: NOW });
    expect(result?.code ?? null).toBe(code);
  });
});

describe('newCoupon', () => {
  it('issues an ISSUED coupon expiring per the policy', () => {
    const p = policy({ validUntil: at(30 * DAY), validDaysAfterIssue: 7 });
    expect(newCoupon(p, { id: 'c', userId: 'u', now: NOW })).toEqual({
      id: 'c',
      policyId: p.id,
      userId: 'u',
      status: 'ISSUED',
      issuedAt: NOW,
      expiresAt: at(7 * DAY),
      usedAt: null,
      reservedAt: null,
      orderId: null,
      orderAmount: null,
      discountAmount: null,
    });
  });
});

describe('coupon events', () => {
  it('describes an issuance in the Kafka value shape', () => {
    const c = newCoupon(policy(), { id: 'c', userId: 'u', now: NOW });
    expect(couponEvent('COUPON_ISSUED', c, { eventId: 'e', now: NOW })).toEqual({
      eventId: 'e',
      type: 'COUPON_ISSUED',
      couponId: 'c',
      policyId: 'policy-1',
      userId: 'u',
      orderId: null,
      occurredAt: '2026-11-28T12:00:00.000Z',
    });
  });

  it('keeps the order on a release although the coupon no longer has it', () => {
    const out = releaseCoupon(coupon('RESERVED'), { orderId: ORDER });
    if (!out.ok) throw new Error(out.code);
    expect(transitionEvent(out.value, { eventId: 'e', now: NOW })).toMatchObject({
      type: 'COUPON_RELEASED',
      couponId: 'coupon-1',
      orderId: ORDER,
    });
  });
});
