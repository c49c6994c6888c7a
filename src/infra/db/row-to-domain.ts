import type { Coupon, CouponPolicy } from '../../domain/index.js';

/** Column lists that read rows straight into the domain's shapes. */
export const COUPON_COLUMNS = `c.id, c.policy_id as "policyId", c.user_id as "userId", c.status,
  c.issued_at as "issuedAt", c.expires_at as "expiresAt", c.used_at as "usedAt",
  c.reserved_at as "reservedAt", c.order_id as "orderId", c.order_amount as "orderAmount",
  c.discount_amount as "discountAmount",
  c.issue_job_id as "issueJobId"`;

export const POLICY_COLUMNS = `p.id, p.name, p.description, p.discount_type as "discountType",
  p.discount_value as "discountValue", p.max_discount_amount as "maxDiscountAmount",
  p.min_order_amount as "minOrderAmount", p.issue_type as "issueType",
  p.total_quantity as "totalQuantity", p.per_user_limit as "perUserLimit",
  p.valid_from as "validFrom", p.valid_until as "validUntil",
  p.valid_days_after_issue as "validDaysAfterIssue", p.status, p.issued_count as "issuedCount",
  p.codes_generated as "codesGenerated", p.stacking, p.budget,
  p.budget_spent as "budgetSpent", p.public_code as "publicCode", p.created_at as "createdAt"`;

type Raw<T> = { [K in keyof T]: unknown };

const num = (value: unknown): number => Number(value);
// Undefined too: results stored as JSON before a field existed lack it.
const numOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);
const date = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const dateOrNull = (value: unknown): Date | null => (value === null ? null : date(value));

/**
 * Raw rows come as the driver gives them: bigint and, through MikroORM's connection, timestamps as
 * strings. The domain counts money in safe integers and time in Dates.
 */
export function toCoupon(row: Raw<Coupon>): Coupon {
  return {
    ...(row as Coupon),
    issuedAt: date(row.issuedAt),
    expiresAt: date(row.expiresAt),
    usedAt: dateOrNull(row.usedAt),
    reservedAt: dateOrNull(row.reservedAt),
    orderAmount: numOrNull(row.orderAmount),
    discountAmount: numOrNull(row.discountAmount),
  };
}

type PolicyRow = CouponPolicy & { codesGenerated: number; budgetSpent: number };

export function toPolicy(row: Raw<PolicyRow>): PolicyRow {
  return {
    ...(row as PolicyRow),
    budgetSpent: num(row.budgetSpent),
    maxDiscountAmount: numOrNull(row.maxDiscountAmount),
    minOrderAmount: num(row.minOrderAmount),
    budget: numOrNull(row.budget),
    validFrom: date(row.validFrom),
    validUntil: date(row.validUntil),
    createdAt: date(row.createdAt),
  };
}
