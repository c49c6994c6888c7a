import { Queue } from 'bullmq';
import { Partitioners } from 'kafkajs';
import { createTopics } from '../../src/infra/kafka/client.js';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import { type PaymentJobData, paymentsOf } from '../../src/workers/job-payloads.js';
import { type BenchContext, log, sleep, waitUntil } from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { completedPayment, RECORD_ORDERS_SQL } from '../lib/payment-event.js';
import { type Proc, stopAll } from '../lib/proc.js';
import { writeFloor } from '../lib/write-floor.js';

const PARTITIONS = 3;
const PRODUCE_CHUNK = 1000;
/** The steady part: events per second, sent in a batch every tick. */
const STEADY_RATE = 1000;
const STEADY_TICK_MS = 10;

/**
 * Scenario 5, three figures of one run:
 * - throughput: `count` coupons of `policyId` reserved in SQL, one PAYMENT_COMPLETED event each on
 *   a fresh topic, produced before the service starts; the bridge and 2 workers turn them into USED
 *   coupons, timed from the first event recorded to the last coupon USED;
 * - steady latency: with the same processes running, {@link STEADY_RATE} events/s for
 *   `steadySeconds` on reserved coupons of a second policy; each event's latency runs from the
 *   moment the bench hands it to the producer to the moment its PAYMENT job finished (after the
 *   worker's commit: BullMQ's `finishedOn`, from the worker's clock on this machine);
 * - the write floor: with the service stopped, `count` more events written by the same set-based
 *   statements in chunks, three at once, no Kafka, queue or relay (`bench/lib/write-floor.ts`).
 * The database is vacuumed and checkpointed before each of the three, so none pays for the writes
 * of what ran before it (and the steady part starts once the relay has published the burst's
 * events).
 */
