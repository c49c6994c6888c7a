import { Queue, Worker } from 'bullmq';
import { QUEUE_NAMES } from '../infra/queue/queues.js';
import { createWorkerRedis } from '../infra/redis/connection.js';
import { afterCommit } from './after-commit.js';
import type { WorkerDeps } from './deps.js';
import { expireCoupons } from './expire-coupons.js';

const SCHEDULER_ID = 'expiry';

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
  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    async () => {
      const result = await expireCoupons(() => orm.em.fork(), {
        now: new Date(),
        ttlMs: env.RESERVATION_TTL_MS,
      });
      await afterCommit(logger, 'statistics', () => stats.changed(result.policyIds));
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
