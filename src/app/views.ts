import type { Coupon, CouponPolicy, CouponReservation } from '../domain/index.js';

/** The policy as the API shows it. */
export function policyView(policy: CouponPolicy) {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    discountType: policy.discountType,
    discountValue: policy.discountValue,
    maxDiscountAmount: policy.maxDiscountAmount,
    minOrderAmount: policy.minOrderAmount,
    issueType: policy.issueType,
    totalQuantity: policy.totalQuantity,
    perUserLimit: policy.perUserLimit,
    validFrom: policy.validFrom.toISOString(),
    validUntil: policy.validUntil.toISOString(),
    validDaysAfterIssue: policy.validDaysAfterIssue,
    status: policy.status,
    issuedCount: policy.issuedCount,
    stacking: policy.stacking,
    budget: policy.budget,
    publicCode: policy.publicCode,
    createdAt: policy.createdAt.toISOString(),
  };
}

/** The coupon as the API and job results show it. */
export function couponView(coupon: Coupon) {
  return {
    id: coupon.id,
    policyId: coupon.policyId,
    userId: coupon.userId,
    status: coupon.status,
    issuedAt: coupon.issuedAt.toISOString(),
    expiresAt: coupon.expiresAt.toISOString(),
    usedAt: coupon.usedAt?.toISOString() ?? null,
    orderId: coupon.orderId,
    discountAmount: coupon.discountAmount,
  };
}
/** A reservation as the API shows it. */
export function reservationView(r: CouponReservation) {
  return {
    id: r.id,
    couponId: r.couponId,
    orderId: r.orderId,
    userId: r.userId,
    orderAmount: r.orderAmount,
    discountAmount: r.discountAmount,
    state: r.state,
    reservedAt: r.reservedAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    closedAt: r.closedAt?.toISOString() ?? null,
    closedBy: r.closedBy,
    reason: r.reason,
  };
}
