import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCertificateRefused, issueOneCoupon } from '../support/http.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { testServiceEnv } from '../support/stack.js';

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
    await issueOneCoupon(service.baseUrl ?? '');
    expect(await service.stop()).toBe(0);
    service = undefined;
  });

  it('without the CA, stops at start-up at once with a line naming the certificate problem', async () => {
    await expectCertificateRefused({ ...env(), ROLES: 'api' });
  });
});
