import { describe, expect, it } from 'vitest';
import {
  COUPON_EVENT_TYPES,
  cancelCoupon,
  expireCoupon,
  isExpired,
  isReservationStale,
  type Outcome,
  releaseCoupon,
  releaseStaleReservation,
  reserveCoupon,
  restoreCoupon,
  type Transition,
  useCoupon,
  validateCoupon,
} from '../../src/domain/index.js';
import { at, coupon, DAY, NOW, ORDER, policy } from './fixtures.js';

// 10%, capped at 5000, from 20000.
const terms = policy();
const order = { orderId: ORDER, orderAmount: 42000, now: NOW };

function value(out: Outcome<Transition>): Transition {
  if (!out.ok) throw new Error(`expected success, got ${out.code}: ${out.message}`);
  return out.value;
}

describe('isExpired', () => {
  const c = coupon('ISSUED', { expiresAt: NOW });
  it('treats expiresAt as the last valid instant', () => {
    expect(isExpired(c, at(-1))).toBe(false);
    expect(isExpired(c, NOW)).toBe(false);
    expect(isExpired(c, at(1))).toBe(true);
  });
  it('is true once marked EXPIRED, whatever the clock says', () => {
    expect(isExpired(coupon('EXPIRED'), at(-DAY))).toBe(true);
  });
});

describe('reserveCoupon', () => {
  it('holds the coupon for the order with its discount, leaving the input untouched', () => {
    const input = coupon('ISSUED');
    const t = value(reserveCoupon(input, terms, order));
    expect(t.coupon).toEqual({
      ...input,
      status: 'RESERVED',
      orderId: ORDER,
      orderAmount: 42000,
      reservedAt: NOW,
      discountAmount: 4200,
    });
    expect(t).toMatchObject({
      orderId: ORDER,
      orderAmount: 42000,
      discountAmount: 4200,
      spend: 4200,
    });
    expect(input).toEqual(coupon('ISSUED'));
  });

  it('cuts the discount to what is left of the order', () => {
    expect(value(reserveCoupon(coupon('ISSUED'), terms, { ...order, room: 1000 }))).toMatchObject({
      discountAmount: 1000,
      spend: 1000,
    });
    expect(
      value(reserveCoupon(coupon('ISSUED'), terms, { ...order, room: 0 })).coupon,
    ).toMatchObject({
      discountAmount: 0,
    });
  });

  it('allows reserving at the very instant of expiry, not after', () => {
    const c = coupon('ISSUED', { expiresAt: NOW });
    expect(reserveCoupon(c, terms, order).ok).toBe(true);
    expect(reserveCoupon(c, terms, { ...order, now: at(1) })).toMatchObject({
      code: 'COUPON_EXPIRED',
    });
  });

  it('refuses an order below the minimum', () => {
    expect(reserveCoupon(coupon(), terms, { ...order, orderAmount: 19999 })).toMatchObject({
      ok: false,
      code: 'MIN_ORDER_AMOUNT_NOT_MET',
    });
  });

  it('refuses a second reservation, even for the same order', () => {
    expect(reserveCoupon(coupon('RESERVED'), terms, order)).toMatchObject({
      code: 'COUPON_NOT_USABLE',
    });
    expect(reserveCoupon(coupon('RESERVED'), terms, { ...order, orderId: 'other' })).toMatchObject({
      code: 'COUPON_NOT_USABLE',
    });
  });

  it('reports a spent coupon as not usable even once past its expiry', () => {
    const later = { ...order, now: at(2 * DAY) };
    expect(reserveCoupon(coupon('USED'), terms, later)).toMatchObject({
      code: 'COUPON_NOT_USABLE',
    });
    expect(reserveCoupon(coupon('CANCELLED'), terms, later)).toMatchObject({
      code: 'COUPON_NOT_USABLE',
    });
    expect(reserveCoupon(coupon('RESERVED'), terms, later)).toMatchObject({
      code: 'COUPON_EXPIRED',
    });
  });
});

