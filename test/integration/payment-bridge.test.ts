import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { type Admin, type KafkaMessage, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/infra/kafka/client.js';
import type { PaymentBridge } from '../../src/infra/kafka/payment-bridge.js';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';
import { paymentChunkJobId, paymentJobId, type UsageJobData } from '../../src/infra/queue/jobs.js';
import { createWorkerRedis } from '../../src/infra/redis/connection.js';
import { startPaymentBridge } from '../../src/wiring/payment-bridge.js';
import { paymentsOf } from '../../src/workers/job-payloads.js';
import { eachStoredMessageOnce } from '../support/kafka-reader.js';
import { capturedLogger } from '../support/logger.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
  unreachableRedis,
} from '../support/services.js';

interface EventRow {
  event_id: string;
  order_id: string;
  event_type: string;
  user_id: string;
  amount: string;
  occurred_at: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
}

/** Polls `probe` until it returns something other than `undefined`/`false`, or fails by the deadline. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const paymentEvent = (overrides: Partial<PaymentEvent> = {}): PaymentEvent => ({
  eventId: randomUUID(),
  type: 'PAYMENT_COMPLETED',
  orderId: `order-${randomUUID().slice(0, 8)}`,
  userId: 'alice',
  amount: 42_000,
  occurredAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

describe('the payment bridge: Kafka → payment_events + usage queue', () => {
  const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: uniqueName('test') });
  const prefix = uniqueName('test');
  const connection = createWorkerRedis({ REDIS_URL: services().redisUrl });
  const topics: string[] = [];
  const queues: Queue<UsageJobData>[] = [];
  let db: TestDatabase;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = kafka.admin();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
    await admin?.disconnect();
    await Promise.all(queues.map((queue) => queue.close()));
    const keys = await connection.keys(`${prefix}:*`);
    for (let i = 0; i < keys.length; i += 1000) await connection.del(...keys.slice(i, i + 1000));
    connection.disconnect();
    await db?.drop();
  });

  /** A fresh topic, group and queue, and a way to start bridges on them (closed by the caller). */
  function setup() {
    const topic = uniqueName('test.payments');
    const groupId = uniqueName('test-bridge');
    topics.push(topic, `${topic}.dlq`);
    const usageQueue = new Queue<UsageJobData>(uniqueName('usage'), { connection, prefix });
    queues.push(usageQueue);
    const { logger, lines } = capturedLogger();
    const start = (q = usageQueue, effectTimeoutMs?: number) =>
      startPaymentBridge({
        kafka,
        orm: db.orm,
        usageQueue: q,
        topic,
        groupId,
        logger,
        effectTimeoutMs,
      });
    return { topic, groupId, usageQueue, lines, start };
  }

  /** Every PAYMENT job waiting on the queue, with the events it carries. */
  async function queuedJobs(queue: Queue<UsageJobData>) {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
    return jobs.map((job) => {
      if (job.data.type !== 'PAYMENT') throw new Error(`not a payment job: ${job.id}`);
      return { id: job.id, data: job.data, events: paymentsOf(job.data) };
    });
  }

  async function send(topic: string, messages: { key: string; value: string }[]) {
    await producer.send({ topic, messages, acks: -1 });
  }
  const asMessage = (event: PaymentEvent) => ({ key: event.orderId, value: JSON.stringify(event) });

  async function rowsOf(topic: string): Promise<EventRow[]> {
    return db.orm.em
      .fork()
      .execute<EventRow[]>(
        'select * from payment_events where topic = ? order by kafka_partition, kafka_offset',
        [topic],
      );
  }

  /** Waits until `count` events of the topic are rows and the group has committed everything. */
  async function settled(bridge: PaymentBridge, topic: string, count: number) {
    await until(`${count} rows and lag 0 on ${topic}`, async () => {
      const [row] = await db.orm.em
        .fork()
        .execute<{ n: number }[]>('select count(*)::int as n from payment_events where topic = ?', [
          topic,
        ]);
      return row?.n === count && (await bridge.lag()) === 0;
    });
    return rowsOf(topic);
  }

  it('records valid events as rows and PAYMENT jobs, commits their offsets, lag back to 0', async () => {
    const { topic, groupId, usageQueue, start } = setup();
    const bridge = await start();
    try {
      const events = Array.from({ length: 6 }, (_, i) =>
        paymentEvent({ type: i % 2 ? 'PAYMENT_FAILED' : 'PAYMENT_COMPLETED', amount: i * 1000 }),
      );
      await send(topic, events.map(asMessage));
      const rows = await settled(bridge, topic, events.length);

      for (const event of events) {
        const row = rows.find((r) => r.event_id === event.eventId);
        expect(row).toMatchObject({
          order_id: event.orderId,
          event_type: event.type,
          user_id: event.userId,
          amount: String(event.amount),
          topic,
        });
        expect(new Date(row?.occurred_at ?? 0).toISOString()).toBe(event.occurredAt);
      }
      // Each event is in a PAYMENT job (one per chunk of a partition), once, and each job's id is
      // derived from its events.
      const jobs = await queuedJobs(usageQueue);
      for (const job of jobs) {
        expect(job.data).toEqual({ type: 'PAYMENT', actor: 'system:payment', events: job.events });
        expect(job.id).toBe(paymentChunkJobId(job.events.map((e) => e.eventId)));
      }
      const queued = jobs.flatMap((job) => job.events);
      expect(queued).toHaveLength(events.length);
      expect(new Set(queued.map((e) => JSON.stringify(e)))).toEqual(
        new Set(events.map((e) => JSON.stringify({ eventId: e.eventId, orderId: e.orderId }))),
      );

      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(events.length);
      for (const { partition, high } of ends) {
        const offset = committed?.partitions.find((p) => p.partition === partition)?.offset;
        // A partition no event landed on has nothing to commit.
        expect(offset).toBe(high === '0' ? '-1' : high);
      }
    } finally {
      await bridge.close();
    }
  });

  it("puts a partition's chunk into one PAYMENT job, in offset order", async () => {
    const { topic, usageQueue, start } = setup();
    const orderId = `order-${randomUUID().slice(0, 8)}`;
    const events = Array.from({ length: 5 }, (_, i) =>
      paymentEvent({ orderId, type: i % 2 ? 'PAYMENT_CANCELLED' : 'PAYMENT_COMPLETED' }),
    );
    // Sent before the bridge starts, so its first fetch holds all five: one chunk.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await send(topic, events.map(asMessage));
    const bridge = await start();
    try {
      await settled(bridge, topic, events.length);
      const jobs = await queuedJobs(usageQueue);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.events).toEqual(events.map((e) => ({ eventId: e.eventId, orderId })));
      expect(jobs[0]?.id).toBe(paymentChunkJobId(events.map((e) => e.eventId)));
    } finally {
      await bridge.close();
    }
  });

  it('records the same eventId once: one row', async () => {
    const { topic, usageQueue, start } = setup();
    const bridge = await start();
    try {
      const event = paymentEvent();
      await send(topic, [asMessage(event)]);
      await send(topic, [asMessage(event), asMessage(event)]);
      const other = paymentEvent({ orderId: event.orderId, type: 'PAYMENT_CANCELLED' });
      await send(topic, [asMessage(other)]);
      const rows = await settled(bridge, topic, 2);
      expect(rows.map((r) => r.event_id)).toEqual([event.eventId, other.eventId]);
      // A copy of a pending event may ride again in a later chunk's job (the worker applies it
      // once, by its row); the copies delivered alone added no job of their own.
      const jobs = await queuedJobs(usageQueue);
      const queued = jobs.flatMap((job) => job.events.map((e) => e.eventId));
      expect(new Set(queued)).toEqual(new Set([event.eventId, other.eventId]));
      for (const job of jobs) {
        expect(new Set(job.events.map((e) => e.eventId)).size).toBe(job.events.length);
      }
    } finally {
      await bridge.close();
    }
  });

  it('sends non-JSON and schema-violating messages to <topic>.dlq and goes on', async () => {
    const { topic, usageQueue, start } = setup();
    const bridge = await start();
    const dlqConsumer = kafka.consumer({ groupId: uniqueName('test-dlq'), maxWaitTimeInMs: 500 });
    try {
      const key = 'order-broken';
      const notJson = '{"eventId": oops';
      const invalid = JSON.stringify({
        ...paymentEvent({ orderId: key }),
        eventId: 'not-a-uuid',
        type: 'PAYMENT_DISPUTED',
        amount: 1.5,
        userId: undefined,
      });
      const valid = paymentEvent({ orderId: key });
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { key, value: notJson, headers: { 'x-trace': 'abc' } },
          { key, value: invalid },
          asMessage(valid),
        ],
      });

      const rows = await settled(bridge, topic, 1);
      expect(rows[0]?.event_id).toBe(valid.eventId);
      expect(await usageQueue.getJob(paymentJobId(valid.eventId))).toBeDefined();

      const dead: KafkaMessage[] = [];
      await dlqConsumer.connect();
      await dlqConsumer.subscribe({ topics: [`${topic}.dlq`], fromBeginning: true });
      await dlqConsumer.run({
        eachMessage: eachStoredMessageOnce(({ message }) => {
          dead.push(message);
        }),
      });
      await until('two DLQ messages', async () => dead.length >= 2);
      expect(dead).toHaveLength(2);
      const header = (m: KafkaMessage | undefined, name: string) => m?.headers?.[name]?.toString();
      const [first, second] = dead.sort((a, b) =>
        Number(header(a, 'x-original-offset')) < Number(header(b, 'x-original-offset')) ? -1 : 1,
      );

      expect(first?.key?.toString()).toBe(key);
      expect(first?.value?.toString()).toBe(notJson);
      expect(header(first, 'x-error-code')).toBe('INVALID_JSON');
      expect(header(first, 'x-error-message')).toMatch(/^not JSON: /);
      expect(header(first, 'x-trace')).toBe('abc');
      expect(second?.key?.toString()).toBe(key);
      expect(second?.value?.toString()).toBe(invalid);
      expect(header(second, 'x-error-code')).toBe('SCHEMA_VIOLATION');
      for (const field of ['eventId', 'type', 'userId', 'amount']) {
        expect(header(second, 'x-error-message')).toContain(`${field}:`);
      }
      expect(header(second, 'x-error-message')).not.toContain('orderId');
      const partition = header(first, 'x-original-partition');
      expect(header(second, 'x-original-partition')).toBe(partition);
      expect(rows[0]?.kafka_partition).toBe(Number(partition));
      expect([header(first, 'x-original-offset'), header(second, 'x-original-offset')]).toEqual([
        String(Number(rows[0]?.kafka_offset) - 2),
        String(Number(rows[0]?.kafka_offset) - 1),
      ]);
    } finally {
      await dlqConsumer.disconnect();
      await bridge.close();
    }
  });

  it("records one order's events in offset order", async () => {
    const { topic, start } = setup();
    const bridge = await start();
    try {
      const orderId = 'order-sequence';
      const sequence = Array.from({ length: 30 }, (_, i) =>
        paymentEvent({ orderId, type: i % 2 ? 'PAYMENT_CANCELLED' : 'PAYMENT_COMPLETED' }),
      );
      const noise = Array.from({ length: 60 }, () => paymentEvent());
      // Several sends, interleaved with other orders, so the sequence spans fetches and batches.
      for (let i = 0; i < sequence.length; i += 5) {
        await send(
          topic,
          [...sequence.slice(i, i + 5), ...noise.slice(i * 2, i * 2 + 10)].map(asMessage),
        );
      }
      await settled(bridge, topic, sequence.length + noise.length);
      const rows = (await rowsOf(topic)).filter((r) => r.order_id === orderId);
      expect(rows.map((r) => r.event_id)).toEqual(sequence.map((e) => e.eventId));
      expect(rows.map((r) => r.event_type)).toEqual(sequence.map((e) => e.type));
      expect(new Set(rows.map((r) => r.kafka_partition)).size).toBe(1);
      const offsets = rows.map((r) => BigInt(r.kafka_offset));
      expect(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!)).toBe(true);
    } finally {
      await bridge.close();
    }
  });

  it('records a burst of 1,000 events and catches up to lag 0', async () => {
    const { topic, usageQueue, start } = setup();
    const bridge = await start();
    try {
      const count = 1000;
      const events = Array.from({ length: count }, (_, i) =>
        paymentEvent({ orderId: `order-${i % 250}`, amount: i }),
      );
      const started = performance.now();
      await send(topic, events.map(asMessage));
      await settled(bridge, topic, count);
      const ms = Math.round(performance.now() - started);
      console.log(`payment bridge: ${count} events recorded and committed in ${ms} ms`);
      const queued = (await queuedJobs(usageQueue)).flatMap((job) => job.events);
      expect(new Set(queued.map((e) => e.eventId))).toEqual(new Set(events.map((e) => e.eventId)));
      expect(queued).toHaveLength(count);
    } finally {
      await bridge.close();
    }
  });

  it('commits nothing while Redis is unreachable, and a restart completes the work', async () => {
    const deadRedis = unreachableRedis();
    const deadQueue = new Queue<UsageJobData>(uniqueName('usage'), {
      connection: deadRedis,
      prefix,
    });
    deadQueue.on('error', () => undefined);
    const { topic, usageQueue, lines, start } = setup();
    let broken: PaymentBridge | undefined;
    try {
      broken = await start(deadQueue, 500);
      const event = paymentEvent();
      await send(topic, [asMessage(event)]);
      await until('a warning from the bridge', async () =>
        lines.some((l) => String(l.msg).startsWith('payment events not recorded')),
      );
      // The row is written before the job is added; the offset is not committed.
      expect((await rowsOf(topic)).map((r) => r.event_id)).toEqual([event.eventId]);
      expect(await broken.lag()).toBe(1);
      // An outage is retried however often it fails: more deliveries than an event has attempts,
      // and nothing is given up to the DLQ.
      await until('four failed deliveries', async () => {
        const failed = lines.filter((l) => String(l.msg).startsWith('payment events not recorded'));
        return failed.length >= 4;
      });
      expect(lines.filter((l) => l.msg === 'payment event failed')).toEqual([]);
      expect(await broken.lag()).toBe(1);
      const dlqEnds = await admin.fetchTopicOffsets(`${topic}.dlq`);
      expect(dlqEnds.map((p) => p.high)).toEqual(dlqEnds.map(() => '0'));
      await broken.close();
      broken = undefined;

      const healthy = await start();
      try {
        await settled(healthy, topic, 1);
        const job = await usageQueue.getJob(paymentJobId(event.eventId));
        expect(job?.data.type).toBe('PAYMENT');
        if (job?.data.type === 'PAYMENT') {
          expect(paymentsOf(job.data)).toEqual([
            { eventId: event.eventId, orderId: event.orderId },
          ]);
        }
      } finally {
        await healthy.close();
      }
    } finally {
      await broken?.close();
      deadRedis.disconnect();
      await deadQueue.close().catch(() => undefined);
    }
  });
});
