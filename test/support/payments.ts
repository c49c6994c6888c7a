import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import type { PaymentChunk } from '../../src/app/ports.js';
import { applyPaymentEvents, type PaymentOptions } from '../../src/app/process-payments.js';
import { recordPendingPayments } from '../../src/infra/db/payment-events.js';
import { databasePorts } from '../../src/wiring/ports.js';
import type { Stack } from './stack.js';
import { ADMIN, settledJob } from './stack.js';

/** Polls a condition until it holds or the deadline passes (then fails naming what it awaited). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function testKafka(brokers: string[]) {
  return new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'test' });
}

/** Issues a coupon to `userId` and reserves it for `orderId`, through the API and the workers. */
export async function reservedCoupon(
  stack: Stack,
  policyId: string,
  userId: string,
  orderId: string,
) {
  const issued = await stack.request('POST', '/v1/issuances', ADMIN, { policyId, userId });
  const job = await settledJob(stack, issued.body.jobId);
  expect(job.state).toBe('completed');
  const couponId = job.result.coupon.id as string;
  const reserve = await stack.request('POST', `/v1/coupons/${couponId}/reserve`, ADMIN, {
    orderId,
    orderAmount: 30000,
  });
  expect((await settledJob(stack, reserve.body.jobId)).state).toBe('completed');
  return couponId;
}

export type PaymentType = import('../../src/domain/index.js').PaymentEventType;

/**
 * A payment event of `userId` (who pays: only their own coupons change) as a Kafka message. Its
 * amount is what {@link reservedCoupon}'s order costs with the default test policy's coupon (10% of
 * 30,000 off).
 */
export function paymentMessage(
  type: PaymentType,
  orderId: string,
  userId: string,
  eventId: string = randomUUID(),
  amount = 27000,
) {
  return {
    key: orderId,
    value: JSON.stringify({
      eventId,
      type,
      orderId,
      userId,
      amount,
      occurredAt: new Date().toISOString(),
    }),
  };
}

export async function sendPayments(
  producer: Producer,
  topic: string,
  messages: { key: string; value: string }[],
) {
  await producer.send({ topic, acks: -1, messages });
}

/** Total lag of a consumer group on a topic: what the bridge has not yet committed. */
export async function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [group]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map(
      (group?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    return ends.reduce(
      (sum, end) => sum + Number(end.high) - Math.max(committed.get(end.partition) ?? 0, 0),
      0,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * One chunk through the payment path without Kafka or the queue: recorded as pending as the bridge
 * records it, then its orders applied as the worker running their PAYMENT job applies them.
 */
export async function recordAndApply(
  em: EntityManager,
  chunk: PaymentChunk,
  now: Date,
  options: PaymentOptions = {},
) {
  const pending = await recordPendingPayments(em.fork(), chunk);
  const orderIds = [...new Set(pending.map(({ orderId }) => orderId))];
  return applyPaymentEvents(databasePorts({ em }), orderIds, now, options);
}
