import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type Coupon,
  type CouponPolicy,
  type DiscountTerms,
  type Transition,
  transitionEvent,
} from '../../domain/index.js';
import { newId } from '../ids.js';
import { insertOutbox } from './outbox.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from './rows.js';
import { json, pgArray, query } from './sql.js';

export interface LockedCoupon {
  coupon: Coupon;
  policy: CouponPolicy & DiscountTerms;
}

/** The coupon row locked for the rest of the transaction, with its policy's terms. */
export async function lockCoupon(
  tx: EntityManager,
  couponId: string,
): Promise<LockedCoupon | null> {
  const [row] = await query<Record<string, unknown>>(
    tx,
    `select ${COUPON_COLUMNS} from coupons c where c.id = ? for update`,
    [couponId],
  );
  if (!row) return null;
  const coupon = toCoupon(row as never);
  const [policy] = await query<Record<string, unknown>>(
    tx,
    `select ${POLICY_COLUMNS} from coupon_policies p where p.id = ?`,
    [coupon.policyId],
  );
  return { coupon, policy: toPolicy(policy as never) };
}

/** Coupons of these orders that a payment event can act on, locked (in id order), with their terms. */
export async function lockOrderCoupons(
  tx: EntityManager,
  orderIds: string[],
): Promise<LockedCoupon[]> {
  const rows = await query<Record<string, unknown>>(
    tx,
    `select ${COUPON_COLUMNS} from coupons c
      where c.order_id = any(?::text[]) and c.status in ('RESERVED', 'USED') order by c.id for update`,
    [pgArray(orderIds)],
  );
  if (rows.length === 0) return [];
  const coupons = rows.map((row) => toCoupon(row as never));
  const policies = await query<Record<string, unknown>>(
    tx,
    `select ${POLICY_COLUMNS} from coupon_policies p where p.id = any(?::uuid[])`,
    [pgArray([...new Set(coupons.map((c) => c.policyId))])],
  );
  const byId = new Map(policies.map((row) => [row.id as string, toPolicy(row as never)]));
  return coupons.map((coupon) => ({
    coupon,
    policy: byId.get(coupon.policyId) as LockedCoupon['policy'],
  }));
}

export interface Change {
  transition: Transition;
  actor: string;
  reason: string | null;
}

/**
 * Writes status changes the domain decided: the coupon rows (only where the status is still the one
 * the decision started from), one history row and one outbox event each, in the caller's
 * transaction. Throws when a row moved meanwhile, so the transaction rolls back whole.
 */
export async function saveChanges(tx: EntityManager, changes: Change[], now: Date): Promise<void> {
  if (changes.length === 0) return;
  const updated = await query<{ id: string }>(
    tx,
    `update coupons c
        set status = x.status, order_id = x.order_id, reserved_at = x.reserved_at,
            used_at = x.used_at, discount_amount = x.discount_amount, updated_at = ?
       from jsonb_to_recordset(?::jsonb)
         as x(id uuid, from_status text, status text, order_id text, reserved_at timestamptz,
              used_at timestamptz, discount_amount bigint)
      where c.id = x.id and c.status = x.from_status
      returning c.id`,
    [
      now,
      json(
        changes.map(({ transition: { coupon, from } }) => ({
          id: coupon.id,
          from_status: from,
          status: coupon.status,
          order_id: coupon.orderId,
          reserved_at: coupon.reservedAt,
          used_at: coupon.usedAt,
          discount_amount: coupon.discountAmount,
        })),
      ),
    ],
  );
  if (updated.length !== changes.length) {
    throw new Error('a coupon changed status concurrently; the transaction is rolled back');
  }
  await query(
    tx,
    `insert into coupon_history (coupon_id, from_status, to_status, actor, reason, at)
     select x.id, x.from_status, x.to_status, x.actor, x.reason, ?
       from jsonb_to_recordset(?::jsonb)
         as x(id uuid, from_status text, to_status text, actor text, reason text)`,
    [
      now,
      json(
        changes.map(({ transition, actor, reason }) => ({
          id: transition.coupon.id,
          from_status: transition.from,
          to_status: transition.to,
          actor,
          reason,
        })),
      ),
    ],
  );
  await insertOutbox(
    tx,
    changes.map(({ transition }) => transitionEvent(transition, { eventId: newId(), now })),
  );
}
