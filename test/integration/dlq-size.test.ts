import { createHash, randomUUID } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/infra/kafka/client.js';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';
import { bridgeHarness, type couponRows, header } from '../support/bridge.js';
import { waitFor } from '../support/payments.js';
import { services, uniqueName } from '../support/services.js';

/**
 * The size limit of the payment topic and of its DLQ (`max.message.bytes`, set on both): a message
 * the payment topic takes may no longer fit once the DLQ headers are added, and refused messages
 * that each fit may not fit in one produce.
 */
const MAX_MESSAGE_BYTES = 100_000;

/**
 * A DLQ copy Kafka refuses as too large must not hold its partition: on the real broker, with the
 * size limit set on the payment topic and its DLQ, the refused message reaches the DLQ (as a smaller
 * record when its copy does not fit) and the valid event behind it is recorded and applied.
 */
describe('the payment bridge and DLQ copies too large for Kafka', () => {
  const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: uniqueName('test') });
  let harness: Awaited<ReturnType<typeof bridgeHarness>>;
  let rows: Awaited<ReturnType<typeof couponRows>>;
  let producer: Producer;

  beforeAll(async () => {
    harness = await bridgeHarness(kafka);
    ({ rows, producer } = harness);
  });
  afterAll(() => harness?.close());

  /** A fresh payment topic and DLQ, both limited to {@link MAX_MESSAGE_BYTES}. */
  async function limitedTopic(): Promise<string> {
    const topic = uniqueName('test.payments');
    harness.topics.push(topic, `${topic}.dlq`);
    await harness.admin.createTopics({
      waitForLeaders: true,
      topics: [topic, `${topic}.dlq`].map((name) => ({
        topic: name,
        numPartitions: 3,
        configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
      })),
    });
    return topic;
  }

  const payment = (): PaymentEvent => ({
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId: `order-${randomUUID().slice(0, 8)}`,
    userId: 'alice',
    amount: 30_000,
    occurredAt: new Date().toISOString(),
  });
  const onPartition0 = (key: string, value: string): Message => ({ key, value, partition: 0 });

  /** Waits for the group's lag to be 0; on timeout, says why the bridge last failed. */
  async function lagZero(
    bridge: { lag(): Promise<number> },
    lines: Record<string, unknown>[],
  ): Promise<void> {
    await waitFor('lag 0', async () => (await bridge.lag()) === 0, 20_000).catch(async (error) => {
      const causes = new Set(
        lines
          .filter((line) => String(line.msg).startsWith('payment events not recorded'))
          .map((line) => line.cause),
      );
      throw new Error(
        `${(error as Error).message} (lag ${await bridge.lag()}); the bridge: ${[...causes].join(' | ')}`,
      );
    });
  }

  /** What the payment table holds for `topic`. */
  const recorded = async (topic: string) =>
    (
      await rows.client.query<{ event_id: string }>(
        'select event_id from payment_events where topic = $1',
        [topic],
      )
    ).rows.map((row) => row.event_id);

  it('sends a smaller record for a refused message whose copy is too large, and records the event behind it', async () => {
    const topic = await limitedTopic();
    const good = payment();
    const couponId = await rows.reserved(good.orderId, good.userId);
    // Not JSON, and as large as the payment topic takes with room for little more than its key.
    const huge = `not json ${'x'.repeat(MAX_MESSAGE_BYTES - 200)}`;
    // One send per message: both fit the topic alone, not in one batch.
    await producer.send({ topic, acks: -1, messages: [onPartition0('huge-key', huge)] });
    await producer.send({
      topic,
      acks: -1,
      messages: [onPartition0(good.orderId, JSON.stringify(good))],
    });
    const { bridge, dlq, lines } = await harness.startBridge(topic);

    await waitFor(
      'the valid event behind the large message to be recorded',
      async () => (await recorded(topic)).includes(good.eventId),
      30_000,
    );
    await waitFor('USED', async () => (await rows.statuses([couponId]))[0] === 'USED', 30_000);
    await lagZero(bridge, lines);
    await waitFor('the DLQ record', async () => dlq.messages.length >= 1, 20_000);
    expect(dlq.messages).toHaveLength(1);
    const [dead] = dlq.messages;
    const original = Buffer.from(huge);
    const sha256 = createHash('sha256').update(original).digest('hex');
    expect(dead?.key?.toString()).toBe('huge-key');
    expect(header(dead, 'x-error-code')).toBe('INVALID_JSON');
    expect(header(dead, 'x-error-message')).toMatch(/^not JSON: /);
    expect(header(dead, 'x-original-topic')).toBe(topic);
    expect(header(dead, 'x-original-partition')).toBe('0');
    expect(header(dead, 'x-original-offset')).toBe('0');
    expect(header(dead, 'x-original-size')).toBe(String(original.length));
    expect(header(dead, 'x-value-sha256')).toBe(sha256);
    const summary = JSON.parse(dead?.value?.toString() ?? '{}');
    expect(summary).toEqual({
      truncated: true,
      size: original.length,
      sha256,
      head: original.subarray(0, 1024).toString('base64'),
    });
    expect(dead?.value?.length).toBeLessThan(2000);
    expect(await recorded(topic)).toEqual([good.eventId]);
    expect(
      lines.filter((line) => String(line.msg).startsWith('payment events not recorded')),
    ).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'payment message sent to DLQ', offset: '0', truncated: true }),
    );
  }, 90_000);

  it('sends a record without the key when the key alone makes even the smaller record too large', async () => {
    const topic = await limitedTopic();
    const good = payment();
    const couponId = await rows.reserved(good.orderId, good.userId);
    const hugeKey = 'k'.repeat(MAX_MESSAGE_BYTES - 150);
    await producer.send({ topic, acks: -1, messages: [onPartition0(hugeKey, 'not json')] });
    await producer.send({
      topic,
      acks: -1,
      messages: [onPartition0(good.orderId, JSON.stringify(good))],
    });
    const { bridge, dlq, lines } = await harness.startBridge(topic);

    await waitFor('USED', async () => (await rows.statuses([couponId]))[0] === 'USED', 30_000);
    await lagZero(bridge, lines);
    await waitFor('the DLQ record', async () => dlq.messages.length >= 1, 20_000);
    expect(dlq.messages).toHaveLength(1);
    const [dead] = dlq.messages;
    expect(dead?.key).toBeNull();
    expect(header(dead, 'x-error-code')).toBe('INVALID_JSON');
    expect(header(dead, 'x-original-offset')).toBe('0');
    expect(header(dead, 'x-original-size')).toBe('8');
    expect(JSON.parse(dead?.value?.toString() ?? '{}')).toEqual({
      truncated: true,
      size: 8,
      sha256: createHash('sha256').update('not json').digest('hex'),
      head: Buffer.from('not json').toString('base64'),
      keySize: hugeKey.length,
      headersDropped: 0,
    });
  }, 90_000);

  it('sends a burst of refused messages that fit one by one but not together, in full, and records the event behind them', async () => {
    const topic = await limitedTopic();
    const good = payment();
    const couponId = await rows.reserved(good.orderId, good.userId);
    // Twenty refused messages of 30 KB under one key (one DLQ partition): 600 KB together.
    const burst = Array.from(
      { length: 20 },
      (_, i) => `{"broken": ${i}, "pad": "${'y'.repeat(30_000)}"`,
    );
    for (const value of burst) {
      await producer.send({ topic, acks: -1, messages: [onPartition0('burst', value)] });
    }
    await producer.send({
      topic,
      acks: -1,
      messages: [onPartition0(good.orderId, JSON.stringify(good))],
    });
    const { bridge, dlq, lines } = await harness.startBridge(topic);

    await waitFor(
      'the valid event behind the burst to be recorded',
      async () => (await recorded(topic)).includes(good.eventId),
      30_000,
    );
    await waitFor('USED', async () => (await rows.statuses([couponId]))[0] === 'USED', 30_000);
    await lagZero(bridge, lines);
    await waitFor('twenty DLQ records', async () => dlq.messages.length >= 20, 20_000);
    expect(dlq.messages).toHaveLength(20);
    const dead = [...dlq.messages].sort(
      (a, b) => Number(header(a, 'x-original-offset')) - Number(header(b, 'x-original-offset')),
    );
    dead.forEach((message, i) => {
      // Each fits the DLQ alone: a full copy, byte for byte.
      expect(header(message, 'x-original-offset')).toBe(String(i));
      expect(header(message, 'x-error-code')).toBe('INVALID_JSON');
      expect(header(message, 'x-original-size')).toBeUndefined();
      expect(message.key?.toString()).toBe('burst');
      expect(message.value?.toString()).toBe(burst[i]);
    });
    expect(
      lines.filter((line) => String(line.msg).startsWith('payment events not recorded')),
    ).toEqual([]);
  }, 90_000);
});
