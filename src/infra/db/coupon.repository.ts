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

export async function couponHistory(em: EntityManager, couponId: string) {
  const rows = await em.find(HistoryEntity, { couponId }, { orderBy: { id: 'asc' } });
  return rows.map((row) => ({
    from: row.fromStatus,
    to: row.toStatus,
    actor: row.actor,
    reason: row.reason,
    at: row.at.toISOString(),
  }));
}
