import type { EntityManager } from '@mikro-orm/postgresql';
import type { Change, LockedCoupon, ReservationWrite } from '../../app/ports.js';
import { closingState, transitionEvent } from '../../domain/index.js';
import { newId } from '../ids.js';
import { insertOutboxFrom } from './outbox.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from './row-to-domain.js';
import { json, pgArray, query } from './sql.js';

/** The coupon row locked for the rest of the transaction, with its policy's terms. */
export async function lockCoupon(
  tx: EntityManager,
  couponId: string,
): Promise<LockedCoupon | null> {
  // One statement: every reserve, use, release and cancel runs it.
  const [row] = await query<Record<string, unknown>>(
    tx,
    `select ${COUPON_COLUMNS}, to_jsonb(pp) as policy
       from coupons c
       cross join lateral (select ${POLICY_COLUMNS} from coupon_policies p
                            where p.id = c.policy_id) pp
      where c.id = ? for update of c`,
    [couponId],
  );
  if (!row) return null;
  const { policy, ...couponRow } = row;
  return { coupon: toCoupon(couponRow as never), policy: toPolicy(policy as never) };
}

/**
 * Coupons of these orders that a payment event can act on, locked (in id order), with their terms:
 * those RESERVED or USED for one of the orders, and the coupon of each order's latest TIMED_OUT
 * reservation (a payment completing late), whatever its status now — `late` names those
 * reservations.
 */
export async function lockOrderCoupons(
  tx: EntityManager,
  orderIds: string[],
): Promise<LockedCoupon[]> {
  const orders = pgArray(orderIds);
  const rows = await query<Record<string, unknown>>(
    tx,
    `with unpaid as (
       select r.order_id, r.coupon_id, r.reserved_at, r.order_amount, r.discount_amount,
              r.closed_at, max(r.closed_at) over (partition by r.order_id) as last_closed_at
         from coupon_reservations r
        where r.order_id = any(?::text[]) and r.state in ('TIMED_OUT', 'RELEASED')
     ), late as (
       select * from unpaid where closed_at = last_closed_at
     )
     select ${COUPON_COLUMNS},
            (select json_agg(json_build_object('orderId', l.order_id,
                    'reservedAt', l.reserved_at, 'orderAmount', l.order_amount,
                    'discountAmount', l.discount_amount))
               from late l where l.coupon_id = c.id) as late
       from coupons c
      where c.id in (select o.id from coupons o
                      where o.order_id = any(?::text[]) and o.status in ('RESERVED', 'USED')
                     union all
                     select l.coupon_id from late l)
      order by c.id for update of c`,
    [orders, orders],
  );
  if (rows.length === 0) return [];
  const coupons = rows.map(({ late: _, ...row }) => toCoupon(row as never));
  const policies = await query<Record<string, unknown>>(
    tx,
    `select ${POLICY_COLUMNS} from coupon_policies p where p.id = any(?::uuid[])`,
    [pgArray([...new Set(coupons.map((c) => c.policyId))])],
  );
  const byId = new Map(policies.map((row) => [row.id as string, toPolicy(row as never)]));
  return coupons.map((coupon, i) => {
    const late = rows[i]?.late as
      | {
          orderId: string;
          reservedAt: string;
          orderAmount: number | null;
          discountAmount: number;
        }[]
      | null;
    return {
      coupon,
      policy: byId.get(coupon.policyId) as LockedCoupon['policy'],
      ...(late && {
        late: late.map((r) => ({
          ...r,
          reservedAt: new Date(r.reservedAt),
          orderAmount: r.orderAmount === null ? null : Number(r.orderAmount),
          discountAmount: Number(r.discountAmount),
        })),
      }),
    };
  });
}

function reservationColumns({ transition, reservation }: Change) {
  const closes = closingState(transition);
  const write: ReservationWrite | null = reservation ?? (closes ? { close: closes } : null);
  if (transition.to === 'RESERVED' && !(write && 'open' in write)) {
    throw new Error('a reserve must open its reservation record');
  }
  const open = write && 'open' in write ? write.open : null;
  return {
    res_open_id: open?.id ?? null,
    res_order_amount: open?.orderAmount ?? null,
    res_expires_at: open?.expiresAt ?? null,
    res_close: write && 'close' in write ? write.close : null,
    res_confirm: write !== null && 'confirm' in write,
  };
}

/** One change as a row of the `x` set of {@link CHANGES_CTE}. */
export function changeRow(change: Change, now: Date) {
  const { transition, actor, reason } = change;
  const { coupon, from, to } = transition;
  return {
    ...reservationColumns(change),
    user_id: coupon.userId,
    policy_id: coupon.policyId,
    spend: transition.spend,
    order_amount: coupon.orderAmount,
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
 * and one outbox event each, and the reservation records each change opens, closes or confirms.
 * Its parameters are {@link changeParams}; a statement adds its own expressions after it and
 * selects `count(*) from changed`. When a coupon row moved meanwhile, the caller's count check
 * rolls the whole transaction back, the reservation writes with it.
 */
export const CHANGES_CTE = `x as (
    select * from jsonb_to_recordset(?::jsonb)
      as x(id uuid, from_status text, status text, order_id text, reserved_at timestamptz,
           used_at timestamptz, discount_amount bigint, actor text, reason text, event jsonb,
           user_id text, res_open_id uuid, res_order_amount bigint, res_expires_at timestamptz,
           res_close text, res_confirm boolean, policy_id uuid, spend bigint, order_amount bigint)
  ), changed as (
    update coupons c
       set status = x.status, order_id = x.order_id, order_amount = x.order_amount,
           reserved_at = x.reserved_at, used_at = x.used_at, discount_amount = x.discount_amount,
           updated_at = ?
      from x
     where c.id = x.id and c.status = x.from_status
    returning c.id
  ), history as (
    insert into coupon_history (coupon_id, from_status, to_status, actor, reason, at)
    select x.id, x.from_status, x.status, x.actor, x.reason, ? from x
  ), outbox_rows as (
    ${insertOutboxFrom('x', 'x.event')}
  ), reservations_closed as (
    update coupon_reservations r
       set state = x.res_close, closed_at = ?, closed_by = x.actor, reason = x.reason
      from x
     where x.res_close is not null and r.coupon_id = x.id and r.state = 'ACTIVE'
  ), reservations_confirmed as (
    update coupon_reservations r
       set state = 'CONFIRMED', closed_at = ?, closed_by = x.actor, reason = x.reason
      from x
     where x.res_confirm and r.id = (
       select u.id from coupon_reservations u
        where u.coupon_id = x.id and u.order_id = x.order_id
          and u.state in ('TIMED_OUT', 'RELEASED')
        order by u.closed_at desc, u.id desc limit 1)
  ), budgets as (
    update coupon_policies p set budget_spent = p.budget_spent + s.spend
      from (select policy_id, sum(spend) as spend from x group by policy_id) s
     where p.id = s.policy_id and s.spend <> 0 and p.budget is not null
  ), reservations_opened as (
    insert into coupon_reservations (id, coupon_id, order_id, user_id, order_amount,
                                     discount_amount, state, reserved_at, expires_at)
    select x.res_open_id, x.id, x.order_id, x.user_id, x.res_order_amount, x.discount_amount,
           'ACTIVE', x.reserved_at, x.res_expires_at
      from x where x.res_open_id is not null
  )`;

export const changeParams = (changes: Change[], now: Date): unknown[] => [
  json(changes.map((change) => changeRow(change, now))),
  now,
  now,
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
