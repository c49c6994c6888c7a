import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Ports } from '../app/ports.js';
import {
  codeCipher,
  hashBatchCode,
  hashCode,
  hashPublicCode,
  hashTypedCode,
  newBatchCode,
  newCode,
} from '../infra/codes.js';
import { decodeKey32, type Env } from '../infra/config/env.js';
import { listAudit, writeAudit } from '../infra/db/audit.js';
import { codeBatchStore } from '../infra/db/code-batch.store.js';
import {
  couponHistory,
  couponReservations,
  findCoupon,
  listCoupons,
} from '../infra/db/coupon.reader.js';
import { couponStore } from '../infra/db/coupon.store.js';
import { issuanceStore } from '../infra/db/issuance.store.js';
import { findOrder } from '../infra/db/orders.js';
import type { Orm } from '../infra/db/orm.js';
import { recordPendingPayments } from '../infra/db/payment-events.js';
import { policyStore } from '../infra/db/policy.store.js';
import { retentionStore } from '../infra/db/retention.store.js';
import { computeStatistics } from '../infra/db/statistics.js';
import { failureKinds } from '../infra/failures.js';
import { sharedAnswer } from '../infra/health.js';
import { newId } from '../infra/ids.js';
import { bullJobQueue } from '../infra/queue/job-queue.js';
import type { Queues } from '../infra/queue/queues.js';
import { redisCodeAttempts } from '../infra/redis/code-attempts.js';
import type { RedisClient as Redis } from '../infra/redis/connection.js';
import { checkDurability } from '../infra/redis/durability.js';
import { redisIntakeGate } from '../infra/redis/intake-gate.js';
import { StatsCache } from '../infra/redis/stats-cache.js';

// A worker or scheduler process adds no jobs: its ports have no queues to add them to.
const noQueue = () => Promise.reject(new Error('this process adds no jobs'));
const noJobQueue: Ports['jobs'] = {
  enqueueIssue: noQueue,
  enqueueAction: noQueue,
  enqueuePayments: noQueue,
  enqueueCodeBatch: noQueue,
  read: noQueue,
};

/**
 * The PostgreSQL adapters: units of work and reads on forks of `orm`'s EntityManager (a fork per
 * request and per job, never the global one). Without `codeHashSecret` the policy store makes no
 * codes.
 */
export function databasePorts(
  orm: { em: EntityManager },
  codeHashSecret?: string,
  codeEncryptionKey?: string,
) {
  const fork = () => orm.em.fork();
  const key = codeEncryptionKey === undefined ? null : decodeKey32(codeEncryptionKey);
  return {
    clock: { now: () => new Date() },
    newId,
    policies: policyStore(
      fork,
      codeHashSecret === undefined
        ? undefined
        : { newCode, hash: (code) => hashCode(codeHashSecret, code) },
    ),
    codeBatches: codeBatchStore(
      fork,
      codeHashSecret === undefined || key === null
        ? undefined
        : {
            newCode: newBatchCode,
            hash: (code) => hashBatchCode(codeHashSecret, code),
            cipher: codeCipher(key),
          },
    ),
    coupons: couponStore(fork),
    couponReader: {
      find: (id) => findCoupon(fork(), id),
      list: (filter) => listCoupons(fork(), filter),
      history: (couponId, page) => couponHistory(fork(), couponId, page),
      reservations: (couponId, page) => couponReservations(fork(), couponId, page),
    },
    orders: { find: (orderId) => findOrder(fork(), orderId) },
    issuance: issuanceStore(fork),
    hashPublicCode: (typed: string) => {
      if (codeHashSecret === undefined) throw new Error('public codes need CODE_HASH_SECRET');
      return hashPublicCode(codeHashSecret, typed);
    },
    paymentEvents: { record: (chunk) => recordPendingPayments(fork(), chunk) },
    retention: retentionStore(fork),
    failures: failureKinds,
  } satisfies Partial<Ports>;
}

/** How old the answer on Redis's durability that an accepted request relies on may be. */
const DURABILITY_CHECK_MAX_AGE_MS = 1000;

/**
 * A 202 is a promise that the job survives Redis: what makes a job (an enqueue, a refusal recorded
 * at intake) first checks that Redis keeps it, and throws an outage (503) when it would not.
 */
function acceptingOnlyWhatRedisKeeps(
  ports: Pick<Ports, 'jobs' | 'intake'>,
  durable: () => Promise<void>,
): Pick<Ports, 'jobs' | 'intake'> {
  const { jobs, intake } = ports;
  const first =
    <A, R>(add: (arg: A) => Promise<R>) =>
    async (arg: A): Promise<R> => {
      await durable();
      return add(arg);
    };
  return {
    jobs: {
      ...jobs,
      enqueueIssue: first((job) => jobs.enqueueIssue(job)),
      enqueueAction: first((job) => jobs.enqueueAction(job)),
      enqueueCodeBatch: first((batch) => jobs.enqueueCodeBatch(batch)),
    },
    intake: { ...intake, refuse: first((refusal) => intake.refuse(refusal)) },
  };
}

/** The process's shared clients, from which every adapter is made. */
export interface Clients {
  env: Pick<
    Env,
    | 'QUEUE_PREFIX'
    | 'CODE_HASH_SECRET'
    | 'CODE_ENCRYPTION_KEY'
    | 'REDIS_DURABILITY'
    | 'REDIS_FSYNC'
    | 'CODE_ATTEMPT_MAX'
    | 'CODE_ATTEMPT_WINDOW_MS'
  >;
  logger: Logger;
  orm: Orm;
  redis: Redis;
  /** The queues jobs are added to; a process that adds none (a worker) has none. */
  queues?: Pick<Queues, 'issuance' | 'usage' | 'codes'> | undefined;
  /** Replaces the statistics cache (tests count its calls). */
  stats?: StatsCache;
}

/**
 * The adapters behind every port. Each database call forks MikroORM's EntityManager: a fork per
 * request and per job, never the global one.
 */
export function createPorts({ env, logger, orm, redis, queues, stats }: Clients): Ports {
  const fork = () => orm.em.fork();
  const cache = stats ?? new StatsCache(redis, env.QUEUE_PREFIX);
  const secret = env.CODE_HASH_SECRET;
  return {
    ...databasePorts(orm, secret, env.CODE_ENCRYPTION_KEY),
    statistics: {
      compute: (policyId) => computeStatistics(fork(), policyId),
      cached: (policyId, compute) => cache.read(policyId, compute),
      changed: (policyIds) => cache.changed(policyIds),
    },
    audit: {
      write: (entry) => writeAudit(fork(), entry),
      list: (page) => listAudit(fork(), page),
    },
    ...acceptingOnlyWhatRedisKeeps(
      {
        jobs: queues
          ? bullJobQueue({ queues, redis, keyPrefix: env.QUEUE_PREFIX, fingerprintSecret: secret })
          : noJobQueue,
        intake: redisIntakeGate(redis, env.QUEUE_PREFIX),
      },
      sharedAnswer(
        () => checkDurability(redis, { durability: env.REDIS_DURABILITY, fsync: env.REDIS_FSYNC }),
        DURABILITY_CHECK_MAX_AGE_MS,
      ),
    ),
    hashCode: (typed) => hashTypedCode(secret, typed),
    codeAttempts: redisCodeAttempts(redis, env.QUEUE_PREFIX, {
      max: env.CODE_ATTEMPT_MAX,
      windowMs: env.CODE_ATTEMPT_WINDOW_MS,
    }),
    log: logger,
  };
}
