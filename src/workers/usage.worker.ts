import { couponView } from '../infra/db/rows.js';
import { paymentCounterKey, sharedCounter } from '../infra/metrics.js';
import { paymentsOf, usageJobSchema } from '../infra/queue/jobs.js';
import { afterCommit } from './after-commit.js';
import { applyAction } from './apply-action.js';
import { applyPaymentEvents } from './apply-payment.js';
import type { WorkerDeps } from './deps.js';
import { parseJobData, settle } from './outcome.js';
import { paymentViews } from './payment-job.js';
import { countPaymentOutcomes } from './payment-outcomes.js';
import { startQueueWorker } from './queue-worker.js';

/** Actions and payment jobs hold a connection each (more only queue for the pool). */
const USAGE_CONCURRENCY = 200;

/** Reserve, use, release, cancel and payment events: each a locked, audited status change. */
export function startUsageWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, logger, orm, stats } = deps;
  const outcomes = sharedCounter(deps.redis, paymentCounterKey(env.QUEUE_PREFIX), logger);
  return startQueueWorker(deps, {
    queue: 'usage',
    concurrency: Math.min(env.WORKER_CONCURRENCY, USAGE_CONCURRENCY),
    process: async (job) => {
      const data = parseJobData(usageJobSchema, job.data);
      if (data.type === 'PAYMENT') {
        const events = paymentsOf(data);
        // A job carries a partition's chunk (up to 2,000 events): its orders commit together.
        const orderIds = [...new Set(events.map(({ orderId }) => orderId))];
        const results = await applyPaymentEvents(orm.em.fork(), orderIds, new Date(), { logger });
        countPaymentOutcomes(outcomes, results.values());
        await afterCommit(logger, 'statistics', () =>
          stats.changed([...results.values()].flatMap((r) => r.policyIds)),
        );
        return { payments: await paymentViews(orm.em.fork(), events, [...results.values()]) };
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
    afterClose: () => outcomes.close(),
  });
}
