import { validateCoupon as validate } from '../domain/index.js';
import type { Clock, CouponReader, PolicyStore } from './ports.js';
import type { Principal } from './principal.js';
import { ownedCoupon } from './read-coupons.js';
import { accepted, notFound, type Result } from './refusal.js';

export type Validation = { valid: true; discountAmount: number } | { valid: false; reason: string };

/** The dry run of a reserve: would this owned coupon apply to this order, and for how much? */
export async function validateCoupon(
  ports: { couponReader: CouponReader; policies: PolicyStore; clock: Clock },
  principal: Principal,
  input: { couponId: string; orderAmount: number; orderId?: string | undefined },
): Promise<Result<Validation>> {
  const owned = await ownedCoupon(ports, principal, input.couponId);
  if (!owned.ok) return owned;
  const policy = await ports.policies.find(owned.value.policyId);
  if (!policy) return notFound('coupon');
  const outcome = validate(owned.value, policy, {
    orderAmount: input.orderAmount,
    orderId: input.orderId,
    now: ports.clock.now(),
  });
  return accepted(
    outcome.ok
      ? { valid: true, discountAmount: outcome.value }
      : { valid: false, reason: outcome.code },
  );
}
