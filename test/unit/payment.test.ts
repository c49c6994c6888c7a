import { describe, expect, it } from 'vitest';
import {
  completeLatePayment,
  decidePayment,
  type PaymentEventType,
} from '../../src/domain/index.js';
import { at, coupon, HOUR, NOW, ORDER, policy } from './fixtures.js';

const terms = policy();
const OWNER = 'user-1';
const event = (type: PaymentEventType, userId = OWNER) => ({ type, orderId: ORDER, userId });

describe('decidePayment', () => {
  it('uses, releases and restores the owner’s coupon', () => {
    expect(decidePayment(event('PAYMENT_COMPLETED'), coupon('RESERVED'), terms, NOW)).toMatchObject(
      { kind: 'change', transition: { from: 'RESERVED', to: 'USED' } },
    );
    expect(decidePayment(event('PAYMENT_FAILED'), coupon('RESERVED'), terms, NOW)).toMatchObject({
      kind: 'change',
      transition: { from: 'RESERVED', to: 'ISSUED' },
    });
    expect(decidePayment(event('PAYMENT_CANCELLED'), coupon('USED'), terms, NOW)).toMatchObject({
      kind: 'change',
      transition: { from: 'USED', to: 'ISSUED', event: 'COUPON_RESTORED' },
    });
  });

  it('restores a used coupon on a full refund, giving its discount back; leaves a reservation alone', () => {
    expect(decidePayment(event('PAYMENT_REFUNDED'), coupon('USED'), terms, NOW)).toMatchObject({
      kind: 'change',
      transition: {
        from: 'USED',
        to: 'ISSUED',
        event: 'COUPON_RESTORED',
        orderId: ORDER,
        discountAmount: 3000,
        orderAmount: 30000,
        spend: -3000,
      },
    });
    expect(decidePayment(event('PAYMENT_REFUNDED'), coupon('RESERVED'), terms, NOW)).toBeNull();
  });

  it('refuses every event naming another user: USER_MISMATCH, no change', () => {
    for (const type of ['PAYMENT_COMPLETED', 'PAYMENT_FAILED', 'PAYMENT_CANCELLED'] as const) {
      expect(decidePayment(event(type, 'user-2'), coupon('RESERVED'), terms, NOW)).toEqual({
        kind: 'skip',
        outcome: 'USER_MISMATCH',
      });
    }
    expect(decidePayment(event('PAYMENT_CANCELLED', 'user-2'), coupon('USED'), terms, NOW)).toEqual(
      { kind: 'skip', outcome: 'USER_MISMATCH' },
    );
  });

  it('completes a reservation whose coupon expired while reserved, as a late completion does', () => {
    // Reserved 10 minutes ago, expired a minute ago: the order's discount was granted while valid.
    const expiredWhileReserved = coupon('RESERVED', { expiresAt: at(-60_000) });
    expect(
      decidePayment(event('PAYMENT_COMPLETED'), expiredWhileReserved, terms, NOW),
    ).toMatchObject({
      kind: 'change',
      transition: { from: 'RESERVED', to: 'USED', coupon: { usedAt: NOW, discountAmount: 3000 } },
    });
    // Expired before it was reserved: never a coupon the order could have had.
    const expiredBefore = coupon('RESERVED', { expiresAt: at(-20 * 60_000) });
    expect(decidePayment(event('PAYMENT_COMPLETED'), expiredBefore, terms, NOW)).toEqual({
      kind: 'skip',
      outcome: 'COUPON_EXPIRED',
    });
  });

  it('leaves coupons the event does not concern alone', () => {
    expect(decidePayment(event('PAYMENT_COMPLETED'), coupon('USED'), terms, NOW)).toBeNull();
    expect(decidePayment(event('PAYMENT_FAILED'), coupon('USED'), terms, NOW)).toBeNull();
    expect(
      decidePayment(event('PAYMENT_FAILED', 'user-2'), coupon('ISSUED'), terms, NOW),
    ).toBeNull();
  });

  it('names the status machine’s refusal', () => {
    const other = { ...event('PAYMENT_COMPLETED'), orderId: 'order-2' };
    expect(decidePayment(other, coupon('RESERVED'), terms, NOW)).toEqual({
      kind: 'skip',
      outcome: 'ORDER_MISMATCH',
    });
  });
});

describe('completeLatePayment', () => {
  const reservation = {
    orderId: ORDER,
    reservedAt: at(-HOUR),
    orderAmount: 25000,
    discountAmount: 2500,
  };
  const late = (c: ReturnType<typeof coupon>, e = event('PAYMENT_COMPLETED')) =>
    completeLatePayment(e, c, reservation, NOW);

  it('uses a free coupon for the order with the reservation’s discount', () => {
    expect(late(coupon('ISSUED'))).toEqual({
      kind: 'change',
      transition: {
        coupon: {
          ...coupon('ISSUED'),
          status: 'USED',
          orderId: ORDER,
          orderAmount: 25000,
          reservedAt: reservation.reservedAt,
          usedAt: NOW,
          discountAmount: 2500,
        },
        from: 'ISSUED',
        to: 'USED',
        event: 'COUPON_USED',
        orderId: ORDER,
        orderAmount: 25000,
        discountAmount: 2500,
        spend: 2500,
      },
    });
  });

  it('uses a coupon that expired after it was reserved, not one expired before', () => {
    expect(late(coupon('EXPIRED', { expiresAt: at(-1) }))).toMatchObject({
      kind: 'change',
      transition: { from: 'EXPIRED', to: 'USED' },
    });
    expect(late(coupon('ISSUED', { expiresAt: at(-1) }))).toMatchObject({ kind: 'change' });
    expect(late(coupon('EXPIRED', { expiresAt: at(-2 * HOUR) }))).toEqual({
      kind: 'skip',
      outcome: 'COUPON_EXPIRED',
    });
  });

  it('leaves a coupon another order holds or used: COUPON_TAKEN', () => {
    for (const status of ['RESERVED', 'USED'] as const) {
      expect(late(coupon(status, { orderId: 'order-2' }))).toEqual({
        kind: 'skip',
        outcome: 'COUPON_TAKEN',
      });
    }
    expect(late(coupon('CANCELLED'))).toEqual({ kind: 'skip', outcome: 'COUPON_NOT_USABLE' });
  });

  it('only for a completion of that order, by the coupon’s owner', () => {
    expect(late(coupon('ISSUED'), event('PAYMENT_FAILED'))).toBeNull();
    expect(late(coupon('ISSUED'), { ...event('PAYMENT_COMPLETED'), orderId: 'o-9' })).toBeNull();
    expect(late(coupon('ISSUED'), event('PAYMENT_COMPLETED', 'user-2'))).toEqual({
      kind: 'skip',
      outcome: 'USER_MISMATCH',
    });
  });
});
