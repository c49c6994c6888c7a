import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPolicyBody } from '../../src/api/schemas/policy.js';
import {
  COUPON_STATUSES,
  type Coupon,
  type CouponPolicy,
  cancelCoupon,
  canTransition,
  computeDiscount,
  expireCoupon,
  type Outcome,
  releaseCoupon,
  releaseStaleReservation,
  reserveCoupon,
  restoreCoupon,
  type Transition,
  useCoupon,
} from '../../src/domain/index.js';
import { at, coupon, DAY, HOUR, policy } from './fixtures.js';

const terms = fc.record({
  discountType: fc.constantFrom('FIXED_AMOUNT' as const, 'PERCENTAGE' as const),
  discountValue: fc.integer({ min: 1, max: 1_000_000 }),
  maxDiscountAmount: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
  minOrderAmount: fc.integer({ min: 0, max: 1_000_000 }),
});
const amount = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('properties of the discount math', () => {
  it('is never negative, never above the order, never above the cap, integer', () => {
    fc.assert(
      fc.property(terms, amount, (t, orderAmount) => {
        const value = Math.min(
          t.discountValue,
          t.discountType === 'PERCENTAGE' ? 100 : t.discountValue,
        );
        const outcome = computeDiscount({ ...t, discountValue: value }, orderAmount);
        if (orderAmount < t.minOrderAmount) {
          expect(outcome).toMatchObject({ ok: false, code: 'MIN_ORDER_AMOUNT_NOT_MET' });
          return;
        }
        expect(outcome.ok).toBe(true);
        const discount = (outcome as { value: number }).value;
        expect(Number.isSafeInteger(discount)).toBe(true);
        expect(discount).toBeGreaterThanOrEqual(0);
        expect(discount).toBeLessThanOrEqual(orderAmount);
        if (t.discountType === 'PERCENTAGE' && t.maxDiscountAmount !== null) {
          expect(discount).toBeLessThanOrEqual(t.maxDiscountAmount);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

type Step = (c: Coupon, p: CouponPolicy, now: Date) => Outcome<Transition>;
const step = fc.oneof(
  fc.record({ orderId: fc.constantFrom('o-1', 'o-2'), orderAmount: amount }).map(
    (o): Step =>
      (c, p, now) =>
        reserveCoupon(c, p, { ...o, now }),
  ),
  fc
    .record({
      orderId: fc.constantFrom('o-1', 'o-2'),
      orderAmount: fc.option(amount, { nil: undefined }),
    })
    .map(
      // An amount may be left out only for a reservation (its discount was fixed then).
      (o): Step =>
        (c, p, now) =>
          useCoupon(c, p, {
            ...o,
            orderAmount: c.status === 'ISSUED' ? (o.orderAmount ?? 0) : o.orderAmount,
            now,
          }),
    ),
  fc.constantFrom('o-1', 'o-2').map(
    (orderId): Step =>
      (c) =>
        releaseCoupon(c, { orderId }),
  ),
  fc.constant<Step>((c) => cancelCoupon(c)),
  fc.constant<Step>((c, _, now) => expireCoupon(c, now)),
  fc.constant<Step>((c, _, now) => restoreCoupon(c, now)),
  fc.constant<Step>((c, _, now) => releaseStaleReservation(c, now, HOUR)),
);

describe('properties of the status machine', () => {
  it('never leaves the machine, whatever actions come in whatever order and time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(step, fc.integer({ min: -DAY, max: 3 * DAY })), { maxLength: 30 }),
        (steps) => {
          let current = coupon('ISSUED');
          for (const [act, offset] of steps) {
            const before = current;
            const outcome = act(current, policy({ minOrderAmount: 0 }), at(offset));
            if (!outcome.ok) {
              expect(current).toBe(before);
              continue;
            }
            const { from, to, coupon: next } = outcome.value;
            expect(from).toBe(before.status);
            expect(next.status).toBe(to);
            expect(canTransition(from, to)).toBe(true);
            expect(COUPON_STATUSES).toContain(to);
            if (to === 'RESERVED') expect(next.orderId).not.toBeNull();
            if (to === 'USED') expect(next.usedAt).not.toBeNull();
            current = next;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('properties of the request schemas', () => {
  it('never throws on any input, and what it accepts is within the contract', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({
            name: fc.string(),
            discountType: fc.constantFrom('FIXED_AMOUNT', 'PERCENTAGE', 'BOGUS'),
            discountValue: fc.oneof(fc.integer(), fc.double(), fc.string()),
            issueType: fc.constantFrom('DIRECT', 'CODE', ''),
            totalQuantity: fc.oneof(fc.integer(), fc.double()),
            validFrom: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
            validUntil: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
          }),
        ),
        (input) => {
          const parsed = createPolicyBody.safeParse(input);
          if (!parsed.success) return;
          expect(Number.isInteger(parsed.data.discountValue)).toBe(true);
          expect(parsed.data.discountValue).toBeGreaterThanOrEqual(1);
          expect(Number.isInteger(parsed.data.totalQuantity)).toBe(true);
          expect(parsed.data.totalQuantity).toBeGreaterThanOrEqual(1);
          expect(parsed.data.validFrom).toBeInstanceOf(Date);
          expect(Number.isNaN(parsed.data.validUntil.getTime())).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
