import { Queue, Worker } from 'bullmq';
import { type Fence, inFencedTransaction } from '../infra/db/fence.js';
import {
  type CircuitStateName,
  createPaymentServiceClient,
  type PaymentServiceObserver,
  redisPaymentServiceObserver,
} from '../infra/payment-service.js';
import { QUEUE_NAMES } from '../infra/queue/queues.js';
import { createWorkerRedis } from '../infra/redis/connection.js';
import { RedisDistributedLock } from '../infra/redis/redis-lock.js';
import { afterCommit } from './after-commit.js';
import type { WorkerDeps } from './deps.js';
import { expireCoupons } from './expire-coupons.js';
import { underLock } from './locked.js';
import { pruneOld } from './prune.js';
import { pruneJobResults, sweepPendingPayments } from './sweep-payments.js';

const EXPIRY_SCHEDULER = 'expiry';
const PAYMENT_SWEEP_SCHEDULER = 'payment-sweep';
const RETENTION_SCHEDULER = 'retention';
/** How often retention runs: rows pruned by age in days need no finer sweep. */
export const RETENTION_INTERVAL_MS = 3_600_000;
const JOB_OPTS = { removeOnComplete: 100, removeOnFail: 100 };

/**
 * The `scheduler` role. BullMQ's job scheduler keeps one repeatable job per scheduler id in Redis,
 * so however many scheduler processes upsert it, each sweep fires once per interval; a sweep that
 * overlaps another anyway (a slow one, a manual run) takes other rows (SKIP LOCKED, or the pending
 * payment rows' locks). Expiry and retention also run under a {@link RedisDistributedLock} each,
 * their writes fenced by its token, so a stalled run that outlives its lease cannot write after
 * the run that took over.
 */
export async function startScheduler({
  env,
  logger,
  orm,
  stats,
  redis,
}: WorkerDeps): Promise<{ close(): Promise<void> }> {
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

  const paymentService = env.PAYMENT_SERVICE_URL
    ? createPaymentServiceClient({
        baseUrl: env.PAYMENT_SERVICE_URL,
        observer: loggedCircuit(redisPaymentServiceObserver(redis, env.QUEUE_PREFIX), logger),
      })
    : undefined;

  const lock = new RedisDistributedLock(redis, {
    prefix: env.QUEUE_PREFIX,
    leaseMs: env.LOCK_LEASE_MS,
    logger,
  });

  const expire = () => underLock(lock, logger, EXPIRY_SCHEDULER, (fence) => expireUnder(fence));
  async function expireUnder(fence: Fence) {
    const now = new Date();
    const result = await expireCoupons(() => orm.em.fork(), {
      now,
      ttlMs: env.RESERVATION_TTL_MS,
      batchSize: env.EXPIRY_BATCH_SIZE,
      paymentService,
      maxExtensions: env.RESERVATION_MAX_EXTENSIONS,
      fence,
    });
    await afterCommit(logger, 'statistics', () => stats.changed(result.policyIds));
    await inFencedTransaction(orm.em.fork(), fence, (tx) => pruneJobResults(tx, now));
    const { expired, released, used } = result;
    if (expired + released + used > 0) logger.info({ expired, released, used }, 'expiry sweep');
    return { expired, released, used };
  }

  async function sweepPayments() {
    const result = await sweepPendingPayments(() => orm.em.fork(), {
      now: new Date(),
      olderThanMs: env.PAYMENT_PENDING_SWEEP_MS,
      logger,
    });
    await afterCommit(logger, 'statistics', () => stats.changed(result.policyIds));
    if (result.events > 0) {
      logger.warn(
        { orders: result.orders, events: result.events },
        'pending payment events applied by the sweep (their queue jobs did not apply them)',
      );
    }
    return { orders: result.orders, events: result.events };
  }

  const prune = () =>
    underLock(lock, logger, RETENTION_SCHEDULER, async (fence) => {
      const pruned = await pruneOld(() => orm.em.fork(), {
        now: new Date(),
        outboxDays: env.OUTBOX_RETENTION_DAYS,
        paymentEventDays: env.PAYMENT_EVENT_RETENTION_DAYS,
        fence,
      });
      if (pruned.outbox + pruned.paymentEvents > 0) logger.info(pruned, 'retention sweep');
      return pruned;
    });

  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    (job) =>
      job.name === 'payment-sweep' ? sweepPayments() : job.name === 'prune' ? prune() : expire(),
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

/** Also logs each change of the breaker: an open circuit means reservations are being kept. */
function loggedCircuit(observer: PaymentServiceObserver, logger: WorkerDeps['logger']) {
  return {
    call: observer.call,
    circuit(state: CircuitStateName) {
      observer.circuit(state);
      const log = state === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ circuit: state }, 'payment service circuit breaker changed state');
    },
  } satisfies PaymentServiceObserver;
}
