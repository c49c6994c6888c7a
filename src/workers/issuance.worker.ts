import { Worker } from 'bullmq';
import type { Coupon, Outcome } from '../domain/index.js';
import { couponView } from '../infra/db/rows.js';
import { type IssueJobData, issueJobSchema, type JobResult } from '../infra/queue/jobs.js';
import { QUEUE_NAMES } from '../infra/queue/queues.js';
import { createWorkerRedis } from '../infra/redis/connection.js';
import { createBatcher } from './batcher.js';
import type { WorkerDeps } from './deps.js';
import { type IssueRequest, issueBatch } from './issue-batch.js';
import { countOutcomes } from './job-metrics.js';
import { parseJobData, settle } from './outcome.js';

/**
 * The issuance worker: many jobs in flight at once (`WORKER_CONCURRENCY`), gathered into groups
 * committed in one transaction each (group commit), each job resolved with its own outcome only
 * after the commit.
 */
export function startIssuanceWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, logger, orm, stats } = deps;
  const batcher = createBatcher<IssueRequest, Outcome<Coupon>>({
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
    run: async (requests) => {
      const outcomes = await issueBatch(orm.em.fork(), requests, new Date());
      await stats.changed(
        outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value.policyId] : [])),
      );
      return outcomes;
    },
  });
  const connection = createWorkerRedis(env.REDIS_URL);
  const worker = new Worker<IssueJobData, JobResult>(
    QUEUE_NAMES.issuance,
    async (job) => {
      const data = parseJobData(issueJobSchema, job.data);
      const outcome = await batcher.submit({ jobId: job.id as string, data });
      return settle(outcome, (coupon) => ({ coupon: couponView(coupon) }));
    },
    {
      connection,
      prefix: env.QUEUE_PREFIX,
      concurrency: env.WORKER_CONCURRENCY,
      lockDuration: env.JOB_LOCK_MS,
      stalledInterval: env.JOB_LOCK_MS,
      // A crash mid-batch stalls hundreds of jobs at once; they must be retried, not failed.
      maxStalledCount: 10,
    },
  );
  countOutcomes(worker as never, deps);
  worker.on('failed', (job, error) => {
    if (error.name !== 'UnrecoverableError') {
      logger.warn(
        { jobId: job?.id, attempt: job?.attemptsMade, err: error },
        'issuance job failed',
      );
    }
  });
  worker.on('error', (error) => logger.error({ err: error }, 'issuance worker error'));
  return {
    async close() {
      await worker.close();
      await batcher.drain();
      await connection.quit();
    },
  };
}
