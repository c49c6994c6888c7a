import { computeDiscount, type DiscountTerms } from './discount.js';
import { type Outcome, ok, type Rejection, reject } from './errors.js';

/** A coupon's lifecycle; EXPIRED and CANCELLED are terminal. */
export const COUPON_STATUSES = ['ISSUED', 'RESERVED', 'USED', 'EXPIRED', 'CANCELLED'] as const;
/** One of {@link COUPON_STATUSES}. */
export type CouponStatus = (typeof COUPON_STATUSES)[number];

/** Money amounts are integers in the currency's smallest unit. */
export interface Coupon {
  id: string;
  policyId: string;
  userId: string;
  status: CouponStatus;
  issuedAt: Date;
  /** The last instant at which the coupon may still be reserved or used. */
  expiresAt: Date;
  usedAt: Date | null;
  reservedAt: Date | null;
  orderId: string | null;
  /** The amount of the order the coupon is reserved for or used on. */
  orderAmount: number | null;
  discountAmount: number | null;
}

/** The event types published on `coupon.events`, one per status change. */
export const COUPON_EVENT_TYPES = [
  'COUPON_ISSUED',
  'COUPON_RESERVED',
  'COUPON_RELEASED',
  'COUPON_USED',
  'COUPON_RESTORED',
  'COUPON_EXPIRED',
  'COUPON_CANCELLED',
] as const;
/** One of {@link COUPON_EVENT_TYPES}. */
export type CouponEventType = (typeof COUPON_EVENT_TYPES)[number];

/** A status change: the coupon after it, and the event to record in the outbox. */
export interface Transition {
  coupon: Coupon;
  from: CouponStatus;
  to: CouponStatus;
  event: CouponEventType;
  /** The order the change concerns; kept for releases and restores, which clear it on the coupon. */
  orderId: string | null;
  /** The order's amount and the coupon's discount the change concerns (kept as `orderId` is). */
  orderAmount: number | null;
  discountAmount: number | null;
  /**
   * What the change adds to its policy's spend (the discounts of RESERVED and USED coupons):
   * positive when it takes a discount, negative when it gives one back.
   */
  spend: number;
}

const HOLDS_DISCOUNT: readonly CouponStatus[] = ['RESERVED', 'USED'];

/** The discount a coupon in this state counts against its policy's budget. */
export function spendOf(coupon: Pick<Coupon, 'status' | 'discountAmount'>): number {
  return HOLDS_DISCOUNT.includes(coupon.status) ? (coupon.discountAmount ?? 0) : 0;
}

/**
 * The status machine. A stale reservation is released (RESERVED → ISSUED) rather than expired, so
 * the scheduler's expiry only ever starts from ISSUED. USED goes back through a payment
 * cancellation: to ISSUED, or straight to EXPIRED when the coupon ran out meanwhile.
 */
export const ALLOWED_TRANSITIONS: Record<CouponStatus, readonly CouponStatus[]> = {
  ISSUED: ['RESERVED', 'USED', 'EXPIRED', 'CANCELLED'],
  RESERVED: ['ISSUED', 'USED', 'CANCELLED'],
  USED: ['ISSUED', 'EXPIRED'],
  EXPIRED: [],
  CANCELLED: [],
};

