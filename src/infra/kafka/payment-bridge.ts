import { type EachBatchPayload, type Kafka, type KafkaMessage, Partitioners } from 'kafkajs';
import type { Logger } from 'pino';
import { isolateFailures } from '../../app/isolate.js';
import type { PaymentChunk } from '../../app/ports.js';
import { causeOf, isOutage, OutageError } from '../failures.js';
import { consumerLag, ensureTopics } from './client.js';
import { sendDlqRecords } from './dlq.js';
import {
  type PaymentEvent,
  type PaymentMessageError,
  parsePaymentMessage,
} from './payment-event.js';

export interface PaymentBridgeOptions {
  kafka: Kafka;
  /**
   * Makes a chunk's accepted events durable (the use case `recordPaymentEvents`: pending rows in
   * PostgreSQL and a PAYMENT job, which a worker applies); throws when it cannot.
   */
  record: (chunk: PaymentChunk) => Promise<void>;
  /** Whether PostgreSQL and Redis answer now: a failure while they do not is an outage. */
  dependenciesAnswer: () => Promise<boolean>;
  /** The payment topic; refused messages go to `<topic>.dlq`. */
  topic: string;
  /** @defaultValue 'coupon-payment-bridge' */
  groupId?: string;
  logger: Logger;
  /**
   * How long recording one chunk of messages (PostgreSQL, Redis, the DLQ) may take before it counts
   * as failed and is redelivered: a Redis connection that queues commands while down would
   * otherwise hold the partition, and shutdown, for as long as the outage lasts.
   * @defaultValue 5000
   */
  effectTimeoutMs?: number;
  /**
   * Attempts of one event that keeps failing for a reason other than an outage before it goes to
   * the DLQ as `PROCESSING_FAILED`.
   * @defaultValue 3
   */
  maxAttempts?: number;
  /** Told how many messages went to the DLQ for a reason, once they are there. */
  countDlq?: (reason: DlqReason, n: number) => void;
}

export interface PaymentBridge {
  /** Stops consuming after the chunk in progress, then disconnects from Kafka. */
  close(): Promise<void>;
  /** Total lag of the group over all partitions of the topic. */
  lag(): Promise<number>;
}

/** Partitions of the topics the bridge creates, and how many it consumes at once. */
const PARTITIONS = 3;
/**
 * Messages recorded per statement and carried per PAYMENT job; bounds the work between
 * heartbeats.
 */
export const PAYMENT_CHUNK_SIZE = 2000;
/**
 * A fetch returns once it has `FETCH_MIN_BYTES` (~20 payment events) or after `FETCH_WAIT_MS`:
 * under a steady stream each chunk, and so each PAYMENT job and its transactions, carries more
 * events, and no event waits more than the wait for its fetch. With a fetch returning at the
 * first byte, 1,000 events/s became a job every few events and 2 cores ran out: produce → USED
 * p50 52–69 ms, p99 163–313 ms, against 24–26 ms and 128–220 ms like this (`npm run bench`,
 * BENCH_ONLY=5). An idle bridge polls every `FETCH_WAIT_MS`.
 */
const FETCH_MIN_BYTES = 4096;
const FETCH_WAIT_MS = 40;

/** Why a message went to the DLQ: refused as read, or given up after its attempts. */
export type DlqReason = PaymentMessageError | 'PROCESSING_FAILED';

interface Refused {
  message: KafkaMessage;
  code: DlqReason;
  reason: string;
}

interface Accepted {
  event: PaymentEvent;
  offset: string;
  message: KafkaMessage;
}

/**
 * Kafka → the usage queue for payment events. A message's offset is committed only once its effect
 * is durable: the event is a pending row in `payment_events` (once per `eventId`) and in a PAYMENT
 * job in Redis (once per job id), or the message is in the DLQ. Anything failing in between
 * throws, and kafkajs fetches again from the last resolved offset; redelivery is harmless because
 * both effects are idempotent. Partitions run concurrently, messages of one partition strictly in
 * offset order; the usage workers apply the events.
 */
