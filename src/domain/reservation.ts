import type { Transition } from './coupon.js';

/** A reservation's life: ACTIVE while it holds the coupon, then closed once, for one reason. */
export const RESERVATION_STATES = [
  'ACTIVE',
  'CONFIRMED',
  'RELEASED',
  'TIMED_OUT',
  'CANCELLED',
] as const;
/** One of {@link RESERVATION_STATES}. */
export type ReservationState = (typeof RESERVATION_STATES)[number];

/**
 * A coupon held for an order: the record of every reservation, kept after it closes. A coupon
 * holds at most one ACTIVE reservation.
 */
export interface CouponReservation {
  id: string;
  couponId: string;
  orderId: string;
  userId: string;
  /** The order amount the reservation was made for; null for reservations recorded before it was kept. */
  orderAmount: number | null;
  discountAmount: number;
  state: ReservationState;
  reservedAt: Date;
  /** When the reservation times out unless paid, released or extended. */
  expiresAt: Date;
  closedAt: Date | null;
  /** The actor that closed it: a user id, `system:payment` or `system:expiry`. */
  closedBy: string | null;
  reason: string | null;
}

/**
 * ACTIVE closes once. A TIMED_OUT or RELEASED reservation may still be CONFIRMED: a payment that
 * completes after the reservation closed unpaid settles the order it was made for.
 */
export const RESERVATION_TRANSITIONS: Record<ReservationState, readonly ReservationState[]> = {
  ACTIVE: ['CONFIRMED', 'RELEASED', 'TIMED_OUT', 'CANCELLED'],
  TIMED_OUT: ['CONFIRMED'],
  CONFIRMED: [],
  RELEASED: ['CONFIRMED'],
  CANCELLED: [],
};

/** True when a reservation may go `from → to`. */
export function canCloseReservation(from: ReservationState, to: ReservationState): boolean {
  return RESERVATION_TRANSITIONS[from].includes(to);
}

/**
 * The reservation a `→ RESERVED` change opens, held until `now + ttlMs`.
 *
 * @throws Error when the change is not a reservation.
 */
export function openReservation(
  transition: Transition,
  { id, orderAmount, now, ttlMs }: { id: string; orderAmount: number; now: Date; ttlMs: number },
): CouponReservation {
  const { coupon } = transition;
  if (transition.to !== 'RESERVED' || coupon.orderId === null) {
    throw new Error(`a ${transition.from} -> ${transition.to} change opens no reservation`);
  }
  return {
    id,
    couponId: coupon.id,
    orderId: coupon.orderId,
    userId: coupon.userId,
    orderAmount,
    discountAmount: coupon.discountAmount ?? 0,
    state: 'ACTIVE',
    reservedAt: now,
    expiresAt: new Date(now.getTime() + ttlMs),
    closedAt: null,
    closedBy: null,
    reason: null,
  };
}

/**
 * The state a coupon's status change leaves its ACTIVE reservation in, or `null` when the change
 * does not end a reservation. Leaving RESERVED: `USED` confirms it, `CANCELLED` cancels it, back to
 * `ISSUED` releases it — or times it out when the scheduler's timeout did it.
 */
export function closingState(
  transition: Pick<Transition, 'from' | 'to'>,
  { timedOut = false }: { timedOut?: boolean } = {},
): ReservationState | null {
  if (transition.from !== 'RESERVED') return null;
  switch (transition.to) {
    case 'USED':
      return 'CONFIRMED';
    case 'CANCELLED':
      return 'CANCELLED';
    case 'ISSUED':
      return timedOut ? 'TIMED_OUT' : 'RELEASED';
    default:
      return null;
  }
}
