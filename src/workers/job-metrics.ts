import type { Worker } from 'bullmq';
import { countFinishedJob } from '../infra/metrics.js';
import { jobError } from '../infra/queue/jobs.js';
import type { WorkerDeps } from './deps.js';

/**
 * Counts each job once, when it reaches its end: completed, or failed for good (a business
 * rejection, or an outage whose retries are spent). Counting never fails the job.
 */
export function countOutcomes(worker: Worker, { redis, env, logger }: WorkerDeps): void {
  const count = (outcome: string) =>
    countFinishedJob(redis, env.QUEUE_PREFIX, worker.name, outcome).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not count a job outcome'),
    );
  worker.on('completed', () => void count('completed'));
  worker.on('failed', (job, error) => {
    const final =
      error.name === 'UnrecoverableError' || (job?.attemptsMade ?? 0) >= (job?.opts.attempts ?? 1);
    if (final) void count(jobError(job?.failedReason).code);
  });
}
