import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { runChecks } from '../../src/infra/health.js';
import { createKafka, pingKafka, withAdmin } from '../../src/infra/kafka/client.js';
import { createTestDatabase, services, type TestDatabase } from '../support/services.js';

describe('GET /health and /ready', () => {
  let db: TestDatabase;
  const redis = new Redis(services().redisUrl);
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    redis.disconnect();
    await db.drop();
  });

  function appWithKafka(brokers: string[]) {
    const kafka = createKafka({ brokers, clientId: 'test' });
    return createApp({
      logger: pino({ level: 'silent' }),
      readiness: () =>
        runChecks(
          {
            postgres: () => db.orm.em.getConnection().execute('select 1'),
            redis: () => redis.ping(),
            kafka: () => pingKafka((work) => withAdmin(kafka, work)),
          },
          2000,
        ),
    });
  }

  it('answers 200 with every dependency up', async () => {
    const res = await appWithKafka(services().kafkaBrokers).request('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      checks: { postgres: 'up', redis: 'up', kafka: 'up' },
    });
  });

  it('answers 503 naming Kafka when its broker is a dead port, and health stays 200', async () => {
    const app = appWithKafka(['127.0.0.1:1']);
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      checks: Record<string, string>;
      reasons: Record<string, string>;
      error: { code: string };
    };
    expect(body.checks).toEqual({ postgres: 'up', redis: 'up', kafka: 'down' });
    expect(body.reasons.kafka).toEqual(expect.any(String));
    expect(body.error.code).toBe('UNAVAILABLE');
    expect((await app.request('/health')).status).toBe(200);
  });

  it('answers within its timeout when a dependency hangs', async () => {
    const app = createApp({
      logger: pino({ level: 'silent' }),
      readiness: () => runChecks({ postgres: () => new Promise(() => {}) }, 300),
    });
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reasons: Record<string, string> }).reasons.postgres).toMatch(
      /no answer within 300 ms/,
    );
  });

  it('answers unknown routes with the contract error body and a request id', async () => {
    const res = await appWithKafka(services().kafkaBrokers).request('/nope', {
      headers: { 'X-Request-Id': 'abc-123' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No such route' } });
  });
});
