import {
  type Coupon,
  type CouponStatus,
  describeChange,
  releaseCoupon,
  restoreCoupon,
  type Transition,
  useCoupon,
} from './coupon.js';
import type { DiscountTerms } from './discount.js';
import type { BusinessCode } from './errors.js';

/** The payment service's event types, as consumed from the payment topic. */
export const PAYMENT_EVENT_TYPES = [
  'PAYMENT_COMPLETED',
  'PAYMENT_FAILED',
  'PAYMENT_CANCELLED',
  'PAYMENT_REFUNDED',
] as const;
/** One of {@link PAYMENT_EVENT_TYPES}. */
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

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
 * releases it, CANCELLED releases it or restores a use, a full REFUNDED restores a use (a partial
 * refund is not brought here). Only the coupon's owner pays with it: an event naming another user
 * changes nothing, whatever the order says.
 */
export function decidePayment(
  event: PaymentFacts,
  coupon: Coupon,
  policy: DiscountTerms,
  now: Date,
): PaymentDecision {
  const applies =
    event.type === 'PAYMENT_REFUNDED'
      ? coupon.status === 'USED'
      : coupon.status === 'RESERVED' ||
        (coupon.status === 'USED' && event.type === 'PAYMENT_CANCELLED');
  if (!applies) return null;
  if (coupon.userId !== event.userId) return { kind: 'skip', outcome: 'USER_MISMATCH' };
  const { orderId } = event;
  const outcome =
    event.type === 'PAYMENT_COMPLETED'
      ? completeReservation(coupon, policy, orderId, now)
      : coupon.status === 'RESERVED'
        ? releaseCoupon(coupon, { orderId })
        : restoreCoupon(coupon, now);
  return outcome.ok
    ? { kind: 'change', transition: outcome.value }
    : { kind: 'skip', outcome: outcome.code };
}

/**
 * A payment completing a reservation is judged as of the reservation, when the order's discount
 * was granted — a coupon that expired while reserved is used, as a late completion uses it — and
 * the coupon is used now.
 */
function completeReservation(
  coupon: Coupon,
  policy: DiscountTerms,
  orderId: string,
  now: Date,
): ReturnType<typeof useCoupon> {
  const outcome = useCoupon(coupon, policy, { orderId, now: coupon.reservedAt ?? now });
  if (!outcome.ok) return outcome;
  return {
    ...outcome,
    value: { ...outcome.value, coupon: { ...outcome.value.coupon, usedAt: now } },
  };
}

/**
 * An order's reservation of a coupon that closed without being paid (timed out, released by its
 * owner, or released by a failed payment): the last such one of an order is what a payment
 * completing afterwards settles.
 */
export interface ClosedReservation {
  orderId: string;
  reservedAt: Date;
  orderAmount: number | null;
  discountAmount: number;
}

/**
 * The statuses a late payment may use a coupon from: still free (ISSUED), or EXPIRED, which a
 * coupon that was valid when reserved can only have become because time passed since. This is the
 * one change outside the status machine's rule that EXPIRED is final: the order was placed, and
 * its discount granted, while the coupon was valid.
 */
export const LATE_PAYMENT_FROM: readonly CouponStatus[] = ['ISSUED', 'EXPIRED'];

/**
 * A PAYMENT_COMPLETED for an order whose reservation closed unpaid (a time-out, a release, a failed
 * card before a retried one): the discount was granted, so the coupon becomes USED for that order,
 * with the discount of the reservation, when it is still free. When another order holds or used it
 * meanwhile nothing changes (`COUPON_TAKEN`, for reconciliation).
 */
export function completeLatePayment(
  event: PaymentFacts,
  coupon: Coupon,
  reservation: ClosedReservation,
  now: Date,
): PaymentDecision {
  if (event.type !== 'PAYMENT_COMPLETED' || reservation.orderId !== event.orderId) return null;
  if (coupon.userId !== event.userId) return { kind: 'skip', outcome: 'USER_MISMATCH' };
  if (coupon.status === 'RESERVED' || coupon.status === 'USED') {
    return { kind: 'skip', outcome: 'COUPON_TAKEN' };
  }
  if (!LATE_PAYMENT_FROM.includes(coupon.status)) {
    return { kind: 'skip', outcome: 'COUPON_NOT_USABLE' };
  }
  // Expired before it was even reserved: not a coupon this order could have had.
  if (coupon.expiresAt.getTime() < reservation.reservedAt.getTime()) {
    return { kind: 'skip', outcome: 'COUPON_EXPIRED' };
  }
  const used: Coupon = {
    ...coupon,
    status: 'USED',
    orderId: event.orderId,
    orderAmount: reservation.orderAmount,
    reservedAt: reservation.reservedAt,
    usedAt: now,
    discountAmount: reservation.discountAmount,
  };
  return { kind: 'change', transition: describeChange(coupon, used, 'COUPON_USED') };
}
