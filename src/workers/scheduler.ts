import { Queue, Worker } from 'bullmq';
import { QUEUE_NAMES } from '../infra/queue/queues.js';
import { createWorkerRedis } from '../infra/redis/connection.js';
import type { WorkerDeps } from './deps.js';
import { expireCoupons } from './expire-coupons.js';
import { pruneOld } from './prune.js';

const SCHEDULER_ID = 'expiry';
const RETENTION_ID = 'retention';
/** How often retention runs: rows pruned by age in days need no finer sweep. */
export const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * The `scheduler` role. BullMQ's job scheduler keeps one repeatable job per scheduler id in Redis,
 * so however many scheduler processes upsert it, the sweep fires once per interval; a sweep that
 * overlaps another anyway (a slow one, a manual run) takes other rows (SKIP LOCKED).
 */
export async function startScheduler({
  env,
  logger,
  orm,
  stats,
}: WorkerDeps): Promise<{ close(): Promise<void> }> {
  const connection = createWorkerRedis(env.REDIS_URL);
  const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: env.QUEUE_PREFIX });
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: env.EXPIRY_INTERVAL_MS },
    { name: 'expire', opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
  await queue.upsertJobScheduler(
    RETENTION_ID,
    { every: RETENTION_INTERVAL_MS },
    { name: 'prune', opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    async (job) => {
      if (job.name === 'prune') {
        const pruned = await pruneOld(() => orm.em.fork(), {
          now: new Date(),
          outboxDays: env.OUTBOX_RETENTION_DAYS,
          paymentEventDays: env.PAYMENT_EVENT_RETENTION_DAYS,
        });
        if (pruned.outbox + pruned.paymentEvents > 0) logger.info(pruned, 'retention sweep');
        return pruned;
      }
      const result = await expireCoupons(() => orm.em.fork(), {
        now: new Date(),
        ttlMs: env.RESERVATION_TTL_MS,
      });
      await stats.changed(result.policyIds);
      if (result.expired + result.released > 0) {
        logger.info({ expired: result.expired, released: result.released }, 'expiry sweep');
      }
      return { expired: result.expired, released: result.released };
    },
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
