import { describe, expect, it } from 'vitest';
import { decidePayment, type PaymentEventType } from '../../src/domain/index.js';
import { coupon, NOW, ORDER, policy } from './fixtures.js';

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
