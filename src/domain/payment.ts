import { type Coupon, releaseCoupon, restoreCoupon, type Transition, useCoupon } from './coupon.js';
import type { DiscountTerms } from './discount.js';
import type { BusinessCode } from './errors.js';

/** The payment service's event types, as consumed from the payment topic. */
export type PaymentEventType = 'PAYMENT_COMPLETED' | 'PAYMENT_FAILED' | 'PAYMENT_CANCELLED';

/** What the rules need of a payment event. */
export interface PaymentFacts {
  type: PaymentEventType;
  orderId: string;
  /** The user who paid: only their own coupons may change. */
  userId: string;
}

/**
 * Why an event changed nothing on a coupon it names, recorded as the event's outcome:
 * `USER_MISMATCH` — the coupon belongs to someone else; `COUPON_TAKEN` — a late payment found the
 * coupon held or used by another order; a business code — the status machine refused.
 */
export type PaymentSkip = 'USER_MISMATCH' | 'COUPON_TAKEN' | BusinessCode;

/** A change to write, a reason to record instead, or `null` when the event does not concern it. */
export type PaymentDecision =
  | { kind: 'change'; transition: Transition }
  | { kind: 'skip'; outcome: PaymentSkip }
  | null;

/**
 * What a payment event does to a coupon held for its order: COMPLETED uses a reservation, FAILED
 * releases it, CANCELLED releases it or restores a use. Only the coupon's owner pays with it: an
 * event naming another user changes nothing, whatever the order says (any user may put any order
 * id on a reservation).
 */
export function decidePayment(
  event: PaymentFacts,
  coupon: Coupon,
  policy: DiscountTerms,
  now: Date,
): PaymentDecision {
  const applies =
    coupon.status === 'RESERVED' ||
    (coupon.status === 'USED' && event.type === 'PAYMENT_CANCELLED');
  if (!applies) return null;
  if (coupon.userId !== event.userId) return { kind: 'skip', outcome: 'USER_MISMATCH' };
  const { orderId } = event;
  const outcome =
    event.type === 'PAYMENT_COMPLETED'
      ? useCoupon(coupon, policy, { orderId, now })
      : coupon.status === 'RESERVED'
        ? releaseCoupon(coupon, { orderId })
        : restoreCoupon(coupon, now);
  return outcome.ok
    ? { kind: 'change', transition: outcome.value }
    : { kind: 'skip', outcome: outcome.code };
}
