import type { EntityManager } from '@mikro-orm/postgresql';
import { paymentOutcomes } from '../infra/db/payment-events.js';
import { COUPON_COLUMNS, couponView, toCoupon } from '../infra/db/rows.js';
import { pgArray, query } from '../infra/db/sql.js';
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
  const earlier = events.filter(({ eventId }) => !applied.has(eventId)).map((e) => e.eventId);
  const recorded = earlier.length > 0 ? await paymentOutcomes(em, earlier) : new Map();
  const couponIds = [...new Set([...applied.values()].flatMap((event) => event.couponIds))];
  const coupons =
    couponIds.length === 0
      ? []
      : await query<Parameters<typeof toCoupon>[0]>(
          em,
          `select ${COUPON_COLUMNS} from coupons c where c.id = any(?::uuid[])`,
          [pgArray(couponIds)],
        );
  const byId = new Map(coupons.map((row) => [String(row.id), couponView(toCoupon(row))]));
  return events.map(({ eventId, orderId }) => {
    const mine = applied.get(eventId);
    const outcome = mine?.outcome ?? recorded.get(eventId);
    // The job is enqueued after its events are committed, and applying takes every pending event
    // of their orders: an event still pending here is a fault, and the job is retried.
    if (!outcome) throw new Error(`payment event ${eventId} is still pending after its job`);
    const couponId = mine?.couponIds.at(-1);
    return { eventId, orderId, outcome, coupon: (couponId && byId.get(couponId)) || null };
  });
}
