import { couponView } from '../infra/db/rows.js';
import { paymentCounterKey, sharedCounter } from '../infra/metrics.js';
import { paymentsOf, usageJobSchema } from '../infra/queue/jobs.js';
import { afterCommit } from './after-commit.js';
import { applyAction } from './apply-action.js';
import { applyPaymentEvents, type PaymentResult } from './apply-payment.js';
import { createBatcher } from './batcher.js';
import type { WorkerDeps } from './deps.js';
import { parseJobData, settle } from './outcome.js';
import { paymentViews } from './payment-job.js';
import { countPaymentOutcomes } from './payment-outcomes.js';
import { startQueueWorker } from './queue-worker.js';

/** Actions hold a connection each (more only queue for the pool); payments are gathered into groups. */
const USAGE_CONCURRENCY = 200;

/** Reserve, use, release, cancel and payment events: each a locked, audited status change. */
export function startUsageWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, logger, orm, stats } = deps;
  const outcomes = sharedCounter(deps.redis, paymentCounterKey(env.QUEUE_PREFIX), logger);
  // Payment jobs commit in groups, like issuance: one transaction for every order in the group.
  const payments = createBatcher<string, PaymentResult>({
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
    run: async (orderIds) => {
      const results = await applyPaymentEvents(orm.em.fork(), [...new Set(orderIds)], new Date(), {
        logger,
      });
      countPaymentOutcomes(outcomes, results.values());
      await afterCommit(logger, 'statistics', () =>
        stats.changed([...results.values()].flatMap((r) => r.policyIds)),
      );
      return orderIds.map((id) => results.get(id) as PaymentResult);
    },
  });
  return startQueueWorker(deps, {
    queue: 'usage',
    concurrency: Math.min(env.WORKER_CONCURRENCY, USAGE_CONCURRENCY),
    process: async (job) => {
      const data = parseJobData(usageJobSchema, job.data);
      if (data.type === 'PAYMENT') {
        const events = paymentsOf(data);
        const orderIds = [...new Set(events.map(({ orderId }) => orderId))];
        const results = await Promise.all(orderIds.map((orderId) => payments.submit(orderId)));
        return { payments: await paymentViews(orm.em.fork(), events, results) };
      }
      const outcome = await applyAction(orm.em.fork(), data, new Date(), {
        reservationTtlMs: env.RESERVATION_TTL_MS,
        jobId: job.id,
      });
      if (outcome.ok) {
        const { policyId } = outcome.value.coupon;
        await afterCommit(logger, 'statistics', () => stats.changed([policyId]));
      }
      return settle(outcome, ({ coupon }) => ({ coupon: couponView(coupon) }));
    },
    afterClose: async () => {
      await payments.drain();
      await outcomes.close();
    },
  });
}
