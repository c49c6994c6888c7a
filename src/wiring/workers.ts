import type { Logger } from 'pino';
import type { Env } from '../infra/config/env.js';
import type { Orm } from '../infra/db/orm.js';
import { paymentCounterKey, sharedCounter } from '../infra/metrics.js';
import {
  type CircuitStateName,
  createPaymentServiceClient,
  type PaymentServiceObserver,
  redisPaymentServiceObserver,
} from '../infra/payment-service.js';
import { startScheduledJobs } from '../infra/queue/scheduler.js';
import { startQueueWorker } from '../infra/queue/worker.js';
import type { RedisClient as Redis } from '../infra/redis/connection.js';
import { RedisDistributedLock } from '../infra/redis/redis-lock.js';
import type { StatsCache } from '../infra/redis/stats-cache.js';
import { fencedSweepLock } from '../infra/sweep-lock.js';
import { codeBatchProcessor } from '../workers/code-batch.worker.js';
import { issuanceProcessor } from '../workers/issuance.worker.js';
import { maintenanceProcessor } from '../workers/maintenance.worker.js';
import { usageProcessor } from '../workers/usage.worker.js';
import { createPorts } from './ports.js';

/** What every worker of this process is given by the composition root. */
export interface WorkerDeps {
  env: Env;
  logger: Logger;
  orm: Orm;
  /** Told after every commit that changes a policy's coupons. */
  stats?: StatsCache;
  /** The process's shared, fail-fast client (counters). */
  redis: Redis;
}

/** Actions hold a connection each (more only queue for the pool); payments are gathered into groups. */
const USAGE_CONCURRENCY = 200;

/** Code batches one worker process makes at once: each is long and keeps a connection busy. */
const CODE_BATCH_CONCURRENCY = 2;
/** Codes made and committed per transaction of a code batch. */
export const CODE_BATCH_CHUNK = 10_000;

/** Starts one BullMQ worker per queue in this process, each running its queue's processor. */
export function startWorkers(deps: WorkerDeps): { close: () => Promise<void> } {
  const { env, logger, redis } = deps;
  const ports = createPorts(deps);
  const issuance = issuanceProcessor(ports, {
    maxSize: env.ISSUE_BATCH_MAX,
    maxWaitMs: env.ISSUE_BATCH_WAIT_MS,
  });
  const paymentOutcomes = sharedCounter(redis, paymentCounterKey(env.QUEUE_PREFIX), logger);
  const usage = usageProcessor(ports, {
    reservationTtlMs: env.RESERVATION_TTL_MS,
    countPayments: (type, outcome) => paymentOutcomes.add(`${type}|${outcome}`),
  });
  const codes = codeBatchProcessor(ports, {
    chunkSize: CODE_BATCH_CHUNK,
    exportTtlHours: env.CODE_EXPORT_TTL_HOURS,
  });
  const workers = [
    startQueueWorker(deps, {
      queue: 'issuance',
      concurrency: env.WORKER_CONCURRENCY,
      process: (job) => issuance.process(job),
      afterClose: async () => {
        await issuance.drain?.();
      },
    }),
    startQueueWorker(deps, {
      queue: 'usage',
      concurrency: Math.min(env.WORKER_CONCURRENCY, USAGE_CONCURRENCY),
      process: (job) => usage.process(job),
      afterClose: () => paymentOutcomes.close(),
    }),
    startQueueWorker(deps, {
      queue: 'codes',
      concurrency: CODE_BATCH_CONCURRENCY,
      process: (job) => codes.process(job),
    }),
  ];
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}

/** The `scheduler` role: the expiry sweep, the pending-payment sweep and retention, on a schedule. */
export function startScheduler(deps: WorkerDeps): Promise<{ close(): Promise<void> }> {
  const { env, logger, redis } = deps;
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
  const run = maintenanceProcessor(
    createPorts(deps),
    fencedSweepLock(lock, logger),
    {
      reservationTtlMs: env.RESERVATION_TTL_MS,
      expiryBatchSize: env.EXPIRY_BATCH_SIZE,
      reservationMaxExtensions: env.RESERVATION_MAX_EXTENSIONS,
      paymentPendingSweepMs: env.PAYMENT_PENDING_SWEEP_MS,
      outboxRetentionDays: env.OUTBOX_RETENTION_DAYS,
      paymentEventRetentionDays: env.PAYMENT_EVENT_RETENTION_DAYS,
      paymentService,
    },
    logger,
  );
  return startScheduledJobs({ env, logger, run });
}

/** Also logs each change of the breaker: an open circuit means reservations are being kept. */
function loggedCircuit(observer: PaymentServiceObserver, logger: Logger) {
  return {
    call: observer.call,
    circuit(state: CircuitStateName) {
      observer.circuit(state);
      const log = state === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ circuit: state }, 'payment service circuit breaker changed state');
    },
  } satisfies PaymentServiceObserver;
}
