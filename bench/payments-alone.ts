/**
 * The payment path's CPU cost per event, without Kafka and without the outbox relay: 10,000
 * reserved coupons, one PAYMENT_COMPLETED event each, in the bridge's chunks, each recorded as
 * pending (`recordPendingPayments`, the bridge's statement) and applied (`applyPaymentEvents`, the
 * usage worker's transaction) — first one chunk at a time, then three partitions at once.
 * Prints the elapsed time and the CPU of PostgreSQL's backends (read from /proc, so PostgreSQL must
 * run on this machine) and of this Node process, per event. Scenario 5 of `npm run bench` measures
 * the whole path against Kafka; this says what the database work alone costs.
 *
 *   node --import tsx bench/payments-alone.ts     (EVENTS=10000)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { PaymentChunk } from '../src/app/ports.js';
import { applyPaymentEvents } from '../src/app/process-payments.js';
import { createOrm, migrate } from '../src/infra/db/orm.js';
import { recordPendingPayments } from '../src/infra/db/payment-events.js';
import { PAYMENT_CHUNK_SIZE } from '../src/infra/kafka/payment-bridge.js';
import { databasePorts } from '../src/wiring/ports.js';
import { log, PG_URL } from './lib/context.js';
import { round } from './lib/cpu.js';
import { completedPayment } from './lib/payment-event.js';

const EVENTS = Number(process.env.EVENTS ?? 10_000);
const PARTITIONS = 3;
const dbName = `bench_alone_${randomUUID().slice(0, 8)}`;

/** CPU seconds × 100 (clock ticks) of the backends serving `dbName`, by pid. */
async function backendTicks(client: pg.Client): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
    [dbName],
  );
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      throw new Error(`PostgreSQL backend ${pid} is not in /proc: run this where PostgreSQL runs`);
    }
    const fields = stat.split(') ')[1]!.split(' ');
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

function ticksSince(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) sum += ticks - (before.get(pid) ?? 0);
  return sum;
}

const admin = new pg.Client(`${PG_URL}/postgres`);
await admin.connect();
await admin.query(`create database "${dbName}"`);
const orm = await createOrm({ databaseUrl: `${PG_URL}/${dbName}`, poolMax: PARTITIONS + 1 });
const client = new pg.Client(`${PG_URL}/${dbName}`);
try {
  await migrate(orm);
  await client.connect();
  const policyId = randomUUID();
  await client.query(
    `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                  total_quantity, valid_from, valid_until, issued_count)
     values ($1, 'payments alone', 'FIXED_AMOUNT', 1000, 'DIRECT', $2,
             now() - interval '1 day', now() + interval '30 days', $2)`,
    [policyId, EVENTS * 2],
  );

  const results: Record<string, unknown> = {};
  for (const [mode, lanes] of [
    ['one chunk at a time', 1],
    [`${PARTITIONS} partitions at once`, PARTITIONS],
  ] as const) {
    const prefix = `${lanes}-`;
    await client.query(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                            reserved_at, order_id, discount_amount, issue_job_id)
       select gen_random_uuid(), $1, 'user-' || $2 || g, 1, 'RESERVED', now(),
              now() + interval '30 days', now(), 'order-' || $2 || g, 1000, 'job-' || $2 || g
         from generate_series(1, $3) g`,
      [policyId, prefix, EVENTS],
    );
    await client.query('vacuum analyze');
    // Every pool connection open before the first reading, so their start-up is not counted.
    await Promise.all(
      Array.from({ length: lanes }, () => orm.em.fork().getConnection().execute('select 1')),
    );
    const chunks: PaymentChunk[] = [];
    for (let start = 0; start < EVENTS; start += PAYMENT_CHUNK_SIZE) {
      const partition = chunks.length % lanes;
      const events = [];
      for (let i = start; i < Math.min(EVENTS, start + PAYMENT_CHUNK_SIZE); i++) {
        events.push({
          offset: String(i),
          event: completedPayment(`order-${prefix}${i + 1}`, `user-${prefix}${i + 1}`),
        });
      }
      chunks.push({ topic: 'payments-alone', partition, events });
    }

    const pgBefore = await backendTicks(client);
    const nodeBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (const chunk of chunks.filter((c) => c.partition === lane)) {
          const pending = await recordPendingPayments(orm.em.fork(), chunk);
          const orderIds = [...new Set(pending.map(({ orderId }) => orderId))];
          await applyPaymentEvents(databasePorts(orm), orderIds, new Date());
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    const node = process.cpuUsage(nodeBefore);
    const pgMs = ticksSince(pgBefore, await backendTicks(client)) * 10;
    const nodeMs = (node.user + node.system) / 1000;

    const { rows } = await client.query<{ used: number }>(
      `select count(*)::int as used from coupons where order_id like $1 and status = 'USED'`,
      [`order-${prefix}%`],
    );
    if (rows[0]?.used !== EVENTS) throw new Error(`${mode}: ${rows[0]?.used} of ${EVENTS} USED`);
    results[mode] = {
      events: EVENTS,
      chunk: PAYMENT_CHUNK_SIZE,
      elapsedMs: round(elapsedMs, 0),
      perSec: round(EVENTS / (elapsedMs / 1000), 0),
      postgresCpuMs: pgMs,
      nodeCpuMs: round(nodeMs, 0),
      postgresCpuUsPerEvent: round((pgMs * 1000) / EVENTS, 1),
      nodeCpuUsPerEvent: round((nodeMs * 1000) / EVENTS, 1),
    };
    log(
      `${mode}: ${EVENTS} USED in ${round(elapsedMs, 0)} ms; CPU per event PostgreSQL ${round((pgMs * 1000) / EVENTS, 1)} µs, Node ${round((nodeMs * 1000) / EVENTS, 1)} µs`,
    );
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  await client.end().catch(() => undefined);
  await orm.close(true);
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
}
