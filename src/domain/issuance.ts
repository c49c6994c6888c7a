import type { Coupon } from './coupon.js';
import { type Rejection, reject } from './errors.js';
import { type CouponPolicy, checkIssuable, couponExpiresAt, grantCount } from './policy.js';

/**
 * Whether one more coupon may be issued to a user, checked in this order: the policy is ACTIVE and
 * in its window, the quota has room, the user is under `perUserLimit`. The worker must still make
 * these checks atomic in the database; this states the rules for a policy row it has locked.
 *
 * @param userIssuedCount - coupons of this policy ever issued to the user, whatever their status,
 *   so spending a coupon never frees a slot for another.
 * @returns the rejection, or `null` when issuing is allowed.
 */
export function checkIssuance(
  policy: Pick<
    CouponPolicy,
    'status' | 'validFrom' | 'validUntil' | 'totalQuantity' | 'issuedCount' | 'perUserLimit'
  >,
  { userIssuedCount, now }: { userIssuedCount: number; now: Date },
): Rejection | null {
  const inactive = checkIssuable(policy, now);
  if (inactive) return inactive;
  if (grantCount(policy.totalQuantity, policy.issuedCount, 1) < 1) return reject('QUOTA_EXHAUSTED');
  if (userIssuedCount >= policy.perUserLimit) return reject('PER_USER_LIMIT_REACHED');
  return null;
}

/** A freshly issued coupon; its expiry follows {@link couponExpiresAt}. */
export function newCoupon(
  policy: Pick<CouponPolicy, 'id' | 'validUntil' | 'validDaysAfterIssue'>,
  { id, userId, now }: { id: string; userId: string; now: Date },
): Coupon {
  return {
    id,
    policyId: policy.id,
    userId,
    status: 'ISSUED',
    issuedAt: now,
    expiresAt: couponExpiresAt(policy, now),
    usedAt: null,
    orderAmount: null,
    reservedAt: null,
    orderId: null,
    discountAmount: null,
  };
}
