import { Partitioners } from 'kafkajs';
import { createTopics } from '../../src/infra/kafka/client.js';
import { type BenchContext, KAFKA_BROKERS, log, waitUntil } from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { completedPayment } from '../lib/payment-event.js';
import { type Proc, stopAll } from '../lib/proc.js';

const PARTITIONS = 3;
const PRODUCE_CHUNK = 1000;

/**
 * Scenario 5: `count` coupons of `policyId` reserved in SQL, one PAYMENT_COMPLETED event each on a
 * fresh topic; a bare kafkajs consumer reads them (fresh group), then the bridge and 2 workers turn
 * them into USED coupons. Both timed from the first message taken in to the last one done.
 */
export async function payments(
  ctx: BenchContext,
  policyId: string,
  count: number,
  probes: CpuProbe[],
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
  // Earlier scenarios' events are not this scenario's work: the relay starts from an empty outbox.
  await ctx.pg.query('update outbox set published_at = now() where published_at is null');

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

  // Baseline: the same messages read by a consumer that does nothing with them.
  const bareGroup = ctx.name('s5-bare');
  ctx.groups.add(bareGroup);
  const { proc: bareProc } = await ctx.startBaseline('s5 bare-consumer', 'bench/bare-consumer.ts', {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    TOPIC: topic,
    GROUP: bareGroup,
    EXPECT: String(count),
  });
  let bare: {
    count: number;
    startedAt: number;
    joinedAt: number;
    firstAt: number;
    lastAt: number;
    msg: string;
  };
  try {
    const line = await bareProc.waitForLine(
      (l) => l.includes('"msg":"consumed"') || l.includes('"msg":"gave up"'),
      'consumed line',
      75_000,
    );
    bare = JSON.parse(line);
  } finally {
    await stopAll([bareProc]);
  }
  if (bare.msg !== 'consumed') throw new Error(`bare consumer read only ${bare.count} of ${count}`);
  // From the group join (the first fetch included) to the last message: with 10,000 small
  // messages the first fetch is a large part of the read, and first-to-last would leave it out.
  const bareMs = Math.max(1, bare.lastAt - (bare.joinedAt || bare.firstAt));
  const bareFigures = {
    messages: bare.count,
    joinToLastMs: bareMs,
    firstToLastMs: bare.lastAt - bare.firstAt,
    perSec: round(bare.count / (bareMs / 1000), 0),
    processStartToLastMs: bare.lastAt - bare.startedAt,
  };
  log(
    `bare consumer: ${bareFigures.perSec} msgs/s (${bare.count} in ${bareMs} ms from the group join)`,
  );

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
    await stopAll(procs);
    await new Promise((resolve) => setTimeout(resolve, 700));
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
    const { rows: usedRows } = await ctx.pg.query<{ used: number }>(
      `select count(*)::int as used from coupons where policy_id = $1 and status = 'USED'`,
      [policyId],
    );
    const used = usedRows[0]?.used ?? 0;
    const stats = rows[0]!;
    const firstAt = stats.firstReceived.getTime();
    const systemMs = doneAt - firstAt;
    const warnings = procs.reduce((sum, p) => sum + p.warnings, 0);
    const figures = {
      events: count,
      produceMs: round(produceMs, 0),
      bare: bareFigures,
      system: {
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
        warningLines: warnings,
        cpuPercent,
        tableScans,
      },
      ratio: 0,
      exact: stats.events === count && stats.applied === count && used === count,
    };
    figures.ratio = round(figures.system.perSec / bareFigures.perSec, 3);
    log(
      `payments: ${figures.system.perSec} events/s (${count} in ${systemMs} ms from the first recorded); transactions (partition:events@start ms): ${figures.system.transactions.map((t) => `${t.partition}:${t.events}@${t.startMs}`).join(' ')}`,
    );
    return figures;
  } finally {
    await stopAll(procs);
    await ctx.deleteKeys(prefix);
  }
}
