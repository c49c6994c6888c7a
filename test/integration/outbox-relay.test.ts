import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Orm } from '../../src/infra/db/orm.js';
import { json, query } from '../../src/infra/db/sql.js';
import { createKafka, createTopics } from '../../src/infra/kafka/client.js';
import {
  newProducer,
  type OutboxRelay,
  startOutboxRelay,
} from '../../src/infra/kafka/outbox-relay.js';
import { secondBroker } from '../support/kafka-broker.js';
import { eachStoredMessageOnce } from '../support/kafka-reader.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

interface TestEvent {
  eventId: string;
  type: 'COUPON_ISSUED';
  couponId: string;
  policyId: string;
  userId: string;
  orderId: null;
  occurredAt: string;
  /** Position of the event among its coupon's events: the order Kafka must keep per key. */
  seq: number;
}

interface Received {
  key: string;
  eventType: string | undefined;
  event: TestEvent;
}

/** Events spread over `coupons` keys, each key's `seq` continuing where the last call left it. */
function eventMaker(coupons: number) {
  const keys = Array.from({ length: coupons }, () => randomUUID());
  const next = new Map<string, number>();
  return (count: number): TestEvent[] =>
    Array.from({ length: count }, (_, i) => {
      const couponId = keys[i % keys.length]!;
      const seq = next.get(couponId) ?? 0;
      next.set(couponId, seq + 1);
      return {
        eventId: randomUUID(),
        type: 'COUPON_ISSUED',
        couponId,
        policyId: keys[0]!,
        userId: `user-${i}`,
        orderId: null,
        occurredAt: new Date().toISOString(),
        seq,
      };
    });
}

/** As the use cases write them: ids in array order, so per key in `seq` order. */
async function insertEvents(orm: Orm, events: TestEvent[]): Promise<void> {
  await query(
    orm.em.fork(),
    `insert into outbox (event_id, event_type, message_key, payload)
     select (e->>'eventId')::uuid, e->>'type', e->>'couponId', e
       from jsonb_array_elements(?::jsonb) with ordinality as t(e, n)
      order by n`,
    [json(events)],
  );
}

/**
 * Reads the topic from the beginning into `received`, in the order each partition delivers, each
 * stored message once: a duplicate in `received` is one the topic holds.
 */
async function consume(kafka: Kafka, topic: string, received: Received[]): Promise<Consumer> {
  // A short fetch wait, else disconnecting waits out a 5 s long poll.
  const consumer = kafka.consumer({ groupId: uniqueName('test-outbox'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: eachStoredMessageOnce(({ message }) => {
      received.push({
        key: message.key?.toString() ?? '',
        eventType: message.headers?.['x-event-type']?.toString(),
        event: JSON.parse(message.value?.toString() ?? 'null'),
      });
    }),
  });
  return consumer;
}

async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Per key, the `seq` of each event's first delivery must be 0, 1, 2, … */
function expectInOrderPerKey(received: Received[]) {
  const seen = new Set<string>();
  const perKey = new Map<string, number[]>();
  for (const { key, event } of received) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    perKey.set(key, [...(perKey.get(key) ?? []), event.seq]);
  }
  for (const [key, seqs] of perKey) {
    expect(seqs, `order of key ${key}`).toEqual(seqs.map((_, i) => i));
  }
}

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const count = (msg: string) => lines.filter((line) => line.msg === msg).length;
  return { logger, count };
}

