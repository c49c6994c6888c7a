import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import { createWorkerRedis } from '../redis/connection.js';
import { QUEUE_NAMES } from './queues.js';

/** How often retention runs: rows pruned by age in days need no finer sweep. */
export const RETENTION_INTERVAL_MS = 3_600_000;
/**
 * How often a scheduler process checks that its sweeps are still scheduled in Redis (a Redis that
 * lost its data, or was flushed, keeps no repeatable job) and schedules them again.
 */
export const SCHEDULE_CHECK_MS = 5000;
/** A sweep whose last run is older than this many intervals is scheduled again. */
const OVERDUE_INTERVALS = 3;
const JOB_OPTS = { removeOnComplete: 100, removeOnFail: 100 };

/** The scheduled jobs, by name: `expire`, `payment-sweep`, `prune`. */
export type ScheduledJob = 'expire' | 'payment-sweep' | 'prune';

/** When each sweep last finished (epoch seconds), for `coupon_sweep_last_run_timestamp_seconds`. */
export const sweepLastRunKey = (prefix: string) => `${prefix}:sweeps:last-run`;
/** Each sweep's interval in seconds, for `coupon_sweep_interval_seconds`. */
export const sweepIntervalKey = (prefix: string) => `${prefix}:sweeps:interval`;

interface Schedule {
  /** The BullMQ job scheduler's id. */
  id: string;
  name: ScheduledJob;
  everyMs: number;
}

/**
 * The `scheduler` role's queue. BullMQ's job scheduler keeps one repeatable job per scheduler id
 * in Redis, so however many scheduler processes upsert it, each sweep fires once per interval; a
 * sweep that overlaps another anyway (a slow one, a manual run) takes other rows (SKIP LOCKED, or
 * the pending payment rows' locks). Every {@link SCHEDULE_CHECK_MS} each process checks that the
 * sweeps are still scheduled and on time, and schedules again any that Redis lost.
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
  const prefix = env.QUEUE_PREFIX;
  const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
  const schedules: Schedule[] = [
    { id: 'expiry', name: 'expire', everyMs: env.EXPIRY_INTERVAL_MS },
    { id: 'retention', name: 'prune', everyMs: RETENTION_INTERVAL_MS },
    { id: 'payment-sweep', name: 'payment-sweep', everyMs: env.PAYMENT_PENDING_SWEEP_MS },
  ];
  const schedule = async ({ id, name, everyMs }: Schedule) => {
    await queue.upsertJobScheduler(id, { every: everyMs }, { name, opts: JOB_OPTS });
    await connection.hset(sweepIntervalKey(prefix), name, everyMs / 1000);
  };
  for (const each of schedules) await schedule(each);

  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    async (job) => {
      const name: ScheduledJob =
        job.name === 'payment-sweep' || job.name === 'prune' ? job.name : 'expire';
      const result = await run(name);
      await connection.hset(sweepLastRunKey(prefix), name, Date.now() / 1000);
      return result;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'scheduler worker error'));

  /** Schedules again each sweep Redis has no scheduler for, or whose last run is long overdue. */
  const heal = async () => {
    const lastRuns = await connection.hgetall(sweepLastRunKey(prefix));
    for (const each of schedules) {
      const scheduled = await queue.getJobScheduler(each.id);
      const last = Number(lastRuns[each.name] ?? Number.NaN);
      const overdue = Date.now() / 1000 - last > (OVERDUE_INTERVALS * each.everyMs) / 1000;
      if (scheduled && !overdue) continue;
      await schedule(each);
      logger.warn(
        { sweep: each.name, reason: scheduled ? 'overdue' : 'missing' },
        'scheduled sweep was missing from Redis or overdue; scheduled again',
      );
    }
  };
  let healing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    healing = heal().catch((error) =>
      // Redis down: the next check tries again; the outage itself is reported elsewhere.
      logger.debug({ err: error }, 'could not check the scheduled sweeps'),
    );
  }, SCHEDULE_CHECK_MS);
  timer.unref();

  return {
    async close() {
      clearInterval(timer);
      await healing;
      await worker.close();
      await queue.close();
      await connection.quit();
    },
  };
}
