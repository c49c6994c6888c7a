import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { expect } from 'vitest';
import { type Env, parseEnv } from '../../src/infra/config/env.js';
import { createQueues, type Queues } from '../../src/infra/queue/queues.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { buildApi } from '../../src/wiring/api.js';
import { startWorkers } from '../../src/wiring/workers.js';
import { serviceEnv } from './process.js';
import { createTestDatabase, services, type TestDatabase, uniqueName } from './services.js';
import { authHeaders, TEST_CODE_SECRET, TEST_JWT_SECRET } from './tokens.js';

/**
 * The environment of the service on the test services: the test secrets, the database `databaseUrl`,
 * a queue prefix of its own and no rate limit; `overrides` adds or replaces.
 */
export function testServiceEnv(databaseUrl: string, overrides: Record<string, string> = {}) {
  return {
    ...serviceEnv({ ...services(), databaseUrl }),
    JWT_SECRET: TEST_JWT_SECRET,
    CODE_HASH_SECRET: TEST_CODE_SECRET,
    // A Redis Cluster hash tag, as a clustered deployment would use: every suite runs with one.
    QUEUE_PREFIX: `{${uniqueName('test')}}`,
    RATE_LIMIT_MAX: '0',
    ...overrides,
  };
}

/**
 * The API in-process (through `app.request`) on real PostgreSQL and Redis, with its own database and
 * queue prefix. Workers are started on demand: in this process, or as separate OS processes by the
 * tests that need several.
 */
export async function createStack(overrides: Record<string, string> = {}) {
  const db: TestDatabase = await createTestDatabase();
  const envVars = testServiceEnv(db.url, {
    JOB_BACKOFF_MS: '50',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
  const env: Env = parseEnv(envVars);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  const queues: Queues = createQueues(redis, env);
  const app = buildApi({
    env,
    logger,
    orm: db.orm,
    queues,
    redis,
    readiness: async () => ({ ok: true, checks: {}, reasons: {} }),
    consumerLag: async () => 0,
  });
  const closers: (() => Promise<unknown>)[] = [];

  const stack = {
    env,
    envVars,
    db,
    app,
    queues,
    redis,
    /** Starts every worker in this process (`deps` replaces some of their dependencies). */
    startWorkers(deps: { stats?: StatsCache; logger?: pino.Logger } = {}) {
      const workers = startWorkers({
        env,
        logger: deps.logger ?? logger,
        orm: db.orm,
        stats: deps.stats ?? new StatsCache(redis, env.QUEUE_PREFIX),
        redis,
      });
      closers.push(() => workers.close());
      return workers;
    },
    async request(
      method: string,
      path: string,
      as: [string, 'admin' | 'user'],
      body?: unknown,
      headers = {},
    ) {
      const res = await app.request(path, {
        method,
        headers: { ...(await authHeaders(...as)), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    /** Creates a policy as an admin, `policyBody` with `overrides`; its id. */
    async createPolicy(overrides: Parameters<typeof policyBody>[0] = {}): Promise<string> {
      const res = await stack.request('POST', '/v1/policies', ADMIN, policyBody(overrides));
      if (res.status !== 201) {
        throw new Error(`creating a policy answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
      return res.body.id as string;
    },
    async close() {
      for (const close of closers.reverse()) await close();
      await queues.close();
      const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
      redis.disconnect();
      await db.drop();
    },
  };
  return stack;
}
export type Stack = Awaited<ReturnType<typeof createStack>>;

/** Resolves when every job of the queue has finished (none waiting, active or delayed). */
export async function drained(queue: Queue, expected: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    if ((counts.completed ?? 0) + (counts.failed ?? 0) >= expected) return counts;
    if (Date.now() > deadline) {
      throw new Error(
        `queue ${queue.name} not drained in ${timeoutMs} ms: ${JSON.stringify(counts)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const ADMIN: [string, 'admin'] = ['admin-1', 'admin'];

/** Polls `GET /v1/jobs/:id` as a client would, until the job is completed or failed. */
export async function settledJob(
  stack: Stack,
  jobId: string,
  as: [string, 'admin' | 'user'] = ADMIN,
) {
  for (;;) {
    const res = await stack.request('GET', `/v1/jobs/${jobId}`, as);
    expect(res.status).toBe(200);
    if (res.body.state === 'completed' || res.body.state === 'failed') return res.body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
export const user = (id: string): [string, 'user'] => [id, 'user'];

export function policyBody(overrides: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    name: 'Black Friday 10%',
    discountType: 'PERCENTAGE',
    discountValue: 10,
    maxDiscountAmount: 5000,
    minOrderAmount: 20000,
    issueType: 'DIRECT',
    totalQuantity: 100,
    perUserLimit: 1,
    validFrom: new Date(now - 3600_000).toISOString(),
    validUntil: new Date(now + 7 * 86400_000).toISOString(),
    ...overrides,
  };
}
