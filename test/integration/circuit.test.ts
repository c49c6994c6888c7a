import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { runChecks } from '../../src/infra/health.js';
import { createKafka, pingKafka, withAdmin } from '../../src/infra/kafka/client.js';
import { startOutboxRelay } from '../../src/infra/kafka/outbox-relay.js';
import { waitFor } from '../support/payments.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

describe('the circuit breaker around Kafka publishing', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.orm.em.getConnection().execute(
      `insert into outbox (event_id, event_type, message_key, payload)
       values (gen_random_uuid(), 'COUPON_ISSUED', 'k', '{}'::jsonb)`,
    );
  });
  afterAll(() => db.drop());

  it('opens while the broker cannot be reached, and /ready says so', {
    timeout: 60_000,
  }, async () => {
    const logger = pino({ level: 'silent' });
    const dead = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'test' });
    const relay = startOutboxRelay({
      orm: db.orm,
      kafka: dead,
      topic: uniqueName('test.events'),
      logger,
      maxBackoffMs: 200,
    });
    try {
      await waitFor('the circuit to open', async () => relay.circuitOpen(), 45_000);
      expect(await relay.backlog()).toBe(1);
      // The probe's own broker is healthy: the open circuit alone makes Kafka "down".
      const healthy = createKafka({ brokers: services().kafkaBrokers, clientId: 'test' });
      const app = createApp({
        logger,
        readiness: () =>
          runChecks(
            { kafka: () => pingKafka((work) => withAdmin(healthy, work), relay.circuitOpen) },
            2000,
          ),
      });
      const res = await app.request('/ready');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reasons: Record<string, string> }).reasons.kafka).toMatch(
        /circuit open/,
      );
    } finally {
      await relay.close();
    }
  });
});
