import { describe, expect, it } from 'vitest';
import {
  canCloseReservation,
  closingState,
  openReservation,
  RESERVATION_STATES,
  reserveCoupon,
} from '../../src/domain/index.js';
import { coupon, NOW, ORDER, policy } from './fixtures.js';

const TTL = 15 * 60_000;

describe('reservation records', () => {
  it('a reserve opens an ACTIVE reservation with the order, amounts and its expiry', () => {
    const reserved = reserveCoupon(coupon('ISSUED'), policy(), {
      orderId: ORDER,
      orderAmount: 42000,
      now: NOW,
    });
    if (!reserved.ok) throw new Error('reserve refused');
    expect(
      openReservation(reserved.value, { id: 'r-1', orderAmount: 42000, now: NOW, ttlMs: TTL }),
    ).toEqual({
      id: 'r-1',
      couponId: 'coupon-1',
      orderId: ORDER,
      userId: 'user-1',
      orderAmount: 42000,
      discountAmount: 4200,
      state: 'ACTIVE',
      reservedAt: NOW,
      expiresAt: new Date(NOW.getTime() + TTL),
      closedAt: null,
      closedBy: null,
      reason: null,
    });
  });

  it('only a change into RESERVED opens one', () => {
    const t = {
      coupon: coupon('USED'),
      from: 'ISSUED',
      to: 'USED',
      event: 'COUPON_USED',
      orderId: ORDER,
      orderAmount: 30000,
      discountAmount: 3000,
      spend: 3000,
    } as const;
    expect(() => openReservation(t, { id: 'r', orderAmount: 1, now: NOW, ttlMs: TTL })).toThrow();
  });

  it('a change out of RESERVED closes it: USED confirms, CANCELLED cancels, ISSUED releases or times out', () => {
    expect(closingState({ from: 'RESERVED', to: 'USED' })).toBe('CONFIRMED');
    expect(closingState({ from: 'RESERVED', to: 'CANCELLED' })).toBe('CANCELLED');
    expect(closingState({ from: 'RESERVED', to: 'ISSUED' })).toBe('RELEASED');
    expect(closingState({ from: 'RESERVED', to: 'ISSUED' }, { timedOut: true })).toBe('TIMED_OUT');
    expect(closingState({ from: 'ISSUED', to: 'USED' })).toBeNull();
    expect(closingState({ from: 'USED', to: 'ISSUED' })).toBeNull();
    expect(closingState({ from: 'ISSUED', to: 'RESERVED' })).toBeNull();
  });

  it('ACTIVE closes once; only one closed unpaid (timed out, released) may still be confirmed', () => {
    const allowed = new Set([
      'ACTIVE>CONFIRMED',
      'ACTIVE>RELEASED',
      'ACTIVE>TIMED_OUT',
      'ACTIVE>CANCELLED',
      'TIMED_OUT>CONFIRMED',
      'RELEASED>CONFIRMED',
    ]);
    for (const from of RESERVATION_STATES) {
      for (const to of RESERVATION_STATES) {
        expect(canCloseReservation(from, to)).toBe(allowed.has(`${from}>${to}`));
      }
    }
  });
});