describe('releaseCoupon', () => {
  it('returns the coupon to ISSUED and clears the reservation', () => {
    const t = value(releaseCoupon(coupon('RESERVED'), { orderId: ORDER }));
    expect(t.coupon).toEqual({ ...coupon('ISSUED') });
    expect(t.orderId).toBe(ORDER);
  });

  it('refuses another order', () => {
    expect(releaseCoupon(coupon('RESERVED'), { orderId: 'order-2' })).toMatchObject({
      code: 'ORDER_MISMATCH',
    });
  });

  it('works after expiry, so a lapsed reservation can still be given back', () => {
    expect(releaseCoupon(coupon('RESERVED', { expiresAt: at(-DAY) }), { orderId: ORDER }).ok).toBe(
      true,
    );
  });
});

describe('stale reservations', () => {
  const ttl = 15 * 60_000;
  const held = coupon('RESERVED', { reservedAt: NOW });

  it('become stale once held for the TTL', () => {
    expect(isReservationStale(held, at(ttl - 1), ttl)).toBe(false);
    expect(isReservationStale(held, at(ttl), ttl)).toBe(true);
    expect(isReservationStale(coupon('ISSUED'), at(DAY), ttl)).toBe(false);
    expect(isReservationStale(coupon('RESERVED', { reservedAt: null }), at(DAY), ttl)).toBe(false);
  });

  it('are released by the scheduler, fresh ones are not', () => {
    expect(releaseStaleReservation(held, at(ttl - 1), ttl)).toMatchObject({
      code: 'COUPON_NOT_USABLE',
    });
    const t = value(releaseStaleReservation(held, at(ttl), ttl));
    expect(t).toMatchObject({
      from: 'RESERVED',
      to: 'ISSUED',
      event: 'COUPON_RELEASED',
      orderId: ORDER,
    });
    expect(t.coupon).toMatchObject({ orderId: null, reservedAt: null, discountAmount: null });
  });
});

describe('useCoupon', () => {
  it('spends an ISSUED coupon directly', () => {
    const t = value(useCoupon(coupon('ISSUED'), terms, order));
    expect(t.coupon).toEqual({
      ...coupon('ISSUED'),
      status: 'USED',
      usedAt: NOW,
      orderId: ORDER,
      orderAmount: 42000,
      discountAmount: 4200,
    });
    expect(t.from).toBe('ISSUED');
  });

  it('spends a reservation for the same order with the discount fixed when it joined the order', () => {
    const t = value(useCoupon(coupon('RESERVED'), terms, { ...order, orderAmount: 30000 }));
    expect(t.coupon).toMatchObject({
      status: 'USED',
      usedAt: NOW,
      orderId: ORDER,
      discountAmount: 3000,
    });
    expect(t.spend).toBe(0);
    expect(t.coupon.reservedAt).toEqual(coupon('RESERVED').reservedAt);
  });

  it('keeps the reserved discount when no amount is given', () => {
    const t = value(useCoupon(coupon('RESERVED'), terms, { orderId: ORDER, now: NOW }));
    expect(t.coupon.discountAmount).toBe(3000);
  });

  it('needs the amount for a coupon that is not reserved', () => {
    expect(() => useCoupon(coupon('ISSUED'), terms, { orderId: ORDER, now: NOW })).toThrow(
      TypeError,
    );
  });

  it('refuses a reservation held by another order', () => {
    expect(useCoupon(coupon('RESERVED'), terms, { ...order, orderId: 'order-2' })).toMatchObject({
      code: 'ORDER_MISMATCH',
    });
  });

  it('refuses a coupon past its expiry, reserved or not', () => {
    const late = { ...order, now: at(DAY + 1) };
    expect(useCoupon(coupon('ISSUED'), terms, late)).toMatchObject({ code: 'COUPON_EXPIRED' });
    expect(useCoupon(coupon('RESERVED'), terms, late)).toMatchObject({ code: 'COUPON_EXPIRED' });
    expect(useCoupon(coupon('EXPIRED'), terms, order)).toMatchObject({ code: 'COUPON_EXPIRED' });
  });

  it('refuses an order below the minimum', () => {
    expect(useCoupon(coupon('ISSUED'), terms, { ...order, orderAmount: 100 })).toMatchObject({
      code: 'MIN_ORDER_AMOUNT_NOT_MET',
    });
  });
});

