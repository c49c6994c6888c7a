import { type Outcome, ok, type Rejection, reject } from './errors.js';

/**
 * How a policy's coupons combine on one order: an EXCLUSIVE coupon is the order's only coupon;
 * STACKABLE coupons combine with each other, one per policy.
 */
export const STACKING_MODES = ['EXCLUSIVE', 'STACKABLE'] as const;
/** One of {@link STACKING_MODES}. */
export type Stacking = (typeof STACKING_MODES)[number];
/** @defaultValue 'EXCLUSIVE' */
export const DEFAULT_STACKING: Stacking = 'EXCLUSIVE';

/**
 * An order as the service knows it: the `orderId` that reservations and uses name, the one user
 * its coupons belong to, the amount they were stated for, and the money its payment events moved.
 */
export interface Order {
  orderId: string;
  userId: string;
  orderAmount: number;
  /** What `PAYMENT_COMPLETED` events took, added up. */
  paidAmount: number;
  /** What `PAYMENT_REFUNDED` events gave back, added up. */
  refundedAmount: number;
}

/** A coupon an order holds: an ACTIVE reservation or a use, in the order it joined. */
export interface OrderCoupon {
  couponId: string;
  policyId: string;
  stacking: Stacking;
  discountAmount: number;
}

/** A coupon asking to join an order (a reserve or a use). */
export interface OrderCandidate {
  couponId: string;
  policyId: string;
  userId: string;
  stacking: Stacking;
}

/**
 * Whether `candidate` may join the order for `orderAmount`, and how much of the order is left for
 * its discount (the order's amount less the discounts of the coupons before it).
 *
 * One order, one user: a coupon of another user → `ORDER_MISMATCH`. One amount: while the order
 * holds coupons, a different `orderAmount` → `ORDER_MISMATCH` (an order that holds none may restate
 * it). An EXCLUSIVE coupon is alone; STACKABLE ones combine, one per policy →
 * `STACKING_NOT_ALLOWED`. A coupon the order already holds (a reserved one being used) is judged
 * against the others.
 *
 * @param order - null when the order has never held a coupon.
 * @param held - the coupons the order holds now.
 */
export function admitToOrder(
  order: Pick<Order, 'userId' | 'orderAmount'> | null,
  held: readonly OrderCoupon[],
  candidate: OrderCandidate,
  orderAmount: number,
): Outcome<{ room: number }> {
  if (order && order.userId !== candidate.userId) {
    return reject('ORDER_MISMATCH', 'The order belongs to another user.');
  }
  const others = held.filter((c) => c.couponId !== candidate.couponId);
  if (held.length > 0 && order && order.orderAmount !== orderAmount) {
    return reject(
      'ORDER_MISMATCH',
      `The order's coupons were reserved for an order amount of ${order.orderAmount}.`,
    );
  }
  const stacking = stackingProblem(others, candidate);
  if (stacking) return stacking;
  return ok({ room: remainingAmount(orderAmount, others) });
}

function stackingProblem(
  others: readonly OrderCoupon[],
  candidate: OrderCandidate,
): Rejection | null {
  if (others.length === 0) return null;
  if (candidate.stacking === 'EXCLUSIVE') {
    return reject(
      'STACKING_NOT_ALLOWED',
      'An exclusive coupon cannot join an order that holds another coupon.',
    );
  }
  if (others.some((c) => c.stacking === 'EXCLUSIVE')) {
    return reject('STACKING_NOT_ALLOWED', 'The order holds an exclusive coupon.');
  }
  if (others.some((c) => c.policyId === candidate.policyId)) {
    return reject('STACKING_NOT_ALLOWED', 'The order already holds a coupon of this policy.');
  }
  return null;
}

/** What is left of `orderAmount` after the discounts of `coupons`; never negative. */
export function remainingAmount(
  orderAmount: number,
  coupons: readonly { discountAmount: number }[],
): number {
  return Math.max(0, orderAmount - totalDiscount(coupons));
}

/** The sum of the coupons' discounts. */
export function totalDiscount(coupons: readonly { discountAmount: number }[]): number {
  return coupons.reduce((sum, c) => sum + c.discountAmount, 0);
}

/** What the customer pays: the order's amount less its coupons' discounts (never below 0). */
export function payableAmount(
  orderAmount: number,
  coupons: readonly { discountAmount: number }[],
): number {
  return remainingAmount(orderAmount, coupons);
}

/**
 * A policy's spend budget: the discounts of its RESERVED and USED coupons never exceed `budget`.
 * `spend` is what a change adds; a change that gives money back (or adds none) always passes.
 */
export function checkBudget(
  policy: { budget: number | null },
  budgetSpent: number,
  spend: number,
): Rejection | null {
  if (policy.budget === null || spend <= 0) return null;
  if (budgetSpent + spend <= policy.budget) return null;
  return reject(
    'BUDGET_EXHAUSTED',
    `The policy's budget has ${Math.max(0, policy.budget - budgetSpent)} left, less than the discount of ${spend}.`,
  );
}

/** What a refund does: the order's refunds so far with it, and whether they reach what was paid. */
export interface RefundDecision {
  refundedAmount: number;
  /** True when the refunds add up to the paid amount (or more): the order's coupons come back. */
  full: boolean;
}

/**
 * A `PAYMENT_REFUNDED` of `amount` on the order. Refunds add up; the one that reaches the paid
 * amount is full. An order with no completed payment on record is measured against what it
 * would have paid (`payable`).
 */
export function refund(
  order: Pick<Order, 'paidAmount' | 'refundedAmount'>,
  amount: number,
  payable: number,
): RefundDecision {
  const refundedAmount = order.refundedAmount + amount;
  const paid = order.paidAmount > 0 ? order.paidAmount : payable;
  return { refundedAmount, full: refundedAmount >= paid };
}

/**
 * A coupon joining its order (a reserve or a use): the order's rules ({@link admitToOrder}), then
 * the coupon's change decided with its discount cut to what the order has left (`decide(room)`).
 */
export function joinOrder<T>(
  {
    order,
    held,
  }: { order: Pick<Order, 'userId' | 'orderAmount'> | null; held: readonly OrderCoupon[] },
  {
    coupon,
    policy,
  }: {
    coupon: Pick<OrderCandidate, 'userId'> & { id: string; policyId: string };
    policy: { stacking: Stacking };
  },
  orderAmount: number,
  decide: (room: number) => Outcome<T>,
): Outcome<T> {
  const admitted = admitToOrder(
    order,
    held,
    {
      couponId: coupon.id,
      policyId: coupon.policyId,
      userId: coupon.userId,
      stacking: policy.stacking,
    },
    orderAmount,
  );
  return admitted.ok ? decide(admitted.value.room) : admitted;
}
