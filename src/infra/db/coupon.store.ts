import type { EntityManager } from '@mikro-orm/postgresql';
import type {
  CouponStore,
  CouponTx,
  PendingPaymentEvent,
  StaleReservation,
} from '../../app/ports.js';
import type { Coupon } from '../../domain/index.js';
import { writeAudit } from './audit.js';
import { lockCoupon, lockOrderCoupons, saveChanges } from './coupon-changes.js';
import { inFencedTransaction } from './fence.js';
import { lockBudget, lockOrder, lockOrders, saveOrder, saveOrderPayments } from './orders.js';
import { paymentOutcomes } from './payment-events.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from './row-to-domain.js';
import { json, pgArray, query } from './sql.js';

/** A reservation past its expiry: not extended past `now` (coupons without a record have none). */
const STALE = `c.status = 'RESERVED' and c.reserved_at <= ?
  and (r.id is null or r.expires_at <= ?)`;

/**
 * The coupon unit of work in PostgreSQL: coupons locked for a status change (a client's action, a
 * payment event, the expiry sweep), the changes written in one statement each, and the reads the
 * sweeps page through.
 */
export function couponStore(fork: () => EntityManager): CouponStore {
  return {
    transaction: (work, fence) => inFencedTransaction(fork(), fence, (tx) => work(couponTx(tx))),
    async staleReservations(staleBefore, now, after, limit) {
      const rows = await query<Record<string, unknown>>(
        fork(),
        `select c.id as "couponId", c.order_id as "orderId", r.id as "reservationId",
                c.reserved_at as "reservedAt", coalesce(r.extensions, 0) as extensions
           from coupons c
           left join coupon_reservations r on r.coupon_id = c.id and r.state = 'ACTIVE'
          where ${STALE} and (c.reserved_at, c.id) > (?, ?)
          order by c.reserved_at, c.id limit ?`,
        [staleBefore, now, after[0], after[1], limit],
      );
      return rows.map(
        (row): StaleReservation => ({
          couponId: row.couponId as string,
          orderId: row.orderId as string,
          reservationId: (row.reservationId as string | null) ?? null,
          reservedAt: new Date(row.reservedAt as string),
          extensions: Number(row.extensions),
        }),
      );
    },
    async pendingPaymentOrders(before, after, limit) {
      const rows = await query<{ orderId: string }>(
        fork(),
        `select distinct order_id as "orderId" from payment_events
          where applied_at is null and received_at <= ? and order_id > ?
          order by order_id limit ?`,
        [before, after, limit],
      );
      return rows.map((row) => row.orderId);
    },
    paymentOutcomes: (eventIds) => paymentOutcomes(fork(), eventIds),
  };
}

function couponTx(tx: EntityManager): CouponTx {
  return {
    lockOrder: (orderId) => lockOrder(tx, orderId),
    saveOrder: (order) => saveOrder(tx, order),
    lockOrders: (orderIds) => lockOrders(tx, orderIds),
    saveOrderPayments: (orders) => saveOrderPayments(tx, orders),
    lockBudget: (policyId) => lockBudget(tx, policyId),
    lockCoupon: (couponId) => lockCoupon(tx, couponId),
    lockOrderCoupons: (orderIds) => lockOrderCoupons(tx, orderIds),
    saveChanges: (changes, now) => saveChanges(tx, changes, now),
    audit: (entry) => writeAudit(tx, entry),
    async actionResult(jobId) {
      const [done] = await query<{ result: Record<string, unknown> }>(
        tx,
        'select result from usage_job_results where job_id = ?',
        [jobId],
      );
      return done ? toCoupon(done.result as never) : null;
    },
    async storeActionResult(jobId, coupon, now) {
      await query(
        tx,
        'insert into usage_job_results (job_id, coupon_id, result, at) values (?, ?, ?::jsonb, ?)',
        [jobId, coupon.id, json(coupon), now],
      );
    },
    lockPendingPayments: (orderIds) =>
      query<PendingPaymentEvent>(
        tx,
        `select event_id as "eventId", event_type as type, order_id as "orderId", user_id as "userId",
                amount::float8 as amount
           from payment_events
          where order_id = any(?::text[]) and applied_at is null
          order by order_id, kafka_partition, kafka_offset
            for update`,
        [pgArray(orderIds)],
      ),
    async markPaymentsApplied(outcomes, orderIds, now) {
      if (outcomes.length === 0) return;
      await query(
        tx,
        `update payment_events e set applied_at = ?, outcome = x.outcome
           from jsonb_to_recordset(?::jsonb) as x(id uuid, outcome text)
          where e.order_id = any(?::text[]) and e.applied_at is null and e.event_id = x.id`,
        [now, json(outcomes), pgArray(orderIds)],
      );
    },
    async lockExpired(now, limit) {
      const rows = await query<Record<string, unknown>>(
        tx,
        `select ${COUPON_COLUMNS} from coupons c
          where c.status = 'ISSUED' and c.expires_at < ?
          order by c.expires_at limit ? for update skip locked`,
        [now, limit],
      );
      return rows.map((row) => toCoupon(row as never));
    },
    async lockStaleReservations(staleBefore, now, limit) {
      // A reservation record's expiry may lie later than the TTL (an extension); coupons reserved
      // before the records were kept have none.
      const rows = await query<Record<string, unknown>>(
        tx,
        `select ${COUPON_COLUMNS} from coupons c
          where c.status = 'RESERVED' and c.reserved_at <= ?
            and not exists (select 1 from coupon_reservations r
                             where r.coupon_id = c.id and r.state = 'ACTIVE' and r.expires_at > ?)
          order by c.reserved_at limit ? for update of c skip locked`,
        [staleBefore, now, limit],
      );
      return rows.map((row) => toCoupon(row as never));
    },
    async lockStillStale(couponIds, staleBefore, now) {
      const rows = await query<Record<string, unknown>>(
        tx,
        `select ${COUPON_COLUMNS}, r.id as "reservationId"
           from coupons c
           left join coupon_reservations r on r.coupon_id = c.id and r.state = 'ACTIVE'
          where c.id = any(?::uuid[]) and ${STALE}
          order by c.id for update of c skip locked`,
        [pgArray(couponIds), staleBefore, now],
      );
      const policies = await query<Record<string, unknown>>(
        tx,
        `select ${POLICY_COLUMNS} from coupon_policies p where p.id = any(?::uuid[])`,
        [pgArray([...new Set(rows.map((row) => row.policyId as string))])],
      );
      const policyOf = new Map(policies.map((row) => [row.id as string, toPolicy(row as never)]));
      return rows.map(({ reservationId, ...row }) => {
        const coupon: Coupon = toCoupon(row as never);
        return {
          coupon,
          reservationId: (reservationId as string | null) ?? null,
          policy: policyOf.get(coupon.policyId),
        };
      });
    },
    async extendReservations(reservationIds, until) {
      if (reservationIds.length === 0) return;
      await query(
        tx,
        `update coupon_reservations set expires_at = ?, extensions = extensions + 1
          where id = any(?::uuid[]) and state = 'ACTIVE'`,
        [until, pgArray(reservationIds)],
      );
    },
  };
}
