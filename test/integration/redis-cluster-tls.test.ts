import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, type ServiceProcess, startService } from '../support/process.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { policyBody, testServiceEnv } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/** The few fields of the API's answers this test reads. */
interface Reply {
  id: string;
  statusUrl: string;
  state: string;
}

describe('a Redis Cluster over TLS (REDIS_CLUSTER_TLS)', () => {
  let cluster: RedisCluster;
  let db: TestDatabase;
  let service: ServiceProcess | undefined;
  const env = () =>
    testServiceEnv(db.url, {
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      REDIS_CLUSTER_TLS: 'true',
      REDIS_URL: 'redis://127.0.0.1:1',
    });

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startRedisCluster({ tls: true }), createTestDatabase()]);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([cluster?.stop(), db?.drop()]);
  });

  it('runs the api and a worker on a TLS-only cluster trusted through REDIS_TLS_CA_FILE: a coupon is issued', async () => {
    service = await startService({
      ...env(),
      ROLES: 'api,worker',
      REDIS_TLS_CA_FILE: cluster.certificates?.caFile ?? '',
    });
    const call = async (
      method: string,
      path: string,
      as: [string, 'admin' | 'user'],
      body?: unknown,
    ) => {
      const res = await fetch(`${service?.baseUrl}${path}`, {
        method,
        headers: await authHeaders(...as),
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Reply };
    };
    const policy = await call('POST', '/v1/policies', ['admin-1', 'admin'], policyBody());
    expect(policy.status).toBe(201);
    const accepted = await call('POST', '/v1/issuances', ['alice', 'user'], {
      policyId: policy.body.id,
    });
    expect(accepted.status).toBe(202);
    const deadline = Date.now() + 20_000;
    let job = await call('GET', accepted.body.statusUrl, ['alice', 'user']);
    while (job.body.state !== 'completed' && job.body.state !== 'failed') {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await call('GET', accepted.body.statusUrl, ['alice', 'user']);
    }
    expect(job.body).toMatchObject({ state: 'completed' });
    const ready = await fetch(`${service.baseUrl}/ready`);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'up' } });
    expect(await service.stop()).toBe(0);
    service = undefined;
  });

  it('without the CA, stops at start-up at once with a line naming the certificate problem', async () => {
    const started = Date.now();
    const { code, output } = await runToExit({ ...env(), ROLES: 'api', LOG_LEVEL: 'info' });
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(output).toMatch(/Redis TLS connection failed: .*certificate/);
  });
});
