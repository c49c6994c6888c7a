import { Worker } from 'bullmq';
import { couponView } from '../infra/db/rows.js';
import { type UsageJobData, usageJobSchema } from '../infra/queue/jobs.js';
import { QUEUE_NAMES } from '../infra/queue/queues.js';
import { createWorkerRedis } from '../infra/redis/connection.js';
import { applyAction } from './apply-action.js';
import { applyPaymentEvents, type PaymentResult } from './apply-payment.js';
import { createBatcher } from './batcher.js';
import type { WorkerDeps } from './deps.js';
import { countOutcomes } from './job-metrics.js';
import { parseJobData, settle } from './outcome.js';

/** Actions hold a connection each (more only queue for the pool); payments are gathered into groups. */
const USAGE_CONCURRENCY = 200;

/** Reserve, use, release, cancel and payment events: each a locked, audited status change. */
export function startUsageWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, logger, orm, stats } = deps;
  // Payment jobs commit in groups, like issuance: one transaction for every order in the group.
  const payments = createBatcher<string, PaymentResult>({
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
    run: async (orderIds) => {
      const results = await applyPaymentEvents(orm.em.fork(), [...new Set(orderIds)], new Date());
      await stats.changed([...results.values()].flatMap((r) => r.policyIds));
      return orderIds.map((id) => results.get(id) as PaymentResult);
    },
  });
  const connection = createWorkerRedis(env.REDIS_URL);
  const worker = new Worker<UsageJobData>(
    QUEUE_NAMES.usage,
    async (job) => {
      const data = parseJobData(usageJobSchema, job.data);
      const now = new Date();
      if (data.type === 'PAYMENT') {
        const result = await payments.submit(data.orderId);
        return { coupon: null, payment: result.applied };
      }
      const outcome = await applyAction(orm.em.fork(), data, now);
      if (outcome.ok) await stats.changed([outcome.value.coupon.policyId]);
      return settle(outcome, ({ coupon }) => ({ coupon: couponView(coupon) }));
    },
    {
      connection,
      prefix: env.QUEUE_PREFIX,
      concurrency: Math.min(env.WORKER_CONCURRENCY, USAGE_CONCURRENCY),
      lockDuration: env.JOB_LOCK_MS,
      stalledInterval: env.JOB_LOCK_MS,
      maxStalledCount: 10,
    },
  );
  countOutcomes(worker as never, deps);
  worker.on('failed', (job, error) => {
    if (error.name !== 'UnrecoverableError') {
      logger.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: error }, 'usage job failed');
    }
  });
  worker.on('error', (error) => logger.error({ err: error }, 'usage worker error'));
  return {
    async close() {
      await worker.close();
      await payments.drain();
      await connection.quit();
    },
  };
}
