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
import { json, query } from '../infra/db/sql.js';

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

/**
 * Applies every pending payment event of an order, oldest offset first, in one transaction.
 *
 * Whichever worker gets an order's job first applies all events recorded so far; the bridge records
 * an event before it reads the next one of the same partition, so when event N's job runs, events
 * before N are already recorded and are applied first. Jobs arriving later find nothing pending.
 * So the order holds with any number of worker processes, and an event is applied exactly once.
 */
export function applyPaymentEvents(
  em: EntityManager,
  orderId: string,
  now: Date,
): Promise<PaymentResult> {
  return em.transactional(async (tx) => {
    const pending = await query<PendingEvent>(
      tx,
      `select event_id as "eventId", event_type as type from payment_events
        where order_id = ? and applied_at is null
        order by kafka_partition, kafka_offset
          for update`,
      [orderId],
    );
    const result: PaymentResult = { applied: [], policyIds: [] };
    if (pending.length === 0) return result;

    const coupons = await lockOrderCoupons(tx, orderId);
    const changes: Change[] = [];
    for (const event of pending) {
      const touched: string[] = [];
      let outcome = coupons.length === 0 ? 'NO_COUPON' : 'NO_CHANGE';
      for (const locked of coupons) {
        const decision = decide(event, locked, orderId, now);
        if (!decision) continue;
        if (!decision.ok) {
          outcome = decision.code;
          continue;
        }
        changes.push({
          transition: decision.value,
          actor: ACTOR,
          reason: `${event.type} ${event.eventId}`,
        });
        locked.coupon = decision.value.coupon;
        touched.push(locked.coupon.id);
        result.policyIds.push(locked.coupon.policyId);
        outcome = decision.value.event;
      }
      result.applied.push({
        eventId: event.eventId,
        type: event.type,
        outcome,
        couponIds: touched,
      });
    }
    await saveChangesInOrder(tx, changes, now);
    await query(
      tx,
      `update payment_events e set applied_at = ?, outcome = x.outcome
         from jsonb_to_recordset(?::jsonb) as x(id uuid, outcome text)
        where e.order_id = ? and e.applied_at is null and e.event_id = x.id`,
      [now, json(result.applied.map((a) => ({ id: a.eventId, outcome: a.outcome }))), orderId],
    );
    return result;
  });
}

/**
 * One coupon may change twice in one call (COMPLETED then CANCELLED): each change is saved on its
 * own so the conditional update sees the status the previous one left.
 */
async function saveChangesInOrder(tx: EntityManager, changes: Change[], now: Date): Promise<void> {
  for (const change of changes) await saveChanges(tx, [change], now);
}
