import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCertificateRefused, issueOneCoupon } from '../support/http.js';
import { runToExit, type ServiceProcess, startService } from '../support/process.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/services.js';
import { testServiceEnv } from '../support/stack.js';
import { startTlsRedis, type TlsRedis } from '../support/tls-redis.js';

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
    await issueOneCoupon(service.baseUrl!);

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
    await expectCertificateRefused({ ...env(), ROLES: 'all' });
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
