import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import { createWorkerRedis } from '../redis/connection.js';
import { QUEUE_NAMES } from './queues.js';

const EXPIRY_SCHEDULER = 'expiry';
const PAYMENT_SWEEP_SCHEDULER = 'payment-sweep';
const RETENTION_SCHEDULER = 'retention';
/** How often retention runs: rows pruned by age in days need no finer sweep. */
export const RETENTION_INTERVAL_MS = 3_600_000;
const JOB_OPTS = { removeOnComplete: 100, removeOnFail: 100 };

/** The scheduled jobs, by name: `expire`, `payment-sweep`, `prune`. */
export type ScheduledJob = 'expire' | 'payment-sweep' | 'prune';

/**
 * The `scheduler` role's queue. BullMQ's job scheduler keeps one repeatable job per scheduler id
 * in Redis, so however many scheduler processes upsert it, each sweep fires once per interval; a
 * sweep that overlaps another anyway (a slow one, a manual run) takes other rows (SKIP LOCKED, or
 * the pending payment rows' locks).
 */
export async function startScheduledJobs({
  env,
  logger,
  run,
}: {
  env: Pick<Env, 'REDIS_URL' | 'QUEUE_PREFIX' | 'EXPIRY_INTERVAL_MS' | 'PAYMENT_PENDING_SWEEP_MS'>;
  logger: Logger;
  run: (job: ScheduledJob) => Promise<unknown>;
}): Promise<{ close(): Promise<void> }> {
  const connection = createWorkerRedis(env);
  const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: env.QUEUE_PREFIX });
  await queue.upsertJobScheduler(
    EXPIRY_SCHEDULER,
    { every: env.EXPIRY_INTERVAL_MS },
    { name: 'expire', opts: JOB_OPTS },
  );
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER,
    { every: RETENTION_INTERVAL_MS },
    { name: 'prune', opts: JOB_OPTS },
  );
  await queue.upsertJobScheduler(
    PAYMENT_SWEEP_SCHEDULER,
    { every: env.PAYMENT_PENDING_SWEEP_MS },
    { name: 'payment-sweep', opts: JOB_OPTS },
  );
  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    (job) => run(job.name === 'payment-sweep' || job.name === 'prune' ? job.name : 'expire'),
    { connection, prefix: env.QUEUE_PREFIX, concurrency: 1 },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'scheduler worker error'));
  return {
    async close() {
      await worker.close();
      await queue.close();
      await connection.quit();
    },
  };
}