describe('validateCoupon', () => {
  it.each([
    ['an ISSUED coupon', coupon('ISSUED'), undefined, 42000, { ok: true, value: 4200 }],
    [
      'an ISSUED coupon with an order id',
      coupon('ISSUED'),
      'any',
      42000,
      { ok: true, value: 4200 },
    ],
    [
      'a reservation for the same order',
      coupon('RESERVED'),
      ORDER,
      30000,
      { ok: true, value: 3000 },
    ],
    [
      'a reservation for another order',
      coupon('RESERVED'),
      'order-2',
      42000,
      { code: 'ORDER_MISMATCH' },
    ],
    [
      'a reservation without an order id',
      coupon('RESERVED'),
      undefined,
      42000,
      { code: 'ORDER_MISMATCH' },
    ],
    [
      'an order below the minimum',
      coupon('ISSUED'),
      undefined,
      19999,
      { code: 'MIN_ORDER_AMOUNT_NOT_MET' },
    ],
    ['a used coupon', coupon('USED'), ORDER, 42000, { code: 'COUPON_NOT_USABLE' }],
    ['a cancelled coupon', coupon('CANCELLED'), undefined, 42000, { code: 'COUPON_NOT_USABLE' }],
    ['an EXPIRED coupon', coupon('EXPIRED'), undefined, 42000, { code: 'COUPON_EXPIRED' }],
    [
      'a coupon past expiresAt',
      coupon('ISSUED', { expiresAt: at(-1) }),
      undefined,
      42000,
      { code: 'COUPON_EXPIRED' },
    ],
  ])('%s', (_name, c, orderId, orderAmount, expected) => {
    expect(validateCoupon(c, terms, { orderAmount, orderId, now: NOW })).toMatchObject(expected);
  });

  it('agrees with useCoupon', () => {
    const c = coupon('ISSUED');
    const dry = validateCoupon(c, terms, { orderAmount: 77777, orderId: ORDER, now: NOW });
    const real = value(useCoupon(c, terms, { orderId: ORDER, orderAmount: 77777, now: NOW }));
    expect(dry).toEqual({ ok: true, value: real.coupon.discountAmount });
  });
});

describe('cancelCoupon', () => {
  it('cancels a reservation, keeping its order as a record', () => {
    const t = value(cancelCoupon(coupon('RESERVED')));
    expect(t.coupon).toEqual({ ...coupon('RESERVED'), status: 'CANCELLED' });
    expect(t.orderId).toBe(ORDER);
  });

  it('cancels an ISSUED coupon even past its expiry', () => {
    expect(cancelCoupon(coupon('ISSUED', { expiresAt: at(-DAY) })).ok).toBe(true);
  });
});

describe('expireCoupon', () => {
  const c = coupon('ISSUED', { expiresAt: NOW });
  it('expires only after expiresAt', () => {
    expect(expireCoupon(c, NOW)).toMatchObject({ code: 'COUPON_NOT_USABLE' });
    const t = value(expireCoupon(c, at(1)));
    expect(t.coupon).toEqual({ ...c, status: 'EXPIRED' });
    expect(t.orderId).toBeNull();
  });
});

describe('restoreCoupon', () => {
  it('brings a used coupon back to ISSUED and clears the use', () => {
    const t = value(restoreCoupon(coupon('USED'), NOW));
    expect(t).toMatchObject({
      from: 'USED',
      to: 'ISSUED',
      event: 'COUPON_RESTORED',
      orderId: ORDER,
    });
    expect(t.coupon).toEqual({ ...coupon('ISSUED') });
  });

  it('lands on EXPIRED when the coupon ran out meanwhile', () => {
    const used = coupon('USED', { expiresAt: NOW });
    expect(value(restoreCoupon(used, NOW)).to).toBe('ISSUED');
    const t = value(restoreCoupon(used, at(1)));
    expect(t).toMatchObject({ to: 'EXPIRED', event: 'COUPON_RESTORED' });
    expect(t.coupon).toMatchObject({
      status: 'EXPIRED',
      usedAt: null,
      orderId: null,
      discountAmount: null,
    });
  });
});

describe('events', () => {
  it('names one event type per kind of change', () => {
    expect(COUPON_EVENT_TYPES).toEqual([
      'COUPON_ISSUED',
      'COUPON_RESERVED',
      'COUPON_RELEASED',
      'COUPON_USED',
      'COUPON_RESTORED',
      'COUPON_EXPIRED',
      'COUPON_CANCELLED',
    ]);
  });
});
