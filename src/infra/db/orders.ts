import type { EntityManager } from '@mikro-orm/postgresql';
import type {
  LockedOrder,
  OrderCouponRecord,
  OrderPaymentRecord,
  OrderPayments,
  OrderRecord,
} from '../../app/ports.js';
import type { Order } from '../../domain/index.js';
import { json, pgArray, query } from './sql.js';

/** The advisory-lock class of orders (an order that has no row yet has nothing else to lock). */
const ORDER_LOCK_CLASS = 0x6f72;

const ORDER_COLUMNS = `o.order_id as "orderId", o.user_id as "userId",
  o.order_amount as "orderAmount", o.paid_amount as "paidAmount",
  o.refunded_amount as "refundedAmount"`;

function toOrder(row: Record<string, unknown>): Order {
  return {
    orderId: row.orderId as string,
    userId: row.userId as string,
    orderAmount: Number(row.orderAmount),
    paidAmount: Number(row.paidAmount),
    refundedAmount: Number(row.refundedAmount),
  };
}

/**
 * The order locked for the transaction: an advisory lock on its id, which also covers an order
 * with no row yet, then its row. The payment path, which only acts on orders that have a row,
 * takes the row lock alone ({@link lockOrders}); both take the order before its coupons.
 */
export async function lockOrder(tx: EntityManager, orderId: string): Promise<LockedOrder> {
  await query(tx, 'select pg_advisory_xact_lock(?, hashtext(?))', [ORDER_LOCK_CLASS, orderId]);
  const [row] = await query<Record<string, unknown>>(
    tx,
    `select ${ORDER_COLUMNS} from orders o where o.order_id = ? for update`,
    [orderId],
  );
  return { order: row ? toOrder(row) : null, held: await heldCoupons(tx, orderId) };
}

/**
 * The coupons the order holds (RESERVED for it or USED on it), in the order they joined it: by the
 * history row of their joining, numbered under the order's lock (a job's own clock is read before
 * it waits for that lock, so `reserved_at` may not follow it).
 */
async function heldCoupons(em: EntityManager, orderId: string): Promise<OrderCouponRecord[]> {
  const rows = await query<Record<string, unknown>>(
    em,
    `select c.id as "couponId", c.policy_id as "policyId", p.stacking, c.status,
            c.discount_amount as "discountAmount"
       from coupons c join coupon_policies p on p.id = c.policy_id
      where c.order_id = ? and c.status in ('RESERVED', 'USED')
      order by (select max(h.id) from coupon_history h
                 where h.coupon_id = c.id and h.from_status in ('ISSUED', 'EXPIRED')
                   and h.to_status in ('RESERVED', 'USED')), c.id`,
    [orderId],
  );
  return rows.map(
    (c): OrderCouponRecord => ({
      couponId: c.couponId as string,
      policyId: c.policyId as string,
      stacking: c.stacking as OrderCouponRecord['stacking'],
      status: c.status as OrderCouponRecord['status'],
      discountAmount: Number(c.discountAmount ?? 0),
    }),
  );
}

export async function saveOrder(
  tx: EntityManager,
  order: Pick<Order, 'orderId' | 'userId' | 'orderAmount'>,
): Promise<void> {
  await query(
    tx,
    `insert into orders (order_id, user_id, order_amount) values (?, ?, ?)
     on conflict (order_id) do update
       set order_amount = excluded.order_amount, updated_at = now()
       where orders.order_amount <> excluded.order_amount`,
    [order.orderId, order.userId, order.orderAmount],
  );
}

export async function lockOrders(tx: EntityManager, orderIds: string[]): Promise<Order[]> {
  const rows = await query<Record<string, unknown>>(
    tx,
    `select ${ORDER_COLUMNS} from orders o where o.order_id = any(?::text[])
      order by o.order_id for update`,
    [pgArray(orderIds)],
  );
  return rows.map(toOrder);
}

export async function saveOrderPayments(tx: EntityManager, orders: OrderPayments[]): Promise<void> {
  if (orders.length === 0) return;
  await query(
    tx,
    `update orders o set paid_amount = x.paid, refunded_amount = x.refunded, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as x(id text, paid bigint, refunded bigint)
      where o.order_id = x.id`,
    [json(orders.map((o) => ({ id: o.orderId, paid: o.paidAmount, refunded: o.refundedAmount })))],
  );
}

export async function lockBudget(tx: EntityManager, policyId: string): Promise<number> {
  const [row] = await query<{ spent: string }>(
    tx,
    'select budget_spent as spent from coupon_policies where id = ? for update',
    [policyId],
  );
  return Number(row?.spent ?? 0);
}

/** The order with its coupons and payment events, for `GET /v1/orders/:orderId` and validation. */
export async function findOrder(em: EntityManager, orderId: string): Promise<OrderRecord | null> {
  const [row] = await query<Record<string, unknown>>(
    em,
    `select ${ORDER_COLUMNS} from orders o where o.order_id = ?`,
    [orderId],
  );
  if (!row) return null;
  const payments = await query<Record<string, unknown>>(
    em,
    `select event_id as "eventId", event_type as type, amount, outcome, occurred_at as at
       from payment_events where order_id = ?
      order by kafka_partition, kafka_offset`,
    [orderId],
  );
  return {
    order: toOrder(row),
    coupons: await heldCoupons(em, orderId),
    payments: payments.map(
      (p): OrderPaymentRecord => ({
        eventId: p.eventId as string,
        type: p.type as OrderPaymentRecord['type'],
        amount: Number(p.amount),
        outcome: (p.outcome as string | null) ?? null,
        at: p.at instanceof Date ? p.at : new Date(String(p.at)),
      }),
    ),
  };
}
