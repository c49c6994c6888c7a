import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import type { RedisClient } from '../redis/connection.js';
import { createWorkerRedis } from '../redis/connection.js';
import { gatherSocketWrites } from '../redis/gather-socket-writes.js';
import { jobFailure } from './job-error.js';
import { countOutcomes } from './job-metrics.js';
import { QUEUE_NAMES } from './queues.js';

export interface QueueWorkerOptions {
  queue: keyof typeof QUEUE_NAMES;
  /** Jobs this process holds at once. */
  concurrency: number;
  process: (job: Job) => Promise<unknown>;
  /** Runs after the worker stopped taking jobs and finished the ones it held (e.g. drain a batcher). */
  afterClose?: () => Promise<void>;
}

/**
 * A BullMQ worker as every queue of the service runs one: its own blocking connection, stalled jobs
 * retried rather than failed (a crash mid-group stalls hundreds at once), outcomes counted for
 * `/metrics`, and failed attempts logged unless they are business rejections.
 */
export function startQueueWorker(
  deps: {
    env: Pick<Env, 'REDIS_URL' | 'QUEUE_PREFIX' | 'JOB_LOCK_MS'>;
    logger: Logger;
    /** The process's shared, fail-fast client (counters). */
    redis: RedisClient;
  },
  { queue, concurrency, process, afterClose }: QueueWorkerOptions,
): { close(): Promise<void> } {
  const { env, logger } = deps;
  const connection = createWorkerRedis(env);
  // A group's jobs finish in the same turn: their completions or failures (and the next fetches)
  // leave as one write instead of one each.
  const processCorked = async (job: Job) => {
    try {
      return await process(job);
    } catch (error) {
      throw jobFailure(error);
    } finally {
      gatherSocketWrites(connection);
    }
  };
  const worker = new Worker(QUEUE_NAMES[queue], processCorked, {
    connection,
    prefix: env.QUEUE_PREFIX,
    concurrency,
    lockDuration: env.JOB_LOCK_MS,
    stalledInterval: env.JOB_LOCK_MS,
    maxStalledCount: 10,
  });
  const outcomes = countOutcomes(worker, deps);
  worker.on('failed', (job, error) => {
    if (error.name !== 'UnrecoverableError') {
      logger.warn(
        { queue, jobId: job?.id, attempt: job?.attemptsMade, err: error },
        'job attempt failed',
      );
    }
  });
  worker.on('error', (error) => logger.error({ queue, err: error }, 'worker error'));
  return {
    async close() {
      await worker.close();
      await afterClose?.();
      await outcomes.close();
      await connection.quit();
    },
  };
}
