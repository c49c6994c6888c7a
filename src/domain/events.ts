import type { Coupon, CouponEventType, Transition } from './coupon.js';

/** The value published on `coupon.events` (key: `couponId`), one per status change. */
export interface CouponEvent {
  eventId: string;
  type: CouponEventType;
  couponId: string;
  policyId: string;
  userId: string;
  orderId: string | null;
  /**
   * The money of a change on an order: the coupon's discount and the order's amount (on a release
   * or a restore, those it had), so a ledger downstream can follow it. Absent from `COUPON_ISSUED`;
   * null on a change of a coupon that holds no order (an expiry, a cancellation of an ISSUED one).
   */
  discountAmount?: number | null;
  orderAmount?: number | null;
  /** ISO-8601 in UTC. */
  occurredAt: string;
}

/** The event of `type` about `coupon`, e.g. `COUPON_ISSUED` for a `newCoupon` result. */
export function couponEvent(
  type: CouponEventType,
  coupon: Pick<Coupon, 'id' | 'policyId' | 'userId' | 'orderId'>,
  { eventId, now }: { eventId: string; now: Date },
): CouponEvent {
  return {
    eventId,
    type,
    couponId: coupon.id,
    policyId: coupon.policyId,
    userId: coupon.userId,
    orderId: coupon.orderId,
    occurredAt: now.toISOString(),
  };
}

/** The outbox event for a status change, carrying the order and the money it concerned. */
export function transitionEvent(
  transition: Pick<Transition, 'coupon' | 'event' | 'orderId' | 'orderAmount' | 'discountAmount'>,
  ids: { eventId: string; now: Date },
): CouponEvent {
  const { occurredAt, ...event } = couponEvent(
    transition.event,
    { ...transition.coupon, orderId: transition.orderId },
    ids,
  );
  return {
    ...event,
    discountAmount: transition.discountAmount,
    orderAmount: transition.orderAmount,
    occurredAt,
  };
}
