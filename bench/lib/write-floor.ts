import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { PaymentChunk } from '../../src/app/ports.js';
import { applyPaymentEvents } from '../../src/app/process-payments.js';
import { createOrm } from '../../src/infra/db/orm.js';
import { recordPendingPayments } from '../../src/infra/db/payment-events.js';
import { PAYMENT_CHUNK_SIZE } from '../../src/infra/kafka/payment-bridge.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { round } from './cpu.js';
import { completedPayment, RECORD_ORDERS_SQL } from './payment-event.js';

export interface FloorFigures {
  events: number;
  lanes: number;
  chunk: number;
  elapsedMs: number;
  perSec: number;
  postgresCpuMs: number;
  nodeCpuMs: number;
  postgresCpuUsPerEvent: number;
  nodeCpuUsPerEvent: number;
}

/** CPU seconds × 100 (clock ticks) of the backends serving `database`, by pid. */
async function backendTicks(client: pg.Client, database: string): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
    [database],
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

/**
 * The write floor of the payment path: `events` reserved coupons of `policyId` (inserted here),
 * one PAYMENT_COMPLETED event each, in the bridge's chunks of {@link PAYMENT_CHUNK_SIZE}, each
 * recorded as pending (`recordPendingPayments`, the bridge's statement) and applied
 * (`applyPaymentEvents`, the usage worker's set-based transaction: the event record, the coupon
 * update, its history and its outbox row) — no Kafka, no queue, no relay. `lanes` chunks at once,
 * as the bridge's partitions run. Reads the CPU of PostgreSQL's backends from /proc, so PostgreSQL
 * must run on this machine.
 */
export async function writeFloor(options: {
  databaseUrl: string;
  database: string;
  policyId: string;
  events: number;
  lanes: number;
  /** Distinguishes the orders and users of one call from another's. */
  prefix: string;
}): Promise<FloorFigures> {
  const { databaseUrl, database, policyId, events, lanes, prefix } = options;
  const orm = await createOrm({ databaseUrl, poolMax: lanes + 1 });
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    await client.query(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                            reserved_at, order_id, discount_amount, issue_job_id)
       select gen_random_uuid(), $1, 'floor-user-' || $2 || g, 1, 'RESERVED', now(),
              now() + interval '30 days', now(), 'floor-order-' || $2 || g, 1000,
              'floor-job-' || $2 || g
         from generate_series(1, $3) g`,
      [policyId, prefix, events],
    );
    await client.query(RECORD_ORDERS_SQL, [
      Array.from({ length: events }, (_, i) => `floor-order-${prefix}${i + 1}`),
    ]);
    await client.query('vacuum analyze');
    // Every pool connection open before the first reading, so their start-up is not counted.
    await Promise.all(
      Array.from({ length: lanes }, () => orm.em.fork().getConnection().execute('select 1')),
    );
    const chunks: PaymentChunk[] = [];
    for (let start = 0; start < events; start += PAYMENT_CHUNK_SIZE) {
      const partition = chunks.length % lanes;
      const chunkEvents = [];
      for (let i = start; i < Math.min(events, start + PAYMENT_CHUNK_SIZE); i++) {
        chunkEvents.push({
          offset: String(i),
          event: completedPayment(`floor-order-${prefix}${i + 1}`, `floor-user-${prefix}${i + 1}`),
        });
      }
      chunks.push({ topic: `write-floor-${prefix}`, partition, events: chunkEvents });
    }

    const pgBefore = await backendTicks(client, database);
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
    const pgMs = ticksSince(pgBefore, await backendTicks(client, database)) * 10;
    const nodeMs = (node.user + node.system) / 1000;

    const { rows } = await client.query<{ used: number }>(
      `select count(*)::int as used from coupons
        where policy_id = $1 and order_id like $2 and status = 'USED'`,
      [policyId, `floor-order-${prefix}%`],
    );
    if (rows[0]?.used !== events) {
      throw new Error(`write floor: ${rows[0]?.used} of ${events} coupons USED`);
    }
    return {
      events,
      lanes,
      chunk: PAYMENT_CHUNK_SIZE,
      elapsedMs: round(elapsedMs, 0),
      perSec: round(events / (elapsedMs / 1000), 0),
      postgresCpuMs: pgMs,
      nodeCpuMs: round(nodeMs, 0),
      postgresCpuUsPerEvent: round((pgMs * 1000) / events, 1),
      nodeCpuUsPerEvent: round((nodeMs * 1000) / events, 1),
    };
  } finally {
    await client.end().catch(() => undefined);
    await orm.close(true);
  }
}