describe('outbox relay', () => {
  let db: TestDatabase;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await db.drop();
  });

  const backlog = async () => {
    const [row] = await query<{ n: number }>(
      db.orm.em.fork(),
      'select count(*)::int as n from outbox where published_at is null',
    );
    return row?.n ?? 0;
  };

  it('two relays publish 2,000 events once each, in order per key', async () => {
    const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: 'test-outbox' });
    const topic = uniqueName('test.coupon-events');
    const events = eventMaker(50)(2000);
    await insertEvents(db.orm, events);

    const { logger } = capturingLogger();
    // Unequal batches make unequal rounds, so a relay would overtake the other were nothing to
    // stop it.
    const relays: OutboxRelay[] = [100, 10].map((batchSize) =>
      startOutboxRelay({ orm: db.orm, kafka, topic, logger, batchSize }),
    );
    cleanups.push(() => Promise.all(relays.map((relay) => relay.close())));
    // The relays create the topic; subscribing before it exists races its creation.
    await waitFor('the first events published', async () => (await backlog()) < events.length);
    const received: Received[] = [];
    const consumer = await consume(kafka, topic, received);
    cleanups.push(() => consumer.disconnect());

    const ids = () => new Set(received.map((message) => message.event.eventId));
    await waitFor('2,000 distinct events', () => ids().size === events.length);
    await Promise.all(relays.map((relay) => relay.close()));

    expect(events.filter((event) => !ids().has(event.eventId))).toEqual([]);
    // Exact: the topic holds what was produced, including a duplicate not yet consumed.
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(2000);
    expect(received).toHaveLength(2000);
    expectInOrderPerKey(received);
    const sample = received[0]!;
    expect(sample.key).toBe(sample.event.couponId);
    expect(sample.eventType).toBe('COUPON_ISSUED');
    expect(sample.event).toEqual(events.find((event) => event.eventId === sample.event.eventId));
    expect(await backlog()).toBe(0);
    expect(await relays[0]!.backlog()).toBe(0);
  });

  it("the relay's producer writes each message once when a send meets partitions still electing leaders", async () => {
    // Another process creates the topic; the relay finds it listed and sends at once, while some
    // of its partitions have no leader yet. The producer retries the request whole: without
    // producer ids and sequence numbers the partitions that had taken their messages get them
    // again (before: 100 messages arrived as 127–166 in most such sends).
    const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: 'test-outbox' });
    const admin = kafka.admin();
    const producer = newProducer(kafka);
    await Promise.all([admin.connect(), producer.connect()]);
    cleanups.push(() => Promise.all([admin.disconnect(), producer.disconnect()]));
    const counts: number[] = [];
    for (let round = 0; round < 5; round++) {
      const topic = uniqueName('test.coupon-events');
      const created = createTopics(admin, [{ topic, numPartitions: 3 }]);
      await waitFor('the topic listed', async () => (await admin.listTopics()).includes(topic));
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 100 }, (_, i) => ({ key: `coupon-${i}`, value: '{}' })),
      });
      await created;
      const offsets = await admin.fetchTopicOffsets(topic);
      counts.push(offsets.reduce((sum, partition) => sum + Number(partition.high), 0));
    }
    expect(counts).toEqual([100, 100, 100, 100, 100]);
  });

  it('keeps every event through a Kafka outage and publishes it when Kafka is back', {
    timeout: 120_000,
  }, async () => {
    const broker = await secondBroker();
    cleanups.push(() => broker.remove());
    await broker.run('start');
    const kafka = createKafka({ brokers: [broker.address], clientId: 'test-outbox' });
    const topic = uniqueName('test.coupon-events');
    const { logger, count } = capturingLogger();
    const relay = startOutboxRelay({
      orm: db.orm,
      kafka,
      topic,
      logger,
      idleMs: 50,
      maxBackoffMs: 1000,
    });
    cleanups.push(() => relay.close());

    const make = eventMaker(20);
    const inserted: TestEvent[] = [];
    const insert = async (count: number) => {
      const events = make(count);
      await insertEvents(db.orm, events);
      inserted.push(...events);
    };
    await insert(100);
    await waitFor('the first events published', async () => (await relay.backlog()) === 0);

    // Writers go on during the outage, as the API does.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await insert(5);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const stopWriting = () => {
      writing = false;
      return writer;
    };
    cleanups.push(stopWriting);
    await broker.run('stop');
    const [{ maxId } = { maxId: '0' }] = await query<{ maxId: string }>(
      db.orm.em.fork(),
      'select coalesce(max(id), 0)::text as "maxId" from outbox',
    );
    const failedBefore = count('outbox relay round failed');
    await waitFor(
      'the relay to retry while Kafka is down',
      () => count('outbox relay round failed') >= failedBefore + 2,
    );
    await stopWriting();
    expect(await relay.backlog()).toBeGreaterThan(0);
    const [early] = await query<{ n: number }>(
      db.orm.em.fork(),
      'select count(*)::int as n from outbox where id > ? and published_at is not null',
      [maxId],
    );
    expect(early?.n).toBe(0);

    await broker.run('start');
    const received: Received[] = [];
    const consumer = await consume(kafka, topic, received);
    cleanups.push(() => consumer.disconnect());
    const ids = () => new Set(received.map((message) => message.event.eventId));
    await waitFor('every event after the outage', () =>
      inserted.every((event) => ids().has(event.eventId)),
    );
    await waitFor('an empty backlog', async () => (await relay.backlog()) === 0);
    expect(count('outbox relay recovered')).toBeGreaterThan(0);
    expect(inserted.filter((event) => !ids().has(event.eventId))).toEqual([]);
    expectInOrderPerKey(received);
  });
});
