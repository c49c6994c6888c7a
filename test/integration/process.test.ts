import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, serviceEnv, startService } from '../support/process.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

describe('the program', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('runs every role, is ready on the real services, and stops on SIGTERM within 10 s', async () => {
    const service = await startService({
      ...serviceEnv({ ...services(), databaseUrl: db.url }),
      QUEUE_PREFIX: uniqueName('test'),
      ROLES: 'all',
    });
    try {
      expect(service.baseUrl).toBeDefined();
      const health = await fetch(`${service.baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${service.baseUrl}/ready`);
      expect(await ready.json()).toEqual({
        status: 'ok',
        checks: { postgres: 'up', redis: 'up', kafka: 'up' },
      });
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-request-id')).toBeTruthy();
      expect(ready.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      const started = Date.now();
      const code = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it.each([
    ['PORT', 'not-a-port'],
    ['KAFKA_BROKERS', 'no-port-here'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['ROLES', 'api,cashier'],
  ])('refuses to start when %s is %s, naming the variable in one line', async (name, value) => {
    const { code, output } = await runToExit({ ...serviceEnv(services()), [name]: value });
    expect(code).not.toBe(0);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain(`Invalid environment variable ${name}:`);
  });

  it('refuses the development secrets in production', async () => {
    const { code, output } = await runToExit({ ...serviceEnv(services()), NODE_ENV: 'production' });
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /Invalid environment variable (JWT_SECRET|CODE_HASH_SECRET|ADMIN_PASSWORD):/,
    );
  });
});
