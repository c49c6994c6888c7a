import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { type Admin, type Message, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/infra/kafka/client.js';
import { startPaymentBridge } from '../../src/infra/kafka/payment-bridge.js';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';
import type { UsageJobData } from '../../src/infra/queue/jobs.js';
import { createWorkerRedis } from '../../src/infra/redis/connection.js';
import { recordAndApplyPayments } from '../../src/workers/apply-payment.js';
import { capturedLogger, couponRows, header, topicReader } from '../support/bridge.js';
import { waitFor } from '../support/payments.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

/**
 * Messages that can never be applied must not hold their partition: on the real broker and
 * database, each reaches `<topic>.dlq` with the reason and where it came from, and the valid
 * events queued behind it on the same partition are applied.
 */
describe('the payment bridge and messages it cannot apply', () => {
  const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: uniqueName('test') });
  const prefix = uniqueName('test');
  const connection = createWorkerRedis(services().redisUrl);
  const topics: string[] = [];
  /** What each test started, stopped after the file (newest first). */
  const closers: (() => Promise<unknown>)[] = [];
  let db: TestDatabase;
  let rows: Awaited<ReturnType<typeof couponRows>>;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    db = await createTestDatabase();
    rows = await couponRows(db.url);
    admin = kafka.admin();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await producer?.disconnect();
    if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
    await admin?.disconnect();
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length > 0) await connection.del(...keys);
    connection.disconnect();
    await rows?.close();
    await db?.drop();
  });

  /** A bridge on a fresh topic that records and applies each chunk itself, as the service runs it. */
  async function bridgeOnFreshTopic() {
    const topic = uniqueName('test.payments');
    topics.push(topic, `${topic}.dlq`);
    const usageQueue = new Queue<UsageJobData>(uniqueName('usage'), { connection, prefix });
    closers.push(() => usageQueue.close());
    const { logger, lines } = capturedLogger();
    const bridge = await startPaymentBridge({
      kafka,
      orm: db.orm,
      usageQueue,
      topic,
      groupId: uniqueName('test-bridge'),
      logger,
      apply: async (chunk) => {
        await recordAndApplyPayments(db.orm.em.fork(), chunk, new Date());
      },
    });
    closers.push(() => bridge.close());
    const dlq = await topicReader(kafka, `${topic}.dlq`);
    closers.push(dlq.stop);
    return { topic, bridge, lines, dlq };
  }

  const payment = (overrides: Partial<PaymentEvent> = {}): PaymentEvent => ({
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId: `order-${randomUUID().slice(0, 8)}`,
    userId: 'alice',
    amount: 30_000,
    occurredAt: new Date().toISOString(),
    ...overrides,
  });
  /** A message on partition 0, keyed by its orderId unless told otherwise. */
  const onPartition0 = (event: PaymentEvent, key: string = event.orderId): Message => ({
    key,
    value: JSON.stringify(event),
    partition: 0,
  });

  it('sends NUL, lone-surrogate and key-mismatch messages to the DLQ; the event behind them is applied', async () => {
    const { topic, bridge, dlq } = await bridgeOnFreshTopic();
    const good = payment();
    const couponId = await rows.reserved(good.orderId, good.userId);
    const nul = payment({ orderId: 'ord\u0000er' });
    const surrogate = payment({ userId: 'al\ud800ice' });
    const foreignKey = payment();
    const sent = [
      onPartition0(nul),
      onPartition0(surrogate),
      onPartition0(foreignKey, good.orderId),
      onPartition0(good),
    ];
    await producer.send({ topic, acks: -1, messages: sent });

    await waitFor(
      'the valid event to be applied',
      async () => (await rows.statuses([couponId]))[0] === 'USED',
      20_000,
    );
    await waitFor('lag 0', async () => (await bridge.lag()) === 0, 20_000);
    await waitFor('three DLQ messages', async () => dlq.messages.length >= 3, 20_000);
    expect(dlq.messages).toHaveLength(3);
    const dead = [...dlq.messages].sort(
      (a, b) => Number(header(a, 'x-original-offset')) - Number(header(b, 'x-original-offset')),
    );
    expect(dead.map((m) => header(m, 'x-error-code'))).toEqual([
      'INVALID_EVENT',
      'INVALID_EVENT',
      'KEY_MISMATCH',
    ]);
    expect(header(dead[0], 'x-error-message')).toBe('orderId: must not contain a NUL character');
    expect(header(dead[1], 'x-error-message')).toMatch(
      /^userId: must not contain a lone surrogate/,
    );
    expect(header(dead[2], 'x-error-message')).toBe('the message key is not the orderId');
    dead.forEach((message, i) => {
      expect(header(message, 'x-original-topic')).toBe(topic);
      expect(header(message, 'x-original-partition')).toBe('0');
      expect(header(message, 'x-original-offset')).toBe(String(i));
      // The original key and value, byte for byte.
      expect(message.key?.toString()).toBe(sent[i]?.key);
      expect(message.value?.toString()).toBe(sent[i]?.value);
    });
    const { rows: recorded } = await rows.client.query(
      'select event_id from payment_events where topic = $1',
      [topic],
    );
    expect(recorded).toEqual([{ event_id: good.eventId }]);
  });
});
