import type { Coupon, Outcome } from '../domain/index.js';
import { couponView } from '../infra/db/rows.js';
import { issueJobSchema } from '../infra/queue/jobs.js';
import { markSoldOut } from '../infra/redis/sold-out.js';
import { createBatcher } from './batcher.js';
import type { WorkerDeps } from './deps.js';
import { type IssueRequest, issueBatch } from './issue-batch.js';
import { parseJobData, settle } from './outcome.js';
import { startQueueWorker } from './queue-worker.js';

/**
 * The issuance worker: many jobs in flight at once (`WORKER_CONCURRENCY`), gathered into groups
 * committed in one transaction each (group commit), each job resolved with its own outcome only
 * after the commit.
 */
export function startIssuanceWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, orm, stats, redis, logger } = deps;
  const batcher = createBatcher<IssueRequest, Outcome<Coupon>>({
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
    run: async (requests) => {
      const { outcomes, soldOut } = await issueBatch(orm.em.fork(), requests, new Date());
      await stats.changed(
        outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value.policyId] : [])),
      );
      // After the commit, and best effort: without the mark, requests just keep reaching the worker.
      await markSoldOut(redis, env.QUEUE_PREFIX, soldOut).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not mark sold-out policies'),
      );
      return outcomes;
    },
  });
  return startQueueWorker(deps, {
    queue: 'issuance',
    concurrency: env.WORKER_CONCURRENCY,
    process: async (job) => {
      const data = parseJobData(issueJobSchema, job.data);
      const outcome = await batcher.submit({
        jobId: job.id as string,
        data,
        firstRun: job.attemptsStarted <= 1,
      });
      return settle(outcome, (coupon) => ({ coupon: couponView(coupon) }));
    },
    afterClose: () => batcher.drain(),
  });
}
