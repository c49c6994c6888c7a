import type { EntityManager } from '@mikro-orm/postgresql';
import type { Coupon, CouponReservation, CouponStatus } from '../../domain/index.js';
import { CouponEntity, HistoryEntity } from './entities.js';
import { query } from './sql.js';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A coupon's reservations, oldest first; `after` is the id of the last of the previous page. */
export async function couponReservations(
  em: EntityManager,
  couponId: string,
  { limit, after }: { limit: number; after?: string },
): Promise<{ items: CouponReservation[]; nextCursor: string | null }> {
  const position = after !== undefined && UUID.test(after) ? after : undefined;
  const rows = await query<Record<string, unknown>>(
    em,
    `select id, coupon_id as "couponId", order_id as "orderId", user_id as "userId",
            order_amount as "orderAmount", discount_amount as "discountAmount", state,
            reserved_at as "reservedAt", expires_at as "expiresAt", closed_at as "closedAt",
            closed_by as "closedBy", reason
       from coupon_reservations
      where coupon_id = ?
        ${position ? 'and (reserved_at, id) > (select reserved_at, id from coupon_reservations where id = ?)' : ''}
      order by reserved_at, id limit ?`,
    position ? [couponId, position, limit + 1] : [couponId, limit + 1],
  );
  const items = rows.slice(0, limit).map(toReservation);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

function toReservation(row: Record<string, unknown>): CouponReservation {
  return {
    ...(row as unknown as CouponReservation),
    orderAmount: row.orderAmount === null ? null : Number(row.orderAmount),
    discountAmount: Number(row.discountAmount),
    reservedAt: new Date(row.reservedAt as string),
    expiresAt: new Date(row.expiresAt as string),
    closedAt: row.closedAt === null ? null : new Date(row.closedAt as string),
  };
}
