import { type Kafka, type KafkaMessage, Partitioners } from 'kafkajs';
import pg from 'pg';
import type { Orm } from '../../src/infra/db/orm.js';
import { startPaymentBridge } from '../../src/wiring/payment-bridge.js';
import { eachStoredMessageOnce } from './kafka-reader.js';
import { capturedLogger } from './logger.js';
import { uniqueName } from './services.js';
import { createStack } from './stack.js';

/** Reads every message stored on `topic` (each once) into `messages` until stopped. */
export async function topicReader(kafka: Kafka, topic: string) {
  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: eachStoredMessageOnce(({ message }) => {
      messages.push(message);
    }),
  });
  return { messages, stop: () => consumer.disconnect() };
}

export const header = (message: KafkaMessage | undefined, name: string) =>
  message?.headers?.[name]?.toString();

/** Coupons written straight into a test database: a policy, and coupons RESERVED for an order. */
export async function couponRows(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const {
    rows: [policy],
  } = await client.query<{ id: string }>(
    `insert into coupon_policies (id, name, discount_type, discount_value, max_discount_amount,
                                  issue_type, total_quantity, per_user_limit, valid_from, valid_until)
     values (gen_random_uuid(), 'payments', 'PERCENTAGE', 10, 5000, 'DIRECT', 100000, 100000,
             now() - interval '1 hour', now() + interval '7 days')
     returning id`,
  );
  return {
    client,
    /** A coupon of `userId` RESERVED for `orderId`; returns its id. */
    async reserved(orderId: string, userId: string): Promise<string> {
      const { rows } = await client.query<{ id: string }>(
        `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                              order_id, reserved_at, discount_amount, issue_job_id)
         values (gen_random_uuid(), $1, $2,
                 (select coalesce(max(user_slot), 0) + 1 from coupons
                   where policy_id = $1 and user_id = $2),
                 'RESERVED', now(), now() + interval '7 days', $3,
                 now(), 1000, gen_random_uuid()::text)
         returning id`,
        [policy?.id, userId, orderId],
      );
      return rows[0]?.id as string;
    },
    async statuses(ids: string[]): Promise<string[]> {
      const { rows } = await client.query<{ status: string }>(
        'select status from coupons c join unnest($1::uuid[]) with ordinality u(id, n) using (id) order by n',
        [ids],
      );
      return rows.map((row) => row.status);
    },
    close: () => client.end(),
  };
}

/**
 * What a payment-bridge test runs against: the real usage workers on a database of its own (the
 * stack; its API is not used), the coupon rows, and a Kafka admin and producer. `startBridge`
 * runs a payment bridge on a topic with its log captured and its DLQ read. `close()` runs the
 * test's own closers (newest first), deletes `topics` and stops the rest.
 */
export async function bridgeHarness(kafka: Kafka) {
  const stack = await createStack();
  stack.startWorkers();
  const rows = await couponRows(stack.db.url);
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  const topics: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  return {
    stack,
    db: stack.db,
    rows,
    admin,
    producer,
    topics,
    closers,
    async startBridge(topic: string, orm: Orm = stack.db.orm) {
      const { logger, lines } = capturedLogger();
      const bridge = await startPaymentBridge({
        kafka,
        orm,
        usageQueue: stack.queues.usage,
        topic,
        groupId: uniqueName('test-bridge'),
        logger,
      });
      closers.push(() => bridge.close());
      const dlq = await topicReader(kafka, `${topic}.dlq`);
      closers.push(dlq.stop);
      return { bridge, lines, dlq };
    },
    async close() {
      for (const close of closers.reverse()) await close();
      await producer.disconnect();
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
      await rows.close();
      await stack.close();
    },
  };
}
