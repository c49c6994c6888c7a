import { isolateFailures } from './isolate.js';
import type { CouponStore, FailureKinds, Warn } from './ports.js';
import { applyPaymentEvents, type PaymentResult } from './process-payments.js';

export interface PaymentSweepResult {
  /** Orders whose pending events were applied. */
  orders: number;
  /** Events applied. */
  events: number;
  policyIds: Set<string>;
}

/**
 * Applies payment events recorded at least `olderThanMs` ago and still pending: the queue only
 * delivers, PostgreSQL is the truth, so an event whose job was lost (Redis data loss) or spent its
 * attempts is applied here. Each batch of orders goes through {@link applyPaymentEvents}, which
 * locks the pending rows: a worker applying the same order at the same time waits, then finds
 * nothing left, and the other way round. An order whose data fails its batch is set apart (its
 * events stay pending) and the rest of the batch is applied.
 *
 * @param options.batchSize orders per transaction. @defaultValue 500
 */
export async function sweepPendingPayments(
  ports: { coupons: CouponStore; failures: FailureKinds },
  {
    now,
    olderThanMs,
    batchSize = 500,
    logger,
  }: { now: Date; olderThanMs: number; batchSize?: number; logger?: Warn },
): Promise<PaymentSweepResult> {
  const result: PaymentSweepResult = { orders: 0, events: 0, policyIds: new Set() };
  const before = new Date(now.getTime() - olderThanMs);
  let after = '';
  for (;;) {
    // Keyset over order ids, so an order whose events stay pending (an outage mid-sweep throws
    // instead) is never read twice in one sweep.
    const orderIds = await ports.coupons.pendingPaymentOrders(before, after, batchSize);
    if (orderIds.length === 0) break;
    const settled = await isolateFailures(orderIds, {
      run: async (part) => {
        const applied = await applyPaymentEvents(ports, part, now, { ...(logger && { logger }) });
        return part.map((id) => applied.get(id) as PaymentResult);
      },
      itemCaused: ports.failures.isItemCaused,
    });
    for (const [i, order] of settled.entries()) {
      if (!order.ok) {
        logger?.warn(
          { orderId: orderIds[i], cause: ports.failures.describe(order.error) },
          'pending payment order failed alone; its events stay pending',
        );
        continue;
      }
      result.events += order.value.applied.length;
      for (const id of order.value.policyIds) result.policyIds.add(id);
    }
    result.orders += orderIds.length;
    after = orderIds[orderIds.length - 1] ?? after;
    if (orderIds.length < batchSize) break;
  }
  return result;
}