/** True when the status machine allows `from → to`. */
export function canTransition(from: CouponStatus, to: CouponStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** True once the coupon is marked EXPIRED or `now` is past `expiresAt` (whatever its status). */
export function isExpired(coupon: Pick<Coupon, 'status' | 'expiresAt'>, now: Date): boolean {
  return coupon.status === 'EXPIRED' || now.getTime() > coupon.expiresAt.getTime();
}

/** What an order brings to a reservation or a use. */
export interface OrderContext {
  orderId: string;
  orderAmount: number;
  now: Date;
  /**
   * What is left of the order after the discounts of its other coupons: the discount is cut to it.
   * @defaultValue `orderAmount`
   */
  room?: number | undefined;
}

/**
 * Reserves an ISSUED, unexpired coupon for an order and fixes its discount. A coupon holds one
 * reservation at a time, so a RESERVED coupon is refused even for the same order.
 */
export function reserveCoupon(
  coupon: Coupon,
  policy: DiscountTerms,
  { orderId, orderAmount, now, room }: OrderContext,
): Outcome<Transition> {
  const unusable = spendableProblem(coupon, now);
  if (unusable) return unusable;
  if (coupon.status !== 'ISSUED') {
    return reject('COUPON_NOT_USABLE', 'The coupon is already reserved for an order.');
  }
  const discount = computeDiscount(policy, orderAmount);
  if (!discount.ok) return discount;
  return transition(coupon, 'RESERVED', 'COUPON_RESERVED', {
    orderId,
    orderAmount,
    reservedAt: now,
    discountAmount: cut(discount.value, room),
  });
}

// A coupon back in ISSUED carries no trace of the order it was held for.
const RELEASED_FIELDS = {
  orderId: null,
  orderAmount: null,
  reservedAt: null,
  discountAmount: null,
} as const;

/** Gives a reservation back (RESERVED → ISSUED); only the order that holds it may. */
export function releaseCoupon(
  coupon: Coupon,
  { orderId }: { orderId: string },
): Outcome<Transition> {
  if (coupon.status !== 'RESERVED') return notUsable(coupon);
  if (coupon.orderId !== orderId) return reject('ORDER_MISMATCH');
  return transition(coupon, 'ISSUED', 'COUPON_RELEASED', RELEASED_FIELDS);
}

/**
 * Releases a reservation held for at least `ttlMs`, for the scheduler (it has no order of its own
 * to match). Expiry of the coupon itself is left to a later {@link expireCoupon}.
 */
export function releaseStaleReservation(
  coupon: Coupon,
  now: Date,
  ttlMs: number,
): Outcome<Transition> {
  if (coupon.status !== 'RESERVED') return notUsable(coupon);
  if (!isReservationStale(coupon, now, ttlMs)) {
    return reject('COUPON_NOT_USABLE', 'The reservation has not timed out yet.');
  }
  return transition(coupon, 'ISSUED', 'COUPON_RELEASED', RELEASED_FIELDS);
}

/** True when a RESERVED coupon has been held for `ttlMs` or longer. */
export function isReservationStale(
  coupon: Pick<Coupon, 'status' | 'reservedAt'>,
  now: Date,
  ttlMs: number,
): boolean {
  if (coupon.status !== 'RESERVED' || coupon.reservedAt === null) return false;
  return now.getTime() - coupon.reservedAt.getTime() >= ttlMs;
}

/** Like {@link OrderContext}, but the amount may be left out when using a reservation. */
export interface UseContext {
  orderId: string;
  /**
   * When omitted for a RESERVED coupon, the discount fixed at reservation is kept (a payment event
   * may carry the amount paid rather than the order amount). Required for an ISSUED coupon.
   */
  orderAmount?: number | undefined;
  now: Date;
  /** As for {@link OrderContext}: the discount of an ISSUED coupon is cut to it. */
  room?: number | undefined;
}

/**
 * Spends the coupon on an order: ISSUED → USED directly, or RESERVED → USED by the order holding
 * the reservation. The coupon must not be past `expiresAt`.
 *
 * @throws TypeError when `orderAmount` is omitted for a coupon that is not reserved.
 */
export function useCoupon(
  coupon: Coupon,
  policy: DiscountTerms,
  ctx: UseContext,
): Outcome<Transition> {
  const discount = useDiscount(coupon, policy, ctx);
  if (!discount.ok) return discount;
  return transition(coupon, 'USED', 'COUPON_USED', {
    orderId: ctx.orderId,
    orderAmount: ctx.orderAmount ?? coupon.orderAmount,
    usedAt: ctx.now,
    discountAmount: discount.value,
  });
}

/**
 * The dry run behind `POST /coupons/:id/validate`: the discount {@link useCoupon} would grant, by
 * the same rules. Without `orderId`, a RESERVED coupon counts as held by another order.
 */
export function validateCoupon(
  coupon: Coupon,
  policy: DiscountTerms,
  ctx: { orderAmount: number; orderId?: string | undefined; now: Date; room?: number | undefined },
): Outcome<number> {
  return useDiscount(coupon, policy, ctx);
}

/** Withdraws an ISSUED or RESERVED coupon (an admin action); the order fields stay as a record. */
export function cancelCoupon(coupon: Coupon): Outcome<Transition> {
  if (coupon.status !== 'ISSUED' && coupon.status !== 'RESERVED') return notUsable(coupon);
  return transition(coupon, 'CANCELLED', 'COUPON_CANCELLED', {});
}

/** Marks an ISSUED coupon past `expiresAt` as EXPIRED (the scheduler's job). */
export function expireCoupon(coupon: Coupon, now: Date): Outcome<Transition> {
  if (coupon.status !== 'ISSUED') return notUsable(coupon);
  if (!isExpired(coupon, now))
    return reject('COUPON_NOT_USABLE', 'The coupon has not expired yet.');
  return transition(coupon, 'EXPIRED', 'COUPON_EXPIRED', {});
}

/**
 * Undoes a use after the payment was cancelled: back to ISSUED, or to EXPIRED when `expiresAt`
 * has passed meanwhile, so a refund never revives an expired coupon.
 */
export function restoreCoupon(coupon: Coupon, now: Date): Outcome<Transition> {
  if (coupon.status !== 'USED') return notUsable(coupon);
  const to = now.getTime() > coupon.expiresAt.getTime() ? 'EXPIRED' : 'ISSUED';
  return transition(coupon, to, 'COUPON_RESTORED', { ...RELEASED_FIELDS, usedAt: null });
}

/**
 * A RESERVED coupon keeps the discount fixed when it joined its order (the order's amount cannot
 * change while it holds coupons); an ISSUED one is computed now and cut to what the order has left.
 */
function useDiscount(
  coupon: Coupon,
  policy: DiscountTerms,
  {
    orderId,
    orderAmount,
    now,
    room,
  }: Omit<UseContext, 'orderId'> & { orderId?: string | undefined },
): Outcome<number> {
  const unusable = spendableProblem(coupon, now);
  if (unusable) return unusable;
  if (coupon.status === 'RESERVED') {
    if (orderId === undefined || coupon.orderId !== orderId) return reject('ORDER_MISMATCH');
    return ok(coupon.discountAmount ?? 0);
  }
  if (orderAmount === undefined) {
    throw new TypeError('orderAmount is required to use a coupon that is not reserved');
  }
  const discount = computeDiscount(policy, orderAmount);
  return discount.ok ? ok(cut(discount.value, room)) : discount;
}

/** A discount cut to what is left of its order. */
function cut(discount: number, room: number | undefined): number {
  return room === undefined ? discount : Math.min(discount, Math.max(0, room));
}

// USED/CANCELLED come before expiry: "already used" explains more than "expired" for a spent coupon.
function spendableProblem(coupon: Coupon, now: Date): Rejection | null {
  if (coupon.status === 'USED' || coupon.status === 'CANCELLED') return notUsable(coupon);
  if (isExpired(coupon, now)) return reject('COUPON_EXPIRED');
  return null;
}

function notUsable(coupon: Coupon): Rejection {
  return reject(
    'COUPON_NOT_USABLE',
    `The coupon is ${coupon.status} and does not allow this action.`,
  );
}

function transition(
  coupon: Coupon,
  to: CouponStatus,
  event: CouponEventType,
  changes: Partial<Omit<Coupon, 'status'>>,
): Outcome<Transition> {
  // Unreachable while the guards above are right; fail loudly instead of persisting a bad state.
  if (!canTransition(coupon.status, to)) {
    throw new Error(`illegal coupon transition ${coupon.status} -> ${to}`);
  }
  const next: Coupon = { ...coupon, ...changes, status: to };
  return ok(describeChange(coupon, next, event));
}

/** The {@link Transition} from `before` to `after`: the event, and the order and money it concerns. */
export function describeChange(before: Coupon, after: Coupon, event: CouponEventType): Transition {
  return {
    coupon: after,
    from: before.status,
    to: after.status,
    event,
    orderId: after.orderId ?? before.orderId,
    orderAmount: after.orderAmount ?? before.orderAmount,
    discountAmount: after.discountAmount ?? before.discountAmount,
    spend: spendOf(after) - spendOf(before),
  };
}
