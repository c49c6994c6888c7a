import type { EntityManager } from '@mikro-orm/postgresql';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { outboxBacklog } from '../db/outbox.js';
import { inTransaction, json, query } from '../db/sql.js';
import { ensureTopics } from './client.js';

export interface OutboxRelayOptions {
  orm: Orm;
  kafka: Kafka;
  /** The coupon events topic (`KAFKA_COUPON_EVENTS_TOPIC`). */
  topic: string;
  logger: Logger;
  /** Rows claimed, sent and marked per transaction. @defaultValue 500 */
  batchSize?: number;
  /** Poll interval while there is nothing to send. @defaultValue 100 */
  idleMs?: number;
  /** Ceiling of the exponential backoff after a failed round. @defaultValue 5000 */
  maxBackoffMs?: number;
  /** How long `close()` keeps publishing what is left. @defaultValue 2000 */
  finalFlushMs?: number;
}

export interface OutboxRelay {
  /**
   * Stops after the round in progress, then publishes what is left while Kafka answers (the
   * events of the jobs the workers finished while stopping), for at most `finalFlushMs`; rows it
   * cannot publish are left for the next start.
   */
  close(): Promise<void>;
  /** Rows not yet published. */
  backlog(): Promise<number>;
  /** True while publishing to Kafka is failing and calls are cut short. */
  circuitOpen(): boolean;
}

interface OutboxRow {
  id: string;
  event_type: string;
  message_key: string;
  payload: unknown;
}

const FIRST_BACKOFF_MS = 100;

/**
 * Claims up to `limit` unpublished rows, locked for this transaction. `skip locked` lets several
 * relays work side by side without claiming a row twice; but a relay must not overtake another on
 * the same key, so a claimed row is returned only when no earlier row of its key is still pending
 * outside this batch (locked by another relay). Those are only the pending rows below the claimed
 * ids, so the check reads about one batch per relay, not the whole backlog.
 *
 * Left to the planner. Forcing a plain index scan of the partial index `outbox_pending` (to skip
 * the dead entries a burst leaves) was tried and reverted after the two-relay test saw 2,008
 * messages for 2,000 events; it later saw 2,068 without it too: duplicates of the producer's whole-
 * request retries (see `newProducer`), or the test's reader handed messages again after its group
 * rebalanced (it now counts each stored message once) — not of the claim, as far as measured.
 */
const CLAIM = `
  with claimed as materialized (
    select id, event_type, message_key, payload from outbox
     where published_at is null
     order by id
     limit ?
       for update skip locked
  ), blocker as (
    select message_key, min(id) as id from outbox
     where published_at is null
       and id < (select max(id) from claimed)
       and id not in (select id from claimed)
     group by message_key
  )
  select c.* from claimed c left join blocker b using (message_key)
   where b.id is null or c.id < b.id
   order by c.id`;

/**
 * Publishes the outbox to Kafka, at least once and in order per key: each round claims a batch,
 * sends it with `acks: -1` and marks it published in the same transaction, so a row is marked only
 * once the broker has it, and a failed send leaves it for the next round. Kafka being down is not
 * an error at start: the relay keeps retrying with backoff while the rest of the process serves.
 */
export function startOutboxRelay({
  orm,
  kafka,
  topic,
  logger,
  batchSize = 500,
  idleMs = 100,
  maxBackoffMs = 5000,
  finalFlushMs = 2000,
}: OutboxRelayOptions): OutboxRelay {
  const log = logger.child({ component: 'outbox-relay', topic });
  let producer = newProducer(kafka);
  // Around every call to the broker: after 3 failures in a row the circuit opens and rounds fail at
  // once for 5 s instead of each waiting out Kafka's timeouts; /ready reports the open circuit.
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: 5000,
    breaker: new ConsecutiveBreaker(3),
  });
  let connected = false;
  let stopping = false;
  let wake = () => {};

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function connect(): Promise<void> {
    await producer.connect();
    const admin = kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, [{ topic }]);
    } catch (error) {
      // Not fatal: the topic may be provisioned by others, or auto-created on first send.
      log.warn({ err: error }, 'could not create the topic');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    connected = true;
  }

  /** One transaction: claim, send, mark. Returns the number of events published. */
  async function round(): Promise<number> {
    if (!connected) await breaker.execute(connect);
    return inTransaction(orm.em, async (tx: EntityManager) => {
      const rows = await query<OutboxRow>(tx, CLAIM, [batchSize]);
      if (rows.length === 0) return 0;
      // One send: messages of one key land on one partition in this order.
      await breaker.execute(() =>
        producer.send({ topic, acks: -1, messages: rows.map(toMessage) }),
      );
      await query(
        tx,
        `update outbox set published_at = now()
          where id in (select jsonb_array_elements_text(?::jsonb)::bigint)`,
        [json(rows.map((row) => row.id))],
      );
      return rows.length;
    });
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        const published = await round();
        if (failures > 0) log.info({ failures }, 'outbox relay recovered');
        failures = 0;
        if (published === 0) await sleep(idleMs);
      } catch (error) {
        failures += 1;
        const delay = backoff(failures, maxBackoffMs);
        log.warn({ err: error, failures, retryInMs: delay }, 'outbox relay round failed');
        // A fresh producer next round rather than one left half-broken by the outage: also a new
        // producer id, so a batch the broker wrote before the failure can never make it drop a
        // later batch as a duplicate of the same sequence numbers.
        connected = false;
        const failed = producer;
        producer = newProducer(kafka);
        await failed.disconnect().catch(() => undefined);
        await sleep(delay);
      }
    }
  }

  const running = loop();

  /** The last rounds, on close: only over a working connection, never waiting for Kafka. */
  async function flushRest(): Promise<void> {
    const deadline = Date.now() + finalFlushMs;
    while (connected && Date.now() < deadline) {
      try {
        if ((await round()) < batchSize) return;
      } catch (error) {
        log.warn(
          { err: error },
          'outbox relay could not publish the rest; left for the next start',
        );
        return;
      }
    }
  }

  return {
    circuitOpen: () => breaker.state === CircuitState.Open,
    async close() {
      stopping = true;
      wake();
      await running;
      await flushRest();
      await producer.disconnect();
    },
    backlog: () => outboxBacklog(orm.em.fork()),
  };
}

/**
 * The relay's producer. Idempotent: kafkajs retries a produce request whole when any partition in
 * it fails (a partition without a leader yet, a leader moving), and without producer ids and
 * sequence numbers the partitions that had succeeded would get the messages twice (seen: two relays
 * racing a new topic's creation published 2,068 messages for 2,000 events). Its own retries only
 * ride out such a move — the relay's loop is the retry with backoff, and a send that fails fast
 * holds the row locks (and delays close()) less; after a failed round the relay replaces the
 * producer, so the limited retries cannot leave sequence numbers out of step with the broker.
 * Connecting follows the client's retry settings (createKafka: about 3.5 s to give up).
 */
export function newProducer(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

function toMessage(row: OutboxRow): Message {
  return {
    key: row.message_key,
    value: json(row.payload),
    headers: { 'x-event-type': row.event_type },
  };
}

/** Exponential, capped, with jitter so relays that failed together do not retry together. */
function backoff(failures: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, FIRST_BACKOFF_MS * 2 ** (failures - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
