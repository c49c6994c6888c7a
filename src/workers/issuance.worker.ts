import type { Coupon, Outcome } from '../domain/index.js';
import { couponView } from '../infra/db/rows.js';
import { isDataError, isDataOrConstraintError, sqlState } from '../infra/db/sql.js';
import { issueJobSchema } from '../infra/queue/jobs.js';
import { markSoldOut } from '../infra/redis/sold-out.js';
import { createBatcher } from './batcher.js';
import type { WorkerDeps } from './deps.js';
import { runIsolating, type Settled } from './isolate.js';
import { type IssueBatchResult, type IssueRequest, issueBatch } from './issue-batch.js';
import { finalFailure, parseJobData, settle } from './outcome.js';
import { startQueueWorker } from './queue-worker.js';

/**
 * The issuance worker: many jobs in flight at once (`WORKER_CONCURRENCY`), gathered into groups
 * committed in one transaction each (group commit), each job resolved with its own outcome only
 * after the commit. A group that fails because of one job commits without it (`runIsolating`): that
 * job alone is retried or failed.
 */
export function startIssuanceWorker(deps: WorkerDeps): { close(): Promise<void> } {
  const { env, orm, stats, redis, logger } = deps;
  const batcher = createBatcher<IssueRequest, Settled<Outcome<Coupon>>>({
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
    run: async (requests) => {
      const soldOut: IssueBatchResult['soldOut'] = [];
      const settled = await runIsolating(requests, {
        run: async (part) => {
          const result = await issueBatch(orm.em.fork(), part, new Date());
          soldOut.push(...result.soldOut);
          return result.outcomes;
        },
        itemCaused: isDataOrConstraintError,
        // A job id that comes back after its Idempotency-Key record expired is new to BullMQ but
        // has its coupon already (the unique issue_job_id refused it): answered from that coupon.
        again: (request) => (request.firstRun ? { ...request, firstRun: false } : undefined),
      });
      settled.forEach((result, i) => {
        if (!result.ok) {
          logger.warn(
            { jobId: requests[i]?.jobId, sqlState: sqlState(result.error) },
            'issuance job failed alone; its group committed without it',
          );
        }
      });
      await stats.changed(
        settled.flatMap((result) =>
          result.ok && result.value.ok ? [result.value.value.policyId] : [],
        ),
      );
      // After the commit, and best effort: without the mark, requests just keep reaching the worker.
      await markSoldOut(redis, env.QUEUE_PREFIX, soldOut).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not mark sold-out policies'),
      );
      return settled;
    },
  });
  return startQueueWorker(deps, {
    queue: 'issuance',
    concurrency: env.WORKER_CONCURRENCY,
    process: async (job) => {
      const data = parseJobData(issueJobSchema, job.data);
      const result = await batcher.submit({
        jobId: job.id as string,
        data,
        firstRun: job.attemptsStarted <= 1,
      });
      if (!result.ok) {
        // Data PostgreSQL refuses stays refused: no retry can cure it.
        if (isDataError(result.error)) {
          throw finalFailure('INTERNAL', 'The job holds data that cannot be stored');
        }
        throw result.error;
      }
      return settle(result.value, (coupon) => ({ coupon: couponView(coupon) }));
    },
    afterClose: () => batcher.drain(),
  });
}