export async function payments(
  ctx: BenchContext,
  policyId: string,
  count: number,
  probes: CpuProbe[],
  steadySeconds = 20,
) {
  const { rows: orders } = await ctx.pg.query<{ orderId: string; userId: string }>(
    `update coupons
        set status = 'RESERVED', order_id = 'bench-order-' || id, reserved_at = now(),
            discount_amount = 1000, updated_at = now()
      where id in (select id from coupons where policy_id = $1 and status = 'ISSUED' order by id limit $2)
      returning order_id as "orderId", user_id as "userId"`,
    [policyId, count],
  );
  if (orders.length !== count)
    throw new Error(`only ${orders.length} coupons to reserve, not ${count}`);
  await ctx.pg.query(RECORD_ORDERS_SQL, [orders.map((o) => o.orderId)]);
  // Earlier scenarios' events are not this scenario's work: the relay starts from an empty outbox.
  await ctx.pg.query('update outbox set published_at = now() where published_at is null');
  await settle(ctx);

  const topic = ctx.name('payments');
  const couponEvents = ctx.name('coupon-events');
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    for (const name of [topic, `${topic}.dlq`, couponEvents]) ctx.topics.add(name);
    await createTopics(
      admin,
      [topic, `${topic}.dlq`, couponEvents].map((name) => ({
        topic: name,
        numPartitions: PARTITIONS,
      })),
    );
  } finally {
    await admin.disconnect();
  }

  const producer = ctx.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const produceStarted = performance.now();
  try {
    for (let i = 0; i < orders.length; i += PRODUCE_CHUNK) {
      await producer.send({
        topic,
        acks: -1,
        messages: orders.slice(i, i + PRODUCE_CHUNK).map(({ orderId, userId }) => ({
          key: orderId,
          value: JSON.stringify(completedPayment(orderId, userId)),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  const produceMs = performance.now() - produceStarted;
  // The steady part's coupons, ready before the service starts.
  const steadyPolicyId = await ctx.insertPolicy('s5 steady payments', STEADY_RATE * steadySeconds);
  const steadyOrders = await reservedCoupons(ctx, steadyPolicyId, STEADY_RATE * steadySeconds);
  await settle(ctx);

  // The system: 2 workers, then the bridge, which starts reading as soon as it joins its group.
  const prefix = ctx.name('s5');
  const group = ctx.name('s5-bridge');
  ctx.groups.add(group);
  const procs: Proc[] = [];
  try {
    const workers = await Promise.all(
      [1, 2].map((i) =>
        ctx.startService(`s5 worker-${i}`, 'worker', { ROLES: 'worker', QUEUE_PREFIX: prefix }),
      ),
    );
    procs.push(...workers.map((w) => w.proc));
    const cpuProbes = [...procs.map(procProbe), ...probes];
    const scansBefore = await ctx.tableScans();
    const startedAt = Date.now();
    const bridge = await ctx.startService('s5 bridge', 'bridge', {
      ROLES: 'bridge',
      QUEUE_PREFIX: prefix,
      KAFKA_PAYMENT_TOPIC: topic,
      KAFKA_CONSUMER_GROUP: group,
      KAFKA_COUPON_EVENTS_TOPIC: couponEvents,
    });
    procs.push(bridge.proc);
    const cpu = startCpu([procProbe(bridge.proc), ...cpuProbes]);
    const doneAt = await waitUntil(
      `none of the ${count} reserved coupons left`,
      async () => {
        // Done when none of the reserved coupons is left: `exists` stops at the first one, where a
        // count of the USED ones every 25 ms would read up to 10,000 index entries each time and
        // take CPU from the system it measures. The USED count is checked once at the end.
        const { rows } = await ctx.pg.query<{ pending: boolean }>(
          `select exists(select 1 from coupons where policy_id = $1 and status = 'RESERVED') as pending`,
          [policyId],
        );
        return rows[0]?.pending === false ? Date.now() : undefined;
      },
      { timeoutMs: 240_000, everyMs: 25, alive: procs },
    );
    const cpuPercent = cpu.end();
    const tableScans = await ctx.tableScansSince(scansBefore);
    const { rows } = await ctx.pg.query<{
      events: number;
      applied: number;
      firstReceived: Date;
      lastApplied: Date;
    }>(
      `select count(*)::int as events, count(applied_at)::int as applied,
              min(received_at) as "firstReceived", max(applied_at) as "lastApplied"
         from payment_events where topic = $1`,
      [topic],
    );
    const { rows: outcomes } = await ctx.pg.query<{ outcome: string; n: number }>(
      'select outcome, count(*)::int as n from payment_events where topic = $1 group by outcome',
      [topic],
    );
    // One row per transaction of the bridge (`received_at` is its start): how the work overlapped.
    const { rows: transactions } = await ctx.pg.query<{
      partition: number;
      events: number;
      startedAt: Date;
    }>(
      `select kafka_partition as partition, count(*)::int as events, received_at as "startedAt"
         from payment_events where topic = $1 group by kafka_partition, received_at
        order by received_at`,
      [topic],
    );
    const used = await usedCount(ctx, policyId);
    const stats = rows[0]!;
    const firstAt = stats.firstReceived.getTime();
    const systemMs = doneAt - firstAt;
    const system = {
      firstRecordedToAllUsedMs: systemMs,
      perSec: round(count / (systemMs / 1000), 0),
      fromBridgeStartMs: doneAt - startedAt,
      recorded: stats.events,
      applied: stats.applied,
      used,
      transactions: transactions.map((t) => ({
        partition: t.partition,
        events: t.events,
        startMs: t.startedAt.getTime() - firstAt,
      })),
      outcomes: Object.fromEntries(outcomes.map((o) => [o.outcome, o.n])),
      cpuPercent,
      tableScans,
    };
    log(
      `payments: ${system.perSec} events/s (${count} in ${systemMs} ms from the first recorded); transactions (partition:events@start ms): ${system.transactions.map((t) => `${t.partition}:${t.events}@${t.startMs}`).join(' ')}`,
    );

    // Steady state, not the burst's wake: the relay has published the burst's events and the
    // database is vacuumed and checkpointed, as before the burst.
    await waitUntil(
      'the outbox relay to publish the burst’s events',
      async () => {
        const { rows } = await ctx.pg.query<{ pending: boolean }>(
          'select exists(select 1 from outbox where published_at is null) as pending',
        );
        return rows[0]?.pending === false ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 100, alive: procs },
    );
    await settle(ctx);
    log(`payments, steady: ${STEADY_RATE} events/s for ${steadySeconds} s`);
    const steady = await steadyLatency(ctx, {
      topic,
      queuePrefix: prefix,
      policyId: steadyPolicyId,
      orders: steadyOrders,
      alive: procs,
    });
    log(
      `payments, steady: ${steady.sentPerSec} events/s sent; produce → USED p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms, max ${steady.maxMs} ms; legs ${JSON.stringify(steady.legsMs)}`,
    );
    const warnings = procs.reduce((sum, p) => sum + p.warnings, 0);
    await stopAll(procs);

    log(`payments, write floor: ${count} events, ${PARTITIONS} chunks at once, no Kafka or queue`);
    const floorPolicyId = await ctx.insertPolicy('s5 write floor', count);
    await settle(ctx);
    const floor = await writeFloor({
      databaseUrl: ctx.databaseUrl,
      database: ctx.dbName,
      policyId: floorPolicyId,
      events: count,
      lanes: PARTITIONS,
      prefix: ctx.name('floor'),
    });
    log(`payments, write floor: ${floor.perSec} events/s (${count} in ${floor.elapsedMs} ms)`);
    return {
      events: count,
      produceMs: round(produceMs, 0),
      system,
      steady,
      floor,
      /** The whole path's rate ÷ the write floor's. */
      ratio: round(system.perSec / floor.perSec, 3),
      warningLines: warnings,
      exact: stats.events === count && stats.applied === count && used === count && steady.exact,
    };
  } finally {
    await stopAll(procs);
    await ctx.deleteKeys(prefix);
  }
}

/** Vacuums and checkpoints the bench database, so a figure does not pay for earlier scenarios. */
export async function settle(ctx: BenchContext): Promise<void> {
  await ctx.pg.query('vacuum analyze');
  await ctx.pg.query('checkpoint');
}

async function usedCount(ctx: BenchContext, policyId: string): Promise<number> {
  const { rows } = await ctx.pg.query<{ used: number }>(
    `select count(*)::int as used from coupons where policy_id = $1 and status = 'USED'`,
    [policyId],
  );
  return rows[0]?.used ?? 0;
}

/** `count` RESERVED coupons of `policyId`, each on an order of its own, inserted straight. */
async function reservedCoupons(
  ctx: BenchContext,
  policyId: string,
  count: number,
): Promise<{ orderId: string; userId: string }[]> {
  const { rows } = await ctx.pg.query<{ orderId: string; userId: string }>(
    `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                          reserved_at, order_id, discount_amount, issue_job_id)
     select gen_random_uuid(), $1::uuid, 'steady-user-' || g, 1, 'RESERVED', now(),
            now() + interval '7 days', now(), 'steady-order-' || $1::text || '-' || g, 1000,
            'steady-job-' || $1::text || '-' || g
       from generate_series(1, $2) g
     returning order_id as "orderId", user_id as "userId"`,
    [policyId, count],
  );
  await ctx.pg.query(RECORD_ORDERS_SQL, [rows.map((o) => o.orderId)]);
  return rows;
}

function percentile(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

/**
 * Sends one PAYMENT_COMPLETED per order at {@link STEADY_RATE} events/s (a batch every
 * {@link STEADY_TICK_MS}, on schedule however long a send takes), waits until every coupon is
 * USED, then reads each event's latency: from the moment it was handed to the producer to its
 * PAYMENT job's `finishedOn` (set by the worker after its transaction committed).
 */
async function steadyLatency(
  ctx: BenchContext,
  options: {
    topic: string;
    queuePrefix: string;
    policyId: string;
    orders: { orderId: string; userId: string }[];
    alive: Proc[];
  },
) {
  const { topic, queuePrefix, policyId, orders, alive } = options;
  const perTick = (STEADY_RATE * STEADY_TICK_MS) / 1000;
  const sentAt = new Map<string, number>();
  const producer = ctx.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = Date.now();
  let sendMs = 0;
  try {
    const sends: Promise<unknown>[] = [];
    for (let tick = 0; tick * perTick < orders.length; tick++) {
      const wait = started + tick * STEADY_TICK_MS - Date.now();
      if (wait > 0) await sleep(wait);
      const batch = orders.slice(tick * perTick, (tick + 1) * perTick);
      const now = Date.now();
      for (const { orderId } of batch) sentAt.set(orderId, now);
      sends.push(
        producer.send({
          topic,
          acks: -1,
          messages: batch.map(({ orderId, userId }) => ({
            key: orderId,
            value: JSON.stringify(completedPayment(orderId, userId)),
          })),
        }),
      );
    }
    await Promise.all(sends);
    sendMs = Date.now() - started;
  } finally {
    await producer.disconnect();
  }
  await waitUntil(
    `none of the ${orders.length} steady coupons reserved`,
    async () => {
      const { rows } = await ctx.pg.query<{ pending: boolean }>(
        `select exists(select 1 from coupons where policy_id = $1 and status = 'RESERVED') as pending`,
        [policyId],
      );
      return rows[0]?.pending === false ? true : undefined;
    },
    { timeoutMs: 60_000, everyMs: 100, alive },
  );
  const used = await usedCount(ctx, policyId);

  // Where the time went: recorded by the bridge (`received_at`, its transaction's start), applied
  // by a worker (`applied_at`, its group's start), the job finished.
  const { rows: recorded } = await ctx.pg.query<{
    orderId: string;
    receivedAt: Date;
    appliedAt: Date;
  }>(
    `select e.order_id as "orderId", e.received_at as "receivedAt", e.applied_at as "appliedAt"
       from payment_events e join coupons c on c.order_id = e.order_id
      where c.policy_id = $1`,
    [policyId],
  );
  const queue = new Queue(QUEUE_NAMES.usage, { connection: ctx.redis, prefix: queuePrefix });
  const latencies: number[] = [];
  const toRecorded: number[] = [];
  const toApplied: number[] = [];
  const toFinished: number[] = [];
  const eventOf = new Map(recorded.map((row) => [row.orderId, row]));
  try {
    for (const job of await queue.getJobs(['completed'], 0, -1)) {
      if ((job.data as { type?: string }).type !== 'PAYMENT' || !job.finishedOn) continue;
      for (const { orderId } of paymentsOf(job.data as PaymentJobData)) {
        const sent = sentAt.get(orderId);
        if (sent === undefined) continue;
        latencies.push(job.finishedOn - sent);
        const event = eventOf.get(orderId);
        if (!event) continue;
        toRecorded.push(event.receivedAt.getTime() - sent);
        toApplied.push(event.appliedAt.getTime() - event.receivedAt.getTime());
        toFinished.push(job.finishedOn - event.appliedAt.getTime());
      }
    }
  } finally {
    await queue.close();
  }
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  return {
    events: orders.length,
    targetPerSec: STEADY_RATE,
    sentPerSec: round(orders.length / (Math.max(1, sendMs) / 1000), 0),
    measured: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    /** p50 / p99 of each leg: produce → recorded → applied → job finished. */
    legsMs: Object.fromEntries(
      (
        [
          ['toRecorded', toRecorded],
          ['recordedToApplied', toApplied],
          ['appliedToFinished', toFinished],
        ] as const
      ).map(([leg, values]) => {
        const ordered = sorted(values);
        return [leg, { p50: percentile(ordered, 50), p99: percentile(ordered, 99) }];
      }),
    ),
    used,
    exact: used === orders.length && latencies.length === orders.length,
  };
}
