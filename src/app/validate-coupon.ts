import {
  type Coupon,
  checkBudget,
  joinOrder,
  type Outcome,
  ok,
  payableAmount,
  spendOf,
  validateCoupon as validate,
} from '../domain/index.js';
import type { Clock, CouponReader, OrderReader, PolicyStore, StoredPolicy } from './ports.js';
import type { Principal } from './principal.js';
import { ownedCoupon } from './read-coupons.js';
import { accepted, notFound, type Result } from './refusal.js';

export type Validation =
  | { valid: true; discountAmount: number; payableAmount: number }
  | { valid: false; reason: string };

/**
 * The dry run of a reserve or a use: the coupon's own rules, then, with an `orderId`, its order's
 * (one user, one amount, stacking, the discount cut to what the order has left) and the policy's
 * budget, as a worker would judge them now. Nothing is locked: a reserve may still lose a race.
 */
async function judge(
  ports: { orders: OrderReader },
  coupon: Coupon,
  policy: StoredPolicy,
  input: { orderAmount: number; orderId?: string | undefined },
  now: Date,
): Promise<Outcome<{ discountAmount: number; payableAmount: number }>> {
  const ctx = { orderAmount: input.orderAmount, orderId: input.orderId, now };
  const alone = validate(coupon, policy, ctx);
  if (!alone.ok) return alone;
  if (input.orderId === undefined) {
    const over = checkBudget(policy, policy.budgetSpent, alone.value - spendOf(coupon));
    if (over) return over;
    return ok({ discountAmount: alone.value, payableAmount: input.orderAmount - alone.value });
  }
  const record = await ports.orders.find(input.orderId);
  const held = record?.coupons ?? [];
  const joined = joinOrder(
    { order: record?.order ?? null, held },
    { coupon, policy },
    input.orderAmount,
    (room) => validate(coupon, policy, { ...ctx, room }),
  );
  if (!joined.ok) return joined;
  const over = checkBudget(policy, policy.budgetSpent, joined.value - spendOf(coupon));
  if (over) return over;
  const others = held.filter((c) => c.couponId !== coupon.id);
  return ok({
    discountAmount: joined.value,
    payableAmount: payableAmount(input.orderAmount, [...others, { discountAmount: joined.value }]),
  });
}

/** Would this owned coupon apply to this order, for how much, and what would the order cost? */
export async function validateCoupon(
  ports: { couponReader: CouponReader; orders: OrderReader; policies: PolicyStore; clock: Clock },
  principal: Principal,
  input: { couponId: string; orderAmount: number; orderId?: string | undefined },
): Promise<Result<Validation>> {
  const owned = await ownedCoupon(ports, principal, input.couponId);
  if (!owned.ok) return owned;
  const policy = await ports.policies.find(owned.value.policyId);
  if (!policy) return notFound('coupon');
  const outcome = await judge(ports, owned.value, policy, input, ports.clock.now());
  return accepted(
    outcome.ok ? { valid: true, ...outcome.value } : { valid: false, reason: outcome.code },
  );
}
