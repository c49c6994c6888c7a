/**
 * The payment path's write floor, without Kafka, the queue or the outbox relay: 10,000 reserved
 * coupons, one PAYMENT_COMPLETED event each, in the bridge's chunks, each recorded as pending (the
 * bridge's statement) and applied (the usage worker's transaction) — first one chunk at a time,
 * then three partitions at once. Prints the elapsed time and the CPU of PostgreSQL's backends (read
 * from /proc, so PostgreSQL must run on this machine) and of this Node process, per event.
 * Scenario 5 of `npm run bench` measures the same floor (three partitions) in its own run and
 * divides the whole path's rate by it.
 *
 *   node --import tsx bench/payments-alone.ts     (EVENTS=10000)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createOrm, migrate } from '../src/infra/db/orm.js';
import { log, PG_URL } from './lib/context.js';
import { type FloorFigures, writeFloor } from './lib/write-floor.js';

const EVENTS = Number(process.env.EVENTS ?? 10_000);
const PARTITIONS = 3;
const dbName = `bench_alone_${randomUUID().slice(0, 8)}`;
const databaseUrl = `${PG_URL}/${dbName}`;

const admin = new pg.Client(`${PG_URL}/postgres`);
await admin.connect();
await admin.query(`create database "${dbName}"`);
try {
  const orm = await createOrm({ databaseUrl, poolMax: 1 });
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
  }
  const client = new pg.Client(databaseUrl);
  await client.connect();
  const policyId = randomUUID();
  try {
    await client.query(
      `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                    total_quantity, valid_from, valid_until, issued_count)
       values ($1, 'payments alone', 'FIXED_AMOUNT', 1000, 'DIRECT', $2,
               now() - interval '1 day', now() + interval '30 days', $2)`,
      [policyId, EVENTS * 2],
    );
  } finally {
    await client.end();
  }

  const results: Record<string, FloorFigures> = {};
  for (const [mode, lanes] of [
    ['one chunk at a time', 1],
    [`${PARTITIONS} partitions at once`, PARTITIONS],
  ] as const) {
    const figures = await writeFloor({
      databaseUrl,
      database: dbName,
      policyId,
      events: EVENTS,
      lanes,
      prefix: `${lanes}-`,
    });
    results[mode] = figures;
    log(
      `${mode}: ${EVENTS} USED in ${figures.elapsedMs} ms (${figures.perSec} events/s); CPU per event PostgreSQL ${figures.postgresCpuUsPerEvent} µs, Node ${figures.nodeCpuUsPerEvent} µs`,
    );
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
}
