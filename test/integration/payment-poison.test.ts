import { randomUUID } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrm, type Orm } from '../../src/infra/db/orm.js';
import { createKafka } from '../../src/infra/kafka/client.js';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';
import { bridgeHarness, type couponRows, header } from '../support/bridge.js';
import { waitFor } from '../support/payments.js';
import { services, type TestDatabase, uniqueName } from '../support/services.js';
import { tcpProxy } from '../support/tcp-proxy.js';

/**
 * Messages that can never be applied must not hold their partition: on the real broker and
 * database, each reaches `<topic>.dlq` with the reason and where it came from, and the valid
 * events queued behind it on the same partition are applied.
 */
describe('the payment bridge and messages it cannot apply', () => {
  const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: uniqueName('test') });
  let harness: Awaited<ReturnType<typeof bridgeHarness>>;
  let db: TestDatabase;
  let rows: Awaited<ReturnType<typeof couponRows>>;
  let producer: Producer;
  /** Topics to delete and what each test started, stopped after the file (newest first). */
  let topics: string[];
  let closers: (() => Promise<unknown>)[];

  beforeAll(async () => {
    harness = await bridgeHarness(kafka);
    ({ db, rows, producer, topics, closers } = harness);
  });
  afterAll(() => harness?.close());

  /** A bridge on a fresh topic that records and applies each chunk itself, as the service runs it. */
  async function bridgeOnFreshTopic(orm: Orm = db.orm) {
    const topic = uniqueName('test.payments');
    topics.push(topic, `${topic}.dlq`);
    return { topic, ...(await harness.startBridge(topic, orm)) };
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

  it('applies the neighbours of an event PostgreSQL refuses, and sends that one to the DLQ after its attempts', async () => {
    // This test's own database refuses one order, as it would refuse data no check foresaw.
    await rows.client.query(
      `alter table payment_events
         add constraint test_refuses_poison check (order_id not like 'poison-%')`,
    );
    const { topic, bridge, lines, dlq } = await bridgeOnFreshTopic();
    const events = Array.from({ length: 20 }, (_, i) =>
      payment({ orderId: `${i === 7 ? 'poison' : 'order'}-${randomUUID().slice(0, 8)}` }),
    );
    const couponIds: string[] = [];
    for (const e of events) couponIds.push(await rows.reserved(e.orderId, e.userId));
    const poisoned = events[7] as PaymentEvent;
    await producer.send({ topic, acks: -1, messages: events.map((e) => onPartition0(e)) });

    await waitFor('the poisoned event in the DLQ', async () => dlq.messages.length >= 1, 30_000);
    await waitFor('lag 0', async () => (await bridge.lag()) === 0, 20_000);
    const expected = events.map((_, i) => (i === 7 ? 'RESERVED' : 'USED'));
    await waitFor(
      'the neighbours applied',
      async () => JSON.stringify(await rows.statuses(couponIds)) === JSON.stringify(expected),
      20_000,
    );
    expect(dlq.messages).toHaveLength(1);
    const [dead] = dlq.messages;
    expect(JSON.parse(dead?.value?.toString() ?? '{}').eventId).toBe(poisoned.eventId);
    expect(header(dead, 'x-error-code')).toBe('PROCESSING_FAILED');
    expect(header(dead, 'x-error-message')).toBe(
      '23514 new row for relation "payment_events" violates check constraint "test_refuses_poison"',
    );
    expect(header(dead, 'x-original-offset')).toBe('7');
    expect(header(dead, 'x-original-partition')).toBe('0');
    expect(header(dead, 'x-original-topic')).toBe(topic);

    // Each failed attempt of the event is one line naming it and the cause; three, then the DLQ.
    const attempts = lines.filter((line) => line.eventId === poisoned.eventId);
    expect(attempts.map((line) => line.attempt)).toEqual([1, 2, 3]);
    for (const line of attempts) {
      expect(line).toMatchObject({
        msg: 'payment event failed',
        orderId: poisoned.orderId,
        partition: 0,
        offset: '7',
        cause: header(dead, 'x-error-message'),
      });
    }
    // No line carries a statement or its parameters.
    for (const line of lines) {
      expect(JSON.stringify(line)).not.toMatch(/insert into|jsonb_to_recordset|select /i);
    }
  });

  it('retries a PostgreSQL outage without limit and sends nothing to the DLQ', async () => {
    const target = new URL(db.url);
    const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    closers.push(proxy.cut);
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const orm = await createOrm({ databaseUrl: viaProxy.toString(), poolMax: 2 });
    closers.push(() => orm.close(true));
    const { topic, bridge, lines, dlq } = await bridgeOnFreshTopic(orm);
    const event = payment();
    const couponId = await rows.reserved(event.orderId, event.userId);

    await proxy.cut();
    await producer.send({ topic, acks: -1, messages: [onPartition0(event)] });
    // More deliveries than an event that fails has attempts: an outage is not counted against it.
    await waitFor(
      'five failed deliveries',
      async () => {
        expect(dlq.messages).toEqual([]);
        return (
          lines.filter((l) => String(l.msg).startsWith('payment events not recorded')).length >= 5
        );
      },
      60_000,
    );
    expect(await bridge.lag()).toBe(1);
    expect(await rows.statuses([couponId])).toEqual(['RESERVED']);
    expect(lines.filter((line) => line.msg === 'payment event failed')).toEqual([]);

    await proxy.restore();
    await waitFor('USED', async () => (await rows.statuses([couponId]))[0] === 'USED', 60_000);
    await waitFor('lag 0', async () => (await bridge.lag()) === 0, 20_000);
    expect(dlq.messages).toEqual([]);
  }, 120_000);
});
