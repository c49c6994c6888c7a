import { describe, expect, it } from 'vitest';
import {
  ALLOWED_TRANSITIONS,
  type BusinessCode,
  COUPON_STATUSES,
  type Coupon,
  type CouponEventType,
  type CouponStatus,
  cancelCoupon,
  canTransition,
  expireCoupon,
  type Outcome,
  releaseCoupon,
  releaseStaleReservation,
  reserveCoupon,
  restoreCoupon,
  type Transition,
  useCoupon,
} from '../../src/domain/index.js';
import { at, coupon, DAY, NOW, ORDER, policy } from './fixtures.js';

const TTL = 15 * 60_000;
const terms = policy({
  discountType: 'FIXED_AMOUNT',
  discountValue: 3000,
  maxDiscountAmount: null,
  minOrderAmount: 0,
});

/** Every action, applied the way that would succeed if the status allowed it. */
const ACTIONS: Record<string, (c: Coupon) => Outcome<Transition>> = {
  reserve: (c) => reserveCoupon(c, terms, { orderId: ORDER, orderAmount: 42000, now: NOW }),
  release: (c) => releaseCoupon(c, { orderId: ORDER }),
  releaseStale: (c) => releaseStaleReservation(c, at(TTL), TTL),
  use: (c) => useCoupon(c, terms, { orderId: ORDER, orderAmount: 42000, now: NOW }),
  cancel: (c) => cancelCoupon(c),
  expire: (c) => expireCoupon(c, at(DAY + 1)),
  restore: (c) => restoreCoupon(c, NOW),
};

type Expected = [CouponStatus, CouponEventType] | BusinessCode;

const NU = 'COUPON_NOT_USABLE';
const EXPECTED: Record<string, Record<CouponStatus, Expected>> = {
  reserve: {
    ISSUED: ['RESERVED', 'COUPON_RESERVED'],
    RESERVED: NU,
    USED: NU,
    EXPIRED: 'COUPON_EXPIRED',
    CANCELLED: NU,
  },
  release: {
    ISSUED: NU,
    RESERVED: ['ISSUED', 'COUPON_RELEASED'],
    USED: NU,
    EXPIRED: NU,
    CANCELLED: NU,
  },
  releaseStale: {
    ISSUED: NU,
    RESERVED: ['ISSUED', 'COUPON_RELEASED'],
    USED: NU,
    EXPIRED: NU,
    CANCELLED: NU,
  },
  use: {
    ISSUED: ['USED', 'COUPON_USED'],
    RESERVED: ['USED', 'COUPON_USED'],
    USED: NU,
    EXPIRED: 'COUPON_EXPIRED',
    CANCELLED: NU,
  },
  cancel: {
    ISSUED: ['CANCELLED', 'COUPON_CANCELLED'],
    RESERVED: ['CANCELLED', 'COUPON_CANCELLED'],
    USED: NU,
    EXPIRED: NU,
    CANCELLED: NU,
  },
  expire: {
    ISSUED: ['EXPIRED', 'COUPON_EXPIRED'],
    RESERVED: NU,
    USED: NU,
    EXPIRED: NU,
    CANCELLED: NU,
  },
  restore: {
    ISSUED: NU,
    RESERVED: NU,
    USED: ['ISSUED', 'COUPON_RESTORED'],
    EXPIRED: NU,
    CANCELLED: NU,
  },
};

const CASES = Object.keys(ACTIONS).flatMap((action) =>
  COUPON_STATUSES.map((status) => ({ action, status, expected: EXPECTED[action]?.[status] })),
);

describe('every action × every status', () => {
  it.each(CASES)('$action on $status', ({ action, status, expected }) => {
    const input = coupon(status);
    const out = ACTIONS[action]?.(input);
    if (expected === undefined || out === undefined) throw new Error('table incomplete');
    if (typeof expected === 'string') {
      expect(out).toMatchObject({ ok: false, code: expected });
      return;
    }
    if (!out.ok) throw new Error(`expected success, got ${out.code}`);
    const [to, event] = expected;
    expect(out.value).toMatchObject({ from: status, to, event });
    expect(out.value.coupon.status).toBe(to);
    expect(out.value.coupon).not.toBe(input);
    expect(canTransition(status, to)).toBe(true);
  });

  it('only ever produces allowed transitions, whatever the time or order', () => {
    const nows = [at(-DAY), NOW, at(DAY), at(DAY + 1), at(10 * DAY)];
    const orders = [ORDER, 'order-2'];
    const amounts = [0, 19999, 42000];
    const rich = policy({ minOrderAmount: 20000 });
    let successes = 0;
    for (const status of COUPON_STATUSES) {
      const input = coupon(status);
      for (const now of nows) {
        const outcomes: Outcome<Transition>[] = [
          cancelCoupon(input),
          expireCoupon(input, now),
          restoreCoupon(input, now),
          releaseStaleReservation(input, now, TTL),
        ];
        for (const orderId of orders) {
          outcomes.push(releaseCoupon(input, { orderId }));
          for (const orderAmount of amounts) {
            outcomes.push(reserveCoupon(input, rich, { orderId, orderAmount, now }));
            outcomes.push(useCoupon(input, rich, { orderId, orderAmount, now }));
          }
        }
        for (const out of outcomes) {
          if (!out.ok) continue;
          successes++;
          expect(out.value.from).toBe(status);
          expect(canTransition(out.value.from, out.value.to)).toBe(true);
          expect(out.value.coupon.status).toBe(out.value.to);
        }
      }
    }
    expect(successes).toBeGreaterThan(0);
  });
});

describe('ALLOWED_TRANSITIONS', () => {
  const ALLOWED: [CouponStatus, CouponStatus][] = [
    ['ISSUED', 'RESERVED'],
    ['ISSUED', 'USED'],
    ['ISSUED', 'EXPIRED'],
    ['ISSUED', 'CANCELLED'],
    ['RESERVED', 'ISSUED'],
    ['RESERVED', 'USED'],
    ['RESERVED', 'CANCELLED'],
    ['USED', 'ISSUED'],
    ['USED', 'EXPIRED'],
  ];
  const pairs = COUPON_STATUSES.flatMap((from) => COUPON_STATUSES.map((to) => ({ from, to })));

  it.each(pairs)('$from → $to', ({ from, to }) => {
    const allowed = ALLOWED.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(allowed);
    expect(ALLOWED_TRANSITIONS[from].includes(to)).toBe(allowed);
  });

  it('has no way out of EXPIRED or CANCELLED and no self-loops', () => {
    expect(ALLOWED_TRANSITIONS.EXPIRED).toEqual([]);
    expect(ALLOWED_TRANSITIONS.CANCELLED).toEqual([]);
    for (const s of COUPON_STATUSES) expect(canTransition(s, s)).toBe(false);
  });
});
