import type { EntityManager } from '@mikro-orm/postgresql';
import type { Coupon } from '../domain/index.js';
import { paymentOutcomes } from '../infra/db/payment-events.js';
import { couponView } from '../infra/db/rows.js';
import type { PaymentResult } from './apply-payment.js';

/** One event of a completed PAYMENT job, as `GET /v1/jobs/:jobId` shows it. */
export interface PaymentView {
  eventId: string;
  orderId: string;
  outcome: string;
  /** The coupon this event changed, as it stands after the job; null when it changed none. */
  coupon: Record<string, unknown> | null;
}

/**
 * What each event of a job did. An event applied by this job's transaction names its outcome and
 * coupon; one applied before (by another job of its order, or by an earlier attempt of this one
 * whose acknowledgement was lost) keeps the outcome recorded then, without a coupon.
 */
export async function paymentViews(
  em: EntityManager,
  events: { eventId: string; orderId: string }[],
  results: PaymentResult[],
): Promise<PaymentView[]> {
  const applied = new Map(
    results.flatMap(({ applied }) => applied.map((event) => [event.eventId, event] as const)),
  );
  // As the transactions left them. The results of one transaction share one map: each map once.
  const coupons = new Map<string, Coupon>();
  for (const changed of new Set(results.map((result) => result.coupons))) {
    for (const [id, coupon] of changed) coupons.set(id, coupon);
  }
  const earlier = events.filter(({ eventId }) => !applied.has(eventId)).map((e) => e.eventId);
  const recorded = earlier.length > 0 ? await paymentOutcomes(em, earlier) : new Map();
  return events.map(({ eventId, orderId }) => {
    const mine = applied.get(eventId);
    const outcome = mine?.outcome ?? recorded.get(eventId);
    // The job is enqueued after its events are committed, and applying takes every pending event
    // of their orders: an event still pending here is a fault, and the job is retried.
    if (!outcome) throw new Error(`payment event ${eventId} is still pending after its job`);
    const couponId = mine?.couponIds.at(-1);
    const coupon = couponId ? coupons.get(couponId) : undefined;
    return { eventId, orderId, outcome, coupon: coupon ? couponView(coupon) : null };
  });
}
