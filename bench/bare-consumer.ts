/**
 * Baseline of scenario 5: a kafkajs consumer with the payment bridge's settings (fresh group, from
 * the beginning, eachBatch, 3 partitions at once, offsets committed per batch) that only counts.
 * Env: KAFKA_BROKERS, TOPIC, GROUP, EXPECT. Prints `{"msg":"consumed",...}` with the time of the
 * group join, the first and the last message once EXPECT messages arrived (or `{"msg":"gave up"}` after 60 s), then
 * waits for SIGTERM.
 */
import { Kafka, logLevel } from 'kafkajs';

const expect = Number(process.env.EXPECT ?? 10_000);
const kafka = new Kafka({
  clientId: 'bench-bare-consumer',
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({
  groupId: process.env.GROUP ?? 'bench-bare',
  maxWaitTimeInMs: 500,
});
let count = 0;
let firstAt = 0;
let lastAt = 0;
let joinedAt = 0;
const startedAt = Date.now();
let reported = false;
const report = (msg: string) => {
  if (reported) return;
  reported = true;
  console.log(JSON.stringify({ level: 30, msg, count, startedAt, joinedAt, firstAt, lastAt }));
};

consumer.on(consumer.events.GROUP_JOIN, () => {
  joinedAt = Date.now();
});
await consumer.connect();
await consumer.subscribe({ topics: [process.env.TOPIC ?? 'bench-payments'], fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: 3,
  eachBatch: async ({ batch }) => {
    if (firstAt === 0) firstAt = Date.now();
    count += batch.messages.length;
    lastAt = Date.now();
    if (count >= expect) report('consumed');
  },
});
console.log(JSON.stringify({ level: 30, msg: 'ready' }));
const giveUp = setTimeout(() => report('gave up'), 60_000);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  clearTimeout(giveUp);
  void consumer.disconnect().finally(() => process.exit(0));
});