export async function startPaymentBridge(options: PaymentBridgeOptions): Promise<PaymentBridge> {
  const { kafka, topic, logger } = options;
  const { effectTimeoutMs = 5000, maxAttempts = 3 } = options;
  const groupId = options.groupId ?? 'coupon-payment-bridge';
  const dlqTopic = `${topic}.dlq`;
  const log = logger.child({ component: 'payment-bridge', topic, groupId });

  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  // Disconnecting waits for the fetch in flight, a poll of up to `maxWaitTimeInMs` (default 5 s,
  // half the shutdown budget).
  const consumer = kafka.consumer({
    groupId,
    minBytes: FETCH_MIN_BYTES,
    maxWaitTimeInMs: FETCH_WAIT_MS,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: payload.error, restart: payload.restart }, 'payment consumer crashed');
  });

  /**
   * Sends `refused` to the DLQ in bounded batches; a copy the broker refuses as too large goes as a
   * smaller record (see `sendDlqRecords`). Any other failure throws: the chunk is delivered again.
   */
  async function sendToDlq(refused: Refused[], partition: number): Promise<void> {
    if (refused.length === 0) return;
    const forms = await sendDlqRecords(
      refused.map(({ message, code, reason }) => ({
        message,
        headers: {
          'x-error-code': code,
          'x-error-message': reason,
          'x-original-topic': topic,
          'x-original-partition': String(partition),
          'x-original-offset': message.offset,
        },
      })),
      (messages) => producer.send({ topic: dlqTopic, acks: -1, messages }),
    );
    const byReason = new Map<DlqReason, number>();
    for (const { code } of refused) byReason.set(code, (byReason.get(code) ?? 0) + 1);
    for (const [reason, n] of byReason) options.countDlq?.(reason, n);
    refused.forEach(({ message, code, reason }, i) => {
      const form = forms[i];
      const smaller =
        form === 'full'
          ? {}
          : { truncated: true, size: message.value?.length ?? 0, dlqRecord: form };
      log.warn(
        { partition, offset: message.offset, code, cause: reason, ...smaller },
        'payment message sent to DLQ',
      );
    });
  }

  const record = (events: Accepted[], partition: number) =>
    options.record({
      topic,
      partition,
      events: events.map(({ event, offset }) => ({ event, offset })),
    });

  /** Whether the stores answer within 2 s. */
  async function dependenciesAnswer(): Promise<boolean> {
    try {
      return await withTimeout(options.dependenciesAnswer(), 2000);
    } catch {
      return false;
    }
  }

  /**
   * Records and enqueues the accepted events; a range failing for a reason other than an outage
   * is split until the event at fault is alone, and that event goes to the DLQ after
   * `maxAttempts`. An outage throws: the chunk is delivered again, nothing skipped.
   */
  async function recordAccepted(
    accepted: Accepted[],
    partition: number,
    heartbeat: () => Promise<void>,
  ) {
    const settled = await isolateFailures(accepted, {
      run: async (range) => {
        await withTimeout(record(range, partition), effectTimeoutMs);
        await heartbeat();
        return range;
      },
      itemCaused: async (error) => !isOutage(error) && (await dependenciesAnswer()),
      // An event failing alone is tried again after a backoff, up to `maxAttempts` in all.
      again: async (item, failures) => {
        if (failures >= maxAttempts) return undefined;
        await backoff(failures);
        return item;
      },
      onFailure: (range, error, attempt) => {
        const [first] = range;
        const where =
          range.length === 1 && first
            ? {
                eventId: first.event.eventId,
                orderId: first.event.orderId,
                offset: first.offset,
                attempt,
                maxAttempts,
              }
            : { fromOffset: first?.offset, toOffset: range.at(-1)?.offset, events: range.length };
        log.warn(
          { partition, ...where, cause: causeOf(error) },
          range.length === 1
            ? 'payment event failed'
            : 'payment events failed; recording them in halves',
        );
        void heartbeat().catch(() => undefined);
      },
    });
    const givenUp = settled.flatMap((result, i) =>
      result.ok ? [] : [{ message: (accepted[i] as Accepted).message, error: result.error }],
    );
    await withTimeout(
      sendToDlq(
        givenUp.map(({ message, error }) => ({
          message,
          code: 'PROCESSING_FAILED',
          reason: causeOf(error),
        })),
        partition,
      ),
      effectTimeoutMs,
    );
  }

  async function processChunk(
    messages: KafkaMessage[],
    partition: number,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const refused: Refused[] = [];
    const accepted: Accepted[] = [];
    for (const message of messages) {
      const parsed = parsePaymentMessage(message);
      if (parsed.ok) accepted.push({ event: parsed.event, offset: message.offset, message });
      else refused.push({ message, code: parsed.code, reason: parsed.message });
    }
    await Promise.all([
      withTimeout(sendToDlq(refused, partition), effectTimeoutMs),
      recordAccepted(accepted, partition, heartbeat),
    ]);
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } =
      payload;
    for (let start = 0; start < batch.messages.length; start += PAYMENT_CHUNK_SIZE) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + PAYMENT_CHUNK_SIZE);
      const first = chunk[0]!.offset;
      const last = chunk[chunk.length - 1]!.offset;
      try {
        await processChunk(chunk, batch.partition, heartbeat);
      } catch (error) {
        const cause = causeOf(error);
        log.warn(
          { partition: batch.partition, fromOffset: first, toOffset: last, cause },
          'payment events not recorded; they will be delivered again',
        );
        // kafkajs logs what it is thrown: a short line, not a statement with its parameters.
        throw new OutageError(`payment events not recorded: ${cause}`);
      }
      resolveOffset(last);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  async function disconnect(): Promise<void> {
    await consumer.disconnect().catch((err) => log.warn({ err }, 'consumer disconnect failed'));
    await Promise.all([producer.disconnect(), admin.disconnect()]).catch((err) =>
      log.warn({ err }, 'payment bridge disconnect failed'),
    );
  }

  try {
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    await ensureTopics(
      admin,
      [topic, dlqTopic].map((name) => ({ topic: name, numPartitions: PARTITIONS })),
    );
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch,
      eachBatchAutoResolve: false,
      // With a threshold of one, `commitOffsetsIfNecessary` commits every resolved chunk at once.
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: PARTITIONS,
    });
  } catch (error) {
    await disconnect();
    throw error;
  }
  log.info('payment bridge started');

  return {
    async close() {
      await disconnect();
      log.info('payment bridge stopped');
    },
    lag: () => consumerLag(admin, groupId, topic),
  };
}

/** The wait before an event that failed alone is tried again: 100 ms, then doubling. */
const backoff = (failures: number) =>
  new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (failures - 1)));

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutageError(`not durable within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
