import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import {
  type Coupon,
  completeLatePayment,
  decidePayment,
  type PaymentDecision,
  type PaymentEventType,
  type TimedOutReservation,
} from '../domain/index.js';
import {
  type Change,
  type LockedCoupon,
  lockOrderCoupons,
  saveChanges,
} from '../infra/db/coupon-changes.js';
import { inTransaction, json, pgArray, query } from '../infra/db/sql.js';

const ACTOR = 'system:payment';

interface PendingEvent {
  eventId: string;
  type: PaymentEventType;
  userId: string;
}

export interface PaymentResult {
  /** The events of the order this call applied, in offset order, with what each did. */
  applied: { eventId: string; type: string; outcome: string; couponIds: string[] }[];
  /** Policies whose coupons changed (for the statistics cache). */
  policyIds: string[];
  /**
   * Every coupon the call changed, as its transaction left it, by id: one map shared by the
   * results of all the call's orders (a coupon can change for two orders in one call).
   */
  coupons: Map<string, Coupon>;
}

/** Every pending event's decision, in order: the changes to write (by round) and each event's outcome. */
function decideAll(
  pending: (PendingEvent & { orderId: string })[],
  coupons: LockedCoupon[],
  orderIds: string[],
  now: Date,
) {
  const changed = new Map<string, Coupon>();
  const results = new Map(
    orderIds.map((id): [string, PaymentResult] => [
      id,
      { applied: [], policyIds: [], coupons: changed },
    ]),
  );
  const taken: { eventId: string; orderId: string }[] = [];
  // The order each coupon was locked for: a restore clears `orderId`, later events still apply.
  const ofOrder = new Map<string, LockedCoupon[]>();
  // The coupon of each order's timed-out reservation, for a payment completing late.
  const lateOf = new Map<string, { locked: LockedCoupon; reservation: TimedOutReservation }>();
  for (const locked of coupons) {
    if (locked.coupon.status === 'RESERVED' || locked.coupon.status === 'USED') {
      const orderId = locked.coupon.orderId ?? '';
      const mine = ofOrder.get(orderId);
      if (mine) mine.push(locked);
      else ofOrder.set(orderId, [locked]);
    }
    for (const reservation of locked.late ?? []) {
      lateOf.set(reservation.orderId, { locked, reservation });
    }
  }
  // A coupon may change twice in one call (COMPLETED then CANCELLED): its n-th change goes in the
  // n-th round, so each conditional update sees the status the previous one left.
  const rounds: Change[][] = [];
  const changesOf = new Map<string, number>();
  const outcomes: { id: string; outcome: string }[] = [];
  for (const event of pending) {
    let result = results.get(event.orderId);
    if (!result) {
      result = { applied: [], policyIds: [], coupons: changed };
      results.set(event.orderId, result);
    }
    const late = lateOf.get(event.orderId);
    const mine = ofOrder.get(event.orderId) ?? [];
    const lateUse = late && mine.length === 0 && event.type === 'PAYMENT_COMPLETED' ? late : null;
    const candidates: [LockedCoupon, (locked: LockedCoupon) => PaymentDecision][] = lateUse
      ? [[lateUse.locked, (l) => completeLatePayment(event, l.coupon, lateUse.reservation, now)]]
      : mine.map((locked) => [locked, (l) => decidePayment(event, l.coupon, l.policy, now)]);
    const touched: string[] = [];
    let outcome = candidates.length === 0 ? 'NO_COUPON' : 'NO_CHANGE';
    for (const [locked, decide] of candidates) {
      const decision = decide(locked);
      if (!decision) continue;
      if (decision.kind === 'skip') {
        if (touched.length === 0) outcome = decision.outcome;
        continue;
      }
      const n = changesOf.get(locked.coupon.id) ?? 0;
      changesOf.set(locked.coupon.id, n + 1);
      rounds[n] ??= [];
      rounds[n].push({
        transition: decision.transition,
        actor: ACTOR,
        reason: `${event.type} ${event.eventId}`,
        ...(lateUse && { reservation: { confirm: lateUse.reservation.id } }),
      });
      locked.coupon = decision.transition.coupon;
      // A late use puts the coupon on the order: its later events (a cancellation) find it.
      if (lateUse) ofOrder.set(event.orderId, [locked]);
      touched.push(locked.coupon.id);
      result.policyIds.push(locked.coupon.policyId);
      changed.set(locked.coupon.id, locked.coupon);
      outcome = decision.transition.event;
    }
    if (outcome === 'COUPON_TAKEN') taken.push({ eventId: event.eventId, orderId: event.orderId });
    result.applied.push({ eventId: event.eventId, type: event.type, outcome, couponIds: touched });
    outcomes.push({ id: event.eventId, outcome });
  }
  return { results, rounds, outcomes, taken };
}

/**
 * Applies every pending payment event of these orders, each order's oldest offset first, in one
 * transaction (a group of payment jobs commits together, as issuance does).
 *
 * Whichever worker gets an order's job first applies all events recorded so far; the bridge records
 * an event before it reads the next one of the same partition, so when event N's job runs, events
 * before N are already recorded and are applied first. Jobs arriving later find nothing pending.
 * So the order holds with any number of worker processes, and an event is applied exactly once.
 */
export async function applyPaymentEvents(
  em: EntityManager,
  orderIds: string[],
  now: Date,
  options: PaymentOptions = {},
): Promise<Map<string, PaymentResult>> {
  const { results, taken } = await inTransaction(em, async (tx) => {
    const pending = await query<PendingEvent & { orderId: string }>(
      tx,
      `select event_id as "eventId", event_type as type, order_id as "orderId", user_id as "userId"
         from payment_events
        where order_id = any(?::text[]) and applied_at is null
        order by order_id, kafka_partition, kafka_offset
          for update`,
      [pgArray(orderIds)],
    );
    const coupons =
      pending.length === 0
        ? []
        : await lockOrderCoupons(tx, [...new Set(pending.map((e) => e.orderId))]);
    const { results, rounds, outcomes, taken } = decideAll(pending, coupons, orderIds, now);
    for (const round of rounds) await saveChanges(tx, round, now);
    await markApplied(tx, outcomes, orderIds, now);
    return { results, taken };
  });
  reportTaken(options, taken);
  return results;
}

export interface PaymentOptions {
  /** Told (warn) of each late payment whose coupon another order took meanwhile. */
  logger?: Pick<Logger, 'warn'>;
}

/** Late payments that found their coupon taken: the order got a discount no coupon backs now. */
function reportTaken(
  { logger }: PaymentOptions,
  taken: { eventId: string; orderId: string }[],
): void {
  for (const { eventId, orderId } of taken) {
    logger?.warn(
      { eventId, orderId, outcome: 'COUPON_TAKEN' },
      'late payment: the timed-out reservation’s coupon was taken by another order meanwhile; to reconcile',
    );
  }
}

function markApplied(
  tx: EntityManager,
  outcomes: { id: string; outcome: string }[],
  orderIds: string[],
  now: Date,
) {
  if (outcomes.length === 0) return Promise.resolve([]);
  return query(
    tx,
    `update payment_events e set applied_at = ?, outcome = x.outcome
       from jsonb_to_recordset(?::jsonb) as x(id uuid, outcome text)
      where e.order_id = any(?::text[]) and e.applied_at is null and e.event_id = x.id`,
    [now, json(outcomes), pgArray(orderIds)],
  );
}
