import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type Outcome,
  releaseCoupon,
  restoreCoupon,
  type Transition,
  useCoupon,
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
  type: 'PAYMENT_COMPLETED' | 'PAYMENT_FAILED' | 'PAYMENT_CANCELLED';
}

export interface PaymentResult {
  /** The events of the order this call applied, in offset order, with what each did. */
  applied: { eventId: string; type: string; outcome: string; couponIds: string[] }[];
  /** Policies whose coupons changed (for the statistics cache). */
  policyIds: string[];
}

function decide(
  event: PendingEvent,
  { coupon, policy }: LockedCoupon,
  orderId: string,
  now: Date,
): Outcome<Transition> | null {
  switch (event.type) {
    case 'PAYMENT_COMPLETED':
      return coupon.status === 'RESERVED' ? useCoupon(coupon, policy, { orderId, now }) : null;
    case 'PAYMENT_FAILED':
      return coupon.status === 'RESERVED' ? releaseCoupon(coupon, { orderId }) : null;
    case 'PAYMENT_CANCELLED':
      if (coupon.status === 'RESERVED') return releaseCoupon(coupon, { orderId });
      return coupon.status === 'USED' ? restoreCoupon(coupon, now) : null;
  }
}

/** Every pending event's decision, in order: the changes to write (by round) and each event's outcome. */
function decideAll(
  pending: (PendingEvent & { orderId: string })[],
  coupons: LockedCoupon[],
  orderIds: string[],
  now: Date,
) {
  const results = new Map(
    orderIds.map((id): [string, PaymentResult] => [id, { applied: [], policyIds: [] }]),
  );
  // The order each coupon was locked for: a restore clears `orderId`, later events still apply.
  const ofOrder = new Map<string, LockedCoupon[]>();
  for (const locked of coupons) {
    const orderId = locked.coupon.orderId ?? '';
    const mine = ofOrder.get(orderId);
    if (mine) mine.push(locked);
    else ofOrder.set(orderId, [locked]);
  }
  // A coupon may change twice in one call (COMPLETED then CANCELLED): its n-th change goes in the
  // n-th round, so each conditional update sees the status the previous one left.
  const rounds: Change[][] = [];
  const changesOf = new Map<string, number>();
  const outcomes: { id: string; outcome: string }[] = [];
  for (const event of pending) {
    let result = results.get(event.orderId);
    if (!result) {
      result = { applied: [], policyIds: [] };
      results.set(event.orderId, result);
    }
    const mine = ofOrder.get(event.orderId) ?? [];
    const touched: string[] = [];
    let outcome = mine.length === 0 ? 'NO_COUPON' : 'NO_CHANGE';
    for (const locked of mine) {
      const decision = decide(event, locked, event.orderId, now);
      if (!decision) continue;
      if (!decision.ok) {
        outcome = decision.code;
        continue;
      }
      const n = changesOf.get(locked.coupon.id) ?? 0;
      changesOf.set(locked.coupon.id, n + 1);
      rounds[n] ??= [];
      rounds[n].push({
        transition: decision.value,
        actor: ACTOR,
        reason: `${event.type} ${event.eventId}`,
      });
      locked.coupon = decision.value.coupon;
      touched.push(locked.coupon.id);
      result.policyIds.push(locked.coupon.policyId);
      outcome = decision.value.event;
    }
    result.applied.push({ eventId: event.eventId, type: event.type, outcome, couponIds: touched });
    outcomes.push({ id: event.eventId, outcome });
  }
  return { results, rounds, outcomes };
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
export function applyPaymentEvents(
  em: EntityManager,
  orderIds: string[],
  now: Date,
): Promise<Map<string, PaymentResult>> {
  return inTransaction(em, async (tx) => {
    const pending = await query<PendingEvent & { orderId: string }>(
      tx,
      `select event_id as "eventId", event_type as type, order_id as "orderId" from payment_events
        where order_id = any(?::text[]) and applied_at is null
        order by order_id, kafka_partition, kafka_offset
          for update`,
      [pgArray(orderIds)],
    );
    const coupons =
      pending.length === 0
        ? []
        : await lockOrderCoupons(tx, [...new Set(pending.map((e) => e.orderId))]);
    const { results, rounds, outcomes } = decideAll(pending, coupons, orderIds, now);
    for (const round of rounds) await saveChanges(tx, round, now);
    await markApplied(tx, outcomes, orderIds, now);
    return results;
  });
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
