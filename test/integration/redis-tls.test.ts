import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, type ServiceProcess, startService } from '../support/process.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/services.js';
import { policyBody, testServiceEnv } from '../support/stack.js';
import { startTlsRedis, type TlsRedis } from '../support/tls-redis.js';
import { authHeaders } from '../support/tokens.js';

/** The few fields of the API's answers this test reads. */
interface Reply {
  id: string;
  statusUrl: string;
  state: string;
}

describe('Redis over TLS (rediss://)', () => {
  let redis: TlsRedis;
  let db: TestDatabase;
  let service: ServiceProcess | undefined;
  const prefix = `{${uniqueName('tls')}}`;
  const env = () => testServiceEnv(db.url, { REDIS_URL: redis.url, QUEUE_PREFIX: prefix });

  beforeAll(async () => {
    [redis, db] = await Promise.all([startTlsRedis(), createTestDatabase()]);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([redis?.stop(), db?.drop()]);
  });

  it('runs every role on a TLS-only Redis trusted through REDIS_TLS_CA_FILE: a coupon is issued', async () => {
    service = await startService({
      ...env(),
      ROLES: 'all',
      REDIS_TLS_CA_FILE: redis.certificates.caFile,
    });
    const base = service.baseUrl!;
    const call = async (
      method: string,
      path: string,
      as: [string, 'admin' | 'user'],
      body?: unknown,
    ) => {
      const res = await fetch(`${base}${path}`, {
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
    expect(job.body).toMatchObject({
      state: 'completed',
      result: { coupon: { policyId: policy.body.id, userId: 'alice', status: 'ISSUED' } },
    });
    const ready = await fetch(`${base}/ready`);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'up' } });

    // The queue really lives on the TLS server: its keys are there, under this run's prefix.
    const client = new Redis(redis.url, {
      tls: { ca: readFileSync(redis.certificates.caFile, 'utf8') },
    });
    try {
      expect((await client.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
    expect(await service.stop()).toBe(0);
    service = undefined;
  });

  it('without the CA, stops at start-up at once with a line naming the certificate problem', async () => {
    const started = Date.now();
    const { code, output } = await runToExit({ ...env(), ROLES: 'all', LOG_LEVEL: 'info' });
    expect(code).toBe(1);
    // Not the 5 s "did not answer" wait, and not a hang: a certificate failure is final.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(output).toMatch(/Redis TLS connection failed: .*certificate/);
  });

  it('refuses a CA file that does not exist with one line naming the variable', async () => {
    const { code, output } = await runToExit({
      ...env(),
      REDIS_TLS_CA_FILE: `${redis.certificates.dir}/missing.pem`,
    });
    expect(code).toBe(78);
    expect(output.trim()).toBe(
      'Invalid environment variable REDIS_TLS_CA_FILE: must name a readable PEM file of CA certificates',
    );
  });
});
