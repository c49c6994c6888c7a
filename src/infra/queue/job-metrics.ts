import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { countFinishedJobs } from '../metrics.js';
import type { RedisClient } from '../redis/connection.js';
import { failureCode } from './job-error.js';

/** How often a worker adds its counted outcomes to the shared counters. */
const FLUSH_MS = 200;

/**
 * Counts each job once, when it reaches its end: completed, or failed for good (a business
 * rejection, or an outage whose retries are spent). The counts are added to Redis every 200 ms and
 * when the worker closes, not once per job: a round trip per job cost a tenth of the worker's CPU.
 * Counting never fails a job; counts that cannot be written are kept for the next attempt.
 */
export function countOutcomes(
  worker: Worker,
  { redis, env, logger }: { redis: RedisClient; env: { QUEUE_PREFIX: string }; logger: Logger },
): { close(): Promise<void> } {
  let pending = new Map<string, number>();
  const add = (outcome: string) => pending.set(outcome, (pending.get(outcome) ?? 0) + 1);
  worker.on('completed', () => add('completed'));
  worker.on('failed', (job, error) => {
    const final =
      error.name === 'UnrecoverableError' || (job?.attemptsMade ?? 0) >= (job?.opts.attempts ?? 1);
    if (final) add(failureCode(error));
  });
  const flush = async () => {
    if (pending.size === 0) return;
    const counts = pending;
    pending = new Map();
    try {
      await countFinishedJobs(redis, env.QUEUE_PREFIX, worker.name, counts);
    } catch (error) {
      for (const [outcome, n] of counts) pending.set(outcome, (pending.get(outcome) ?? 0) + n);
      logger.warn({ err: error }, 'could not count job outcomes; kept for the next attempt');
    }
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
