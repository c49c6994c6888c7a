import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type Coupon,
  type CouponPolicy,
  type DiscountTerms,
  type Transition,
  transitionEvent,
} from '../../domain/index.js';
import { newId } from '../ids.js';
import { insertOutboxFrom } from './outbox.js';
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

/** One change as a row of the `x` set of {@link CHANGES_CTE}. */
export function changeRow({ transition, actor, reason }: Change, now: Date) {
  const { coupon, from, to } = transition;
  return {
    id: coupon.id,
    from_status: from,
    status: to,
    order_id: coupon.orderId,
    reserved_at: coupon.reservedAt,
    used_at: coupon.usedAt,
    discount_amount: coupon.discountAmount,
    actor,
    reason,
    event: transitionEvent(transition, { eventId: newId(), now }),
  };
}

/**
 * The common-table expressions that write status changes: `changed` updates the coupon rows (only
 * where the status is still the one the decision started from; `returning` them), one history row
 * and one outbox event each. Its three parameters are {@link changeParams}; a statement adds its
 * own expressions after it and selects `count(*) from changed`.
 */
export const CHANGES_CTE = `x as (
    select * from jsonb_to_recordset(?::jsonb)
      as x(id uuid, from_status text, status text, order_id text, reserved_at timestamptz,
           used_at timestamptz, discount_amount bigint, actor text, reason text, event jsonb)
  ), changed as (
    update coupons c
       set status = x.status, order_id = x.order_id, reserved_at = x.reserved_at,
           used_at = x.used_at, discount_amount = x.discount_amount, updated_at = ?
      from x
     where c.id = x.id and c.status = x.from_status
    returning c.id
  ), history as (
    insert into coupon_history (coupon_id, from_status, to_status, actor, reason, at)
    select x.id, x.from_status, x.status, x.actor, x.reason, ? from x
  ), outbox_rows as (
    ${insertOutboxFrom('x', 'x.event')}
  )`;

export const changeParams = (changes: Change[], now: Date): unknown[] => [
  json(changes.map((change) => changeRow(change, now))),
  now,
  now,
];

/** Throws when a coupon row moved meanwhile, so the transaction rolls back whole. */
export function assertAllChanged(changed: number | undefined, expected: number): void {
  if (changed !== expected) {
    throw new Error('a coupon changed status concurrently; the transaction is rolled back');
  }
}

/**
 * Writes status changes the domain decided, in one statement of the caller's transaction
 * ({@link CHANGES_CTE}). Throws when a row moved meanwhile, so the transaction rolls back whole.
 */
export async function saveChanges(tx: EntityManager, changes: Change[], now: Date): Promise<void> {
  if (changes.length === 0) return;
  const [row] = await query<{ changed: number }>(
    tx,
    `with ${CHANGES_CTE} select count(*)::int as changed from changed`,
    changeParams(changes, now),
  );
  assertAllChanged(row?.changed, changes.length);
}
