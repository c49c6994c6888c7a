import type { EntityManager } from '@mikro-orm/postgresql';
import type { Coupon, CouponStatus } from '../../domain/index.js';
import { CouponEntity, HistoryEntity } from './entities.js';

export function findCoupon(em: EntityManager, id: string): Promise<Coupon | null> {
  return em.findOne(CouponEntity, { id });
}

/** Newest first (UUIDv7 ids), optionally one user's, optionally one status. */
export async function listCoupons(
  em: EntityManager,
  filter: { userId?: string; status?: CouponStatus; limit: number; cursor?: string },
): Promise<{ items: Coupon[]; nextCursor: string | null }> {
  const rows = await em.find(
    CouponEntity,
    {
      ...(filter.userId !== undefined && { userId: filter.userId }),
      ...(filter.status !== undefined && { status: filter.status }),
      ...(filter.cursor !== undefined && { id: { $lt: filter.cursor } }),
    },
    { orderBy: { id: 'desc' }, limit: filter.limit + 1 },
  );
  const items = rows.slice(0, filter.limit);
  return { items, nextCursor: rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null };
}

/** Oldest first; `after` is the position of the last change of the previous page. */
export async function couponHistory(
  em: EntityManager,
  couponId: string,
  { limit, after }: { limit: number; after?: string },
) {
  const position = after !== undefined && /^\d{1,19}$/.test(after) ? after : undefined;
  const rows = await em.find(
    HistoryEntity,
    { couponId, ...(position !== undefined && { id: { $gt: position } }) },
    { orderBy: { id: 'asc' }, limit: limit + 1 },
  );
  const items = rows.slice(0, limit).map((row) => ({
    from: row.fromStatus,
    to: row.toStatus,
    actor: row.actor,
    reason: row.reason,
    at: row.at.toISOString(),
  }));
  return { items, nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null };
}
