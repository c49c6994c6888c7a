import { afterCommit } from '../app/after-commit.js';
import { applyCouponAction } from '../app/apply-coupon-action.js';
import type { Ports } from '../app/ports.js';
import { type PaymentResult, paymentViews, processPayments } from '../app/process-payments.js';
import { couponView } from '../app/views.js';
import { type JobProcessor, parseJobData, settle, unrecoverable } from './job-outcome.js';
import { paymentsOf, usageJobSchema } from './job-payloads.js';

/**
 * The usage queue's processor: reserve, use, release and cancel, each a locked, audited status
 * change of its own; a PAYMENT job's events, one transaction for the job's orders
 * ({@link processPayments}).
 */
export function usageProcessor(
  ports: Ports,
  {
    reservationTtlMs,
    countPayments,
  }: {
    reservationTtlMs: number;
    /** Told of each applied event, for `coupon_payment_events_total{type,outcome}`. */
    countPayments: (type: string, outcome: string) => void;
  },
): JobProcessor {
  const applyPayments = async (orderIds: string[]) => {
    const settled = await processPayments(ports, orderIds);
    for (const result of settled) {
      if (!result.ok) continue;
      for (const { type, outcome } of result.value.applied) countPayments(type, outcome);
    }
    return settled;
  };
  return {
    async process(job) {
      const data = parseJobData(usageJobSchema, job.data);
      if (data.type === 'PAYMENT') {
        const events = paymentsOf(data);
        // A job carries a partition's chunk (up to 2,000 events): its orders commit together, and
        // jobs of different partitions run side by side (the same order in two jobs meets its
        // row locks).
        const orderIds = [...new Set(events.map(({ orderId }) => orderId))];
        const settled = await applyPayments(orderIds);
        const results: PaymentResult[] = [];
        for (const result of settled) {
          // Its order failed alone and its events stay pending: the job is retried, or failed
          // for good when its data cannot be stored.
          if (!result.ok) {
            if (ports.failures.isPermanent(result.error)) {
              throw unrecoverable('The job holds data that cannot be stored');
            }
            throw result.error;
          }
          results.push(result.value);
        }
        return { payments: await paymentViews(ports, events, results, couponView) };
      }
      const outcome = await applyCouponAction(ports, data, ports.clock.now(), {
        reservationTtlMs,
        jobId: job.id,
      });
      if (outcome.ok) {
        const { policyId } = outcome.value.coupon;
        await afterCommit(ports.log, 'statistics', () => ports.statistics.changed([policyId]));
      }
      return settle(outcome, ({ coupon }) => ({ coupon: couponView(coupon) }));
    },
  };
}
