#!/usr/bin/env node
// Is a Kafka broker really serving? Connects a kafkajs admin client and asks
// for metadata (listTopics) — an open port alone is not enough.
//
//   node scripts/kafka-ready.mjs [broker=127.0.0.1:9092] [timeoutSeconds=5]
//
// Exit 0: the broker answered. Exit 1: it did not within the timeout (the
// reason goes to stderr). Exit 2: kafkajs is not installed (run `npm ci`).
// Used by scripts/kafka.sh; one attempt per call, the caller loops.

const broker = process.argv[2] ?? '127.0.0.1:9092';
const timeoutS = Number(process.argv[3] ?? '5');

if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
  process.stderr.write(`kafka-ready: bad timeout '${process.argv[3]}'\n`);
  process.exit(1);
}
const timeoutMs = Math.round(timeoutS * 1000);

// Hard bound, whatever kafkajs does internally.
const timer = setTimeout(() => {
  process.stderr.write(`kafka-ready: ${broker}: no metadata answer within ${timeoutS}s\n`);
  process.exit(1);
}, timeoutMs);

let Kafka;
let logLevel;
try {
  ({ Kafka, logLevel } = await import('kafkajs'));
} catch (err) {
  process.stderr.write(`kafka-ready: cannot load kafkajs (run npm ci): ${err.message}\n`);
  process.exit(2);
}

const kafka = new Kafka({
  clientId: 'kafka-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: Math.min(timeoutMs, 3000),
  requestTimeout: Math.min(timeoutMs, 5000),
  retry: { retries: 0 },
});
const admin = kafka.admin();

try {
  await admin.connect();
  await admin.listTopics();
  clearTimeout(timer);
  await admin.disconnect().catch(() => {});
  process.exit(0);
} catch (err) {
  process.stderr.write(`kafka-ready: ${broker}: ${err.name ?? 'Error'}: ${err.message}\n`);
  await admin.disconnect().catch(() => {});
  process.exit(1);
}
