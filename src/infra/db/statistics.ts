import type { EntityManager } from '@mikro-orm/postgresql';
import type { PolicyStatistics } from '../../app/ports.js';
import { query } from './sql.js';

/** One aggregate query over the policy's coupons (index `coupons_policy_status`). */
export async function computeStatistics(
  em: EntityManager,
  policyId: string,
): Promise<PolicyStatistics | null> {
  const [row] = await query<Record<string, string | number | null>>(
    em,
    `select p.total_quantity as "totalQuantity", p.budget,
            coalesce(sum(c.discount_amount) filter (where c.status in ('RESERVED', 'USED')), 0)
              ::bigint as "budgetSpent",
            count(c.id)::int as "issuedCount",
            count(*) filter (where c.status = 'RESERVED')::int as "reservedCount",
            count(*) filter (where c.status = 'USED')::int as "usedCount",
            count(*) filter (where c.status = 'EXPIRED')::int as "expiredCount",
            count(*) filter (where c.status = 'CANCELLED')::int as "cancelledCount",
            coalesce(sum(c.discount_amount) filter (where c.status = 'USED'), 0)::bigint
              as "totalDiscountAmount"
       from coupon_policies p
       left join coupons c on c.policy_id = p.id
      where p.id = ?
      group by p.id`,
    [policyId],
  );
  if (!row) return null;
  const issuedCount = Number(row.issuedCount);
  const usedCount = Number(row.usedCount);
  const totalQuantity = Number(row.totalQuantity);
  return {
    policyId,
    totalQuantity,
    issuedCount,
    reservedCount: Number(row.reservedCount),
    usedCount,
    expiredCount: Number(row.expiredCount),
    cancelledCount: Number(row.cancelledCount),
    remainingQuantity: totalQuantity - issuedCount,
    usageRate: issuedCount === 0 ? 0 : usedCount / issuedCount,
    totalDiscountAmount: Number(row.totalDiscountAmount),
    ...budgetFigures(row.budget === null ? null : Number(row.budget), Number(row.budgetSpent)),
  };
}

function budgetFigures(budget: number | null, budgetSpent: number) {
  return {
    budget,
    budgetSpent,
    budgetRemaining: budget === null ? null : Math.max(0, budget - budgetSpent),
  };
}
