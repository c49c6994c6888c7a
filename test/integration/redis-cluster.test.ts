import { request as httpRequest } from 'node:http';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/infra/config/env.js';
import { enqueueOnce } from '../../src/infra/queue/enqueue.js';
import {
  IntakeRefusalLog,
  newIntakeRefusalJobId,
  readIntakeRefusal,
} from '../../src/infra/queue/intake-refusals.js';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import {
  createClientRedis,
  type RedisClient,
  waitForRedis,
} from '../../src/infra/redis/connection.js';
import { RedisDistributedLock } from '../../src/infra/redis/redis-lock.js';
import { markSoldOut, SoldOutGate } from '../../src/infra/redis/sold-out.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { httpCaller, settledOverHttp } from '../support/http.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/services.js';
import { ADMIN, policyBody, testServiceEnv, user } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/**
 * The service on a real three-master Redis Cluster: every Redis use goes through the cluster client
 * (REDIS_URL points nowhere), the flash sale's quota holds exactly through two worker processes,
 * and API processes share one rate limit.
 */
describe('on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let db: TestDatabase;
  const running: ServiceProcess[] = [];
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.stop('SIGTERM')));
    await Promise.all(clients.splice(0).map((client) => client.quit()));
  });
  afterAll(async () => {
    await db?.drop();
    await cluster?.stop();
  });

  /** The service's environment on the cluster, with a queue prefix (a hash tag) of its own. */
  const clusterEnv = (overrides: Record<string, string> = {}) =>
    testServiceEnv(db.url, {
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      // Nothing listens there: a client made from it fails every command.
      REDIS_URL: 'redis://127.0.0.1:1',
      JOB_BACKOFF_MS: '50',
      ...overrides,
    });

  async function start(env: Record<string, string>, roles: string, extra = {}) {
    const service = await startService({ ...env, ROLES: roles, LOG_LEVEL: 'info', ...extra });
    running.push(service);
    return service;
  }

  async function client(env: Record<string, string>) {
    const redis = createClientRedis(parseEnv(env));
    clients.push(redis);
    await waitForRedis(redis);
    return redis;
  }

  it('keeps the keys of the service in the slot of its prefix, and multi-key commands work there', async () => {
    const env = parseEnv(clusterEnv());
    const redis = await client(clusterEnv());
    const prefix = env.QUEUE_PREFIX;
    const policies = Array.from({ length: 5 }, () => uniqueName('policy'));

    const stats = new StatsCache(redis, prefix);
    await stats.changed(policies);
    expect(await stats.read(policies[0] as string, async () => ({ issued: 3 }))).toEqual({
      issued: 3,
    });
    expect(await stats.read(policies[0] as string, async () => null)).toEqual({ issued: 3 });

    const until = new Date(Date.now() + 60_000);
    await markSoldOut(
      redis,
      prefix,
      policies.map((id) => ({ id, validUntil: until })),
    );
    const gate = new SoldOutGate(redis, prefix);
    for (const id of policies) expect(await gate.soldOut(id)).toBe(true);

    const refusals = new IntakeRefusalLog(redis, prefix);
    const jobId = newIntakeRefusalJobId();
    await refusals.record({ jobId, actor: 'u1', code: 'QUOTA_EXHAUSTED', message: 'm', at: 1 });
    expect((await readIntakeRefusal(redis, prefix, jobId))?.code).toBe('QUOTA_EXHAUSTED');

    const lock = new RedisDistributedLock(redis, {
      prefix,
      leaseMs: 5000,
      logger: pino({ level: 'silent' }),
    });
    const lease = await lock.acquire('expiry');
    expect(lease?.token).toBe(1);
    expect(await lock.acquire('expiry')).toBeNull();
    expect(await lease?.renew()).toBe(true);
    expect(await lease?.release()).toBe(true);
    await lock.raiseTokens('expiry', 10);
    expect((await lock.acquire('expiry'))?.token).toBe(11);

    const queue = new Queue(QUEUE_NAMES.usage, { connection: redis, prefix });
    const request = { orderId: 'o-1' };
    const enqueue = () =>
      enqueueOnce({
        queue,
        redis,
        keyPrefix: prefix,
        idPrefix: 'use_',
        actor: 'u1',
        idempotencyKey: 'k-1',
        data: request,
        request,
        secret: env.CODE_HASH_SECRET,
      });
    const first = await enqueue();
    expect(await enqueue()).toEqual(first);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    await queue.close();

    // Every key written above hashes to the prefix's slot: the master owning it holds them all.
    const slot = (
      await cluster.cli(cluster.nodes[0] as string, 'cluster', 'keyslot', prefix)
    ).trim();
    const inSlot = await Promise.all(
      cluster.nodes.map(async (node) => ({
        inSlot: Number(await cluster.cli(node, 'cluster', 'countkeysinslot', slot)),
        all: Number(await cluster.cli(node, 'dbsize')),
      })),
    );
    const owner = inSlot.find((node) => node.inSlot > 0);
    expect(owner?.inSlot).toBeGreaterThanOrEqual(policies.length * 2 + 5);
    expect(inSlot.reduce((sum, node) => sum + node.all, 0)).toBe(owner?.inSlot);
    expect(await redis.ping()).toBe('PONG');
  });

  it('issues exactly 50 of 50 to 200 users at once, through two worker processes', async () => {
    const env = clusterEnv();
    const api = await start(env, 'api');
    await Promise.all([start(env, 'worker'), start(env, 'worker')]);
    const call = httpCaller(api.baseUrl ?? '');

    const ready = await fetch(`${api.baseUrl}/ready`);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'up' } });
    const policy = await call('POST', '/v1/policies', ADMIN, policyBody({ totalQuantity: 50 }));
    expect(policy.status).toBe(201);
    const policyId = policy.body.id;

    const users = Array.from({ length: 200 }, (_, i) => `cluster-user-${i}`);
    const jobs = await Promise.all(
      users.map(async (sub) => {
        const res = await call('POST', '/v1/issuances', user(sub), { policyId });
        expect(res.status).toBe(202);
        return { sub, statusUrl: res.body.statusUrl };
      }),
    );

    // Polled one after another: by the time the first has settled, most of the others have too.
    const outcomes: string[] = [];
    for (const { sub, statusUrl } of jobs) {
      const job = await settledOverHttp(call, statusUrl, user(sub), 90_000);
      outcomes.push(job.state === 'completed' ? 'ISSUED' : (job.error?.code ?? 'unknown'));
    }
    const counts: Record<string, number> = {};
    for (const code of outcomes) counts[code] = (counts[code] ?? 0) + 1;
    expect(counts).toEqual({ ISSUED: 50, QUOTA_EXHAUSTED: 150 });

    const [row] = await db.orm.em
      .getConnection()
      .execute<{ coupons: number; users: number; issued: number }[]>(
        `select (select count(*)::int from coupons where policy_id = ?) as coupons,
                (select count(distinct user_id)::int from coupons where policy_id = ?) as users,
                (select issued_count from coupon_policies where id = ?) as issued`,
        [policyId, policyId, policyId],
      );
    expect(row).toEqual({ coupons: 50, users: 50, issued: 50 });
    // The statistics come through the cache on the cluster, twice: computed, then cached.
    for (let i = 0; i < 2; i++) {
      const stats = await call('GET', `/v1/policies/${policyId}/statistics`, ADMIN);
      expect(stats.status).toBe(200);
      expect(stats.body).toMatchObject({ issuedCount: 50, remainingQuantity: 0 });
    }
  });

  it('shares one rate limit between two API processes', async () => {
    const env = clusterEnv({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    const api = await start(env, 'api', { API_PROCESSES: '2' });
    // The first api process's `started` ends startService; wait for both to listen.
    const deadline = Date.now() + 15_000;
    while (!api.logs.some((line) => line.includes('"msg":"api processes listening"'))) {
      expect(Date.now(), 'both api processes listening').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const headers = await authHeaders(uniqueName('limited'), 'user');
    const url = new URL('/v1/coupons', api.baseUrl);
    // A new connection per request, so node:cluster hands them to both API processes in turn.
    const get = () =>
      new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
        const req = httpRequest(url, { headers, agent: false }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'] as string | undefined,
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await get());
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.slice(5).every((a) => a.status === 429)).toBe(true);
    expect(Number(answers[5]?.retryAfter)).toBeGreaterThanOrEqual(1);
    // Both API processes answered: each counted against the same limit, not a limit of its own.
    const servedBy = async () => {
      const pids = new Set<number>();
      for (const line of api.logs) {
        if (!line.includes('"msg":"request"')) continue;
        const entry = JSON.parse(line) as { pid: number; path: string };
        if (entry.path === '/v1/coupons') pids.add(entry.pid);
      }
      return pids;
    };
    const logged = Date.now() + 5000;
    while ((await servedBy()).size < 2 && Date.now() < logged) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect([...(await servedBy())]).toHaveLength(2);
  });
});
