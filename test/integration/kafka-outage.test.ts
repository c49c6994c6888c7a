import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secondBroker } from '../support/kafka-broker.js';
import { testKafka, waitFor } from '../support/payments.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { uniqueName } from '../support/services.js';
import { ADMIN, createStack, policyBody, type Stack, user } from '../support/stack.js';

/**
 * The system on a broker of the test's own, which the test stops and starts: issuing goes on while
 * Kafka is down, and every coupon event written meanwhile reaches Kafka once it is back.
 */
describe('a Kafka outage while coupons are issued', () => {
  let broker: Awaited<ReturnType<typeof secondBroker>>;
  let stack: Stack;
  const processes: ServiceProcess[] = [];
  const topic = uniqueName('test.coupon-events');

  beforeAll(async () => {
    broker = await secondBroker();
    await broker.run('start');
    stack = await createStack({
      KAFKA_BROKERS: broker.address,
      KAFKA_COUPON_EVENTS_TOPIC: topic,
      KAFKA_PAYMENT_TOPIC: uniqueName('test.payments'),
    });
    const env = { ...stack.envVars, LOG_LEVEL: 'info' };
    processes.push(
      ...(await Promise.all([
        startService({ ...env, ROLES: 'worker' }),
        startService({ ...env, ROLES: 'bridge' }),
      ])),
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGTERM')));
    await stack?.close();
    await broker?.remove();
  });

  it('loses no event: every outbox event id arrives after Kafka returns', {
    timeout: 180_000,
  }, async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 1000 }),
    );
    const issue = async (from: number, count: number) => {
      const answers = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          stack.request('POST', '/v1/issuances', user(`outage-${from + i}`), {
            policyId: policy.id,
          }),
        ),
      );
      for (const res of answers) expect(res.status).toBe(202);
    };
    const db = stack.db.orm.em.getConnection();
    const coupons = async () =>
      (
        await db.execute<{ n: number }[]>(
          'select count(*)::int as n from coupons where policy_id = ?',
          [policy.id],
        )
      )[0]?.n;

    await issue(0, 50);
    await waitFor('50 coupons', async () => (await coupons()) === 50);
    await broker.run('stop');
    await issue(50, 100);
    await waitFor('150 coupons while Kafka is down', async () => (await coupons()) === 150);
    const [pending] = await db.execute<{ n: number }[]>(
      'select count(*)::int as n from outbox where published_at is null',
    );
    expect(pending?.n).toBeGreaterThan(0);

    await broker.run('start');
    // The broker answers before it serves the topic again; subscribing in between fails.
    const admin = testKafka([broker.address]).admin();
    await admin.connect();
    try {
      await waitFor('the topic served again', async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
        const partitions = metadata?.topics[0]?.partitions ?? [];
        return partitions.length > 0 && partitions.every((partition) => partition.leader >= 0);
      });
    } finally {
      await admin.disconnect();
    }
    const consumer = testKafka([broker.address]).consumer({
      groupId: uniqueName('test-reader'),
      maxWaitTimeInMs: 100,
    });
    const received = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.add(JSON.parse(message.value?.toString() ?? '{}').eventId);
        },
      });
      const written = await db.execute<{ event_id: string }[]>('select event_id from outbox');
      expect(written).toHaveLength(150);
      await waitFor(
        'every event id',
        async () => written.every((row) => received.has(row.event_id)),
        120_000,
      );
      expect(written.filter((row) => !received.has(row.event_id))).toEqual([]);
    } finally {
      await consumer.disconnect();
    }
  });
});
