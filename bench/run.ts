/**
 * `npm run bench`: starts the system's processes on the local PostgreSQL, Redis and Kafka, runs each
 * scenario with its baseline measured in the same run, and writes bench/results/<date>.{json,md}.
 * Everything it creates (database, queue keys, topics, groups, processes) is removed at the end,
 * also on failure. BENCH_SCALE (0 < s ≤ 1) shrinks the counts for a quick trial.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { adminQuery, BenchContext, log, withTimeout as timed } from './lib/context.js';
import { type CpuProbe, pidListeningOn, pidsByComm, round } from './lib/cpu.js';
import { allProcs, ROOT, shutdownAll } from './lib/proc.js';
import { buildAndMigrate } from './lib/setup.js';
import { markdown, type Results, rows } from './report.js';
import { codeBatch } from './scenarios/codes.js';
import { issuanceDrain, queueCeiling } from './scenarios/drain.js';
import { flashSale, httpIngress } from './scenarios/http.js';
import { stackedOrders } from './scenarios/orders.js';
import { payments } from './scenarios/payments.js';

const RUN_LIMIT_MS = 9.5 * 60_000;
const STEP_LIMIT_MS = 30_000;
const scale = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1)));
const count = (full: number) => Math.max(100, Math.round((full * scale) / 100) * 100);
/** The steady part of the payments scenario: 20 s at full scale, at least 2. */
const steadySeconds = Math.max(2, Math.round(20 * scale));
/**
 * BENCH_ONLY=3,4: run just these scenarios, print their raw figures, write no results file. The
 * numbers are those of the results table (6, peak RSS, is read from every process, not run).
 */
const only = new Set(
  (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
);

const withTimeout = <T>(what: string, work: Promise<T>, ms = STEP_LIMIT_MS): Promise<T> =>
  timed(what, work, ms);

async function setUp(ctx: BenchContext): Promise<CpuProbe[]> {
  log('making PostgreSQL, Redis and Kafka answer (scripts/services.sh)');
  const services = spawnSync(`${ROOT}/scripts/services.sh`, {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 240_000,
  });
  if (services.status !== 0) throw new Error(`scripts/services.sh failed (${services.status})`);
  await buildAndMigrate(ctx, STEP_LIMIT_MS);
  const admin = ctx.kafka.admin();
  await withTimeout('Kafka connect', admin.connect());
  await admin.disconnect();
  const kafkaPid = pidListeningOn(9092);
  return [
    { name: 'postgres (all backends)', pids: () => pidsByComm('postgres') },
    { name: 'redis-server', pids: () => pidsByComm('redis-server') },
    { name: 'kafka broker', pids: () => (kafkaPid ? [kafkaPid] : []) },
  ];
}

async function cleanUp(ctx: BenchContext): Promise<void> {
  const step = async (what: string, work: () => Promise<unknown>) => {
    try {
      await withTimeout(what, work());
    } catch (error) {
      log(`clean-up: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await step('stopping processes', () => shutdownAll());
  await step('deleting queue keys', () => ctx.deleteKeys(ctx.queuePrefix));
  if (ctx.topics.size > 0 || ctx.groups.size > 0) {
    await step('deleting Kafka topics and groups', async () => {
      const admin = ctx.kafka.admin();
      await admin.connect();
      try {
        if (ctx.groups.size > 0) await admin.deleteGroups([...ctx.groups]).catch(() => undefined);
        if (ctx.topics.size > 0)
          await admin.deleteTopics({ topics: [...ctx.topics], timeout: 10_000 });
      } finally {
        await admin.disconnect();
      }
    });
  }
  await step('closing PostgreSQL pool', () => ctx.pg.end());
  await step('dropping the database', () =>
    adminQuery(`drop database if exists "${ctx.dbName}" with (force)`),
  );
  await step('closing Redis', () => ctx.redis.quit());
}

async function scenarios(ctx: BenchContext, probes: CpuProbe[]): Promise<Results> {
  const jobs = count(20_000);
  // The ceiling is measured before, between and after the drains, and each drain is divided by the
  // mean of the two taken around it: the machine's speed drifts over tens of seconds.
  const ceilings: Awaited<ReturnType<typeof queueCeiling>>[] = [];
  log(`1. queue ceiling (${jobs} no-op jobs), before the drains`);
  ceilings.push(await queueCeiling(ctx, jobs, probes, 'a'));
  log(`2. issuance drain (${jobs} jobs), 1 worker process`);
  const drain1 = await issuanceDrain(ctx, 'r1', jobs / 2, 1, probes);
  log('1. queue ceiling, between the drains');
  ceilings.push(await queueCeiling(ctx, jobs, probes, 'b'));
  log(`2. issuance drain (${jobs} jobs), 2 worker processes`);
  const drain2 = await issuanceDrain(ctx, 'r2', jobs / 2, 2, probes);
  log('1. queue ceiling, after the drains');
  ceilings.push(await queueCeiling(ctx, jobs, probes, 'c'));
  const around = (i: number) => (ceilings[i]!.perSec + ceilings[i + 1]!.perSec) / 2;
  const ceiling = {
    perSec: [...ceilings.map((c) => c.perSec)].sort((a, b) => a - b)[1]!,
    runs: ceilings,
    aroundDrain1: round(around(0), 0),
    aroundDrain2: round(around(1), 0),
  };
  log('3. HTTP ingress, api vs bare enqueue');
  const ingress = await httpIngress(ctx, scale < 1 ? 3 : 10, probes);
  log(`4. flash sale (${count(100_000)} users, quota ${count(10_000)})`);
  const sale = await flashSale(ctx, count(100_000), count(10_000), probes);
  log(`8. flash sale with a public code (${count(100_000)} users, quota ${count(10_000)})`);
  const publicSale = await flashSale(ctx, count(100_000), count(10_000), probes, {
    publicCode: true,
  });
  log(`5. payments (${jobs / 2} events)`);
  const pay = await payments(ctx, drain2.policyIds[0]!, jobs / 2, probes, steadySeconds);
  log(`7. orders (${count(10_000)} orders × 2 stackable coupons), 2 worker processes`);
  const orders = await stackedOrders(ctx, count(10_000), probes);
  log(`9. code batch of ${count(1_000_000)} codes, then its CSV export`);
  const batch = await codeBatch(ctx, count(1_000_000), probes);

  const perProcess = allProcs().map((p) => ({
    name: p.name,
    kind: p.kind,
    peakRssMb: round(p.final?.peakRssMb ?? Number.NaN, 1),
    ...((p.final?.familyPeakRssMb.length ?? 0) > 1 && {
      familyPeakRssMb: p.final?.familyPeakRssMb,
    }),
    cpuSeconds: round(p.final?.cpuSeconds ?? Number.NaN, 1),
    exit: p.final?.exit ?? 'running',
    warningLines: p.warnings,
  }));
  const largest = (kind: string) =>
    Math.max(...perProcess.filter((p) => p.kind === kind).map((p) => p.peakRssMb));
  return {
    queueCeiling: ceiling,
    drain1,
    drain2,
    ingress,
    flashSale: sale,
    payments: pay,
    orders,
    publicSale,
    codeBatch: batch,
    rss: { apiMb: largest('api'), workerMb: largest('worker'), perProcess },
  };
}

/** The scenarios named in BENCH_ONLY (payments reuse the coupons of the 2-worker drain). */
async function someScenarios(ctx: BenchContext, probes: CpuProbe[]): Promise<unknown> {
  const jobs = count(20_000);
  const out: Record<string, unknown> = {};
  if (only.has('1')) out.queueCeiling = await queueCeiling(ctx, jobs, probes);
  if (only.has('2')) out.drain1 = await issuanceDrain(ctx, 'r1', jobs / 2, 1, probes);
  if (only.has('2') || only.has('5')) {
    const drain2 = await issuanceDrain(ctx, 'r2', jobs / 2, 2, probes);
    if (only.has('2')) out.drain2 = drain2;
    if (only.has('5'))
      out.payments = await payments(ctx, drain2.policyIds[0]!, jobs / 2, probes, steadySeconds);
  }
  if (only.has('3')) out.ingress = await httpIngress(ctx, scale < 1 ? 3 : 10, probes);
  let direct: { totalS: number } | undefined;
  if (only.has('4')) {
    direct = await flashSale(ctx, count(100_000), count(10_000), probes);
    out.flashSale = direct;
  }
  if (only.has('8')) {
    const publicSale = await flashSale(ctx, count(100_000), count(10_000), probes, {
      publicCode: true,
    });
    out.publicSale = publicSale;
    // The ratio of the two sales when both ran: DIRECT time ÷ public-code time (target ≥ 0.9).
    if (direct) out.publicSaleRatio = round(direct.totalS / publicSale.totalS, 3);
  }
  if (only.has('7')) out.orders = await stackedOrders(ctx, count(10_000), probes);
  if (only.has('9')) out.codeBatch = await codeBatch(ctx, count(1_000_000), probes);
  out.peakRssMb = Object.fromEntries(
    allProcs().map((p) => [
      p.name,
      (p.final?.familyPeakRssMb.length ?? 0) > 1
        ? p.final?.familyPeakRssMb
        : round(p.final?.peakRssMb ?? Number.NaN, 1),
    ]),
  );
  return out;
}

async function main(): Promise<number> {
  const began = Date.now();
  const ctx = new BenchContext();
  let abort: (reason: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    abort = reject;
  });
  const watchdog = setTimeout(
    () => abort(new Error('the run passed its 9.5 min limit')),
    RUN_LIMIT_MS,
  );
  const onSignal = (signal: string) => abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`run ${ctx.runId}${scale < 1 ? ` at scale ${scale}` : ''}`);
  try {
    const probes = await Promise.race([setUp(ctx), aborted]);
    if (only.size > 0) {
      const partial = await Promise.race([someScenarios(ctx, probes), aborted]);
      console.log(JSON.stringify(partial, null, 2));
      return 0;
    }
    const results = await Promise.race([scenarios(ctx, probes), aborted]);
    const totalS = (Date.now() - began) / 1000;
    const date = new Date().toISOString().slice(0, 10);
    const meta = { date, runId: ctx.runId, totalS, node: process.version };
    const table = markdown(results, meta);
    const dir = `${ROOT}/bench/results`;
    mkdirSync(dir, { recursive: true });
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGb: round(os.totalmem() / 2 ** 30, 1),
      scale,
    };
    writeFileSync(
      `${dir}/${date}.json`,
      `${JSON.stringify({ ...meta, machine, table: rows(results), results }, null, 2)}\n`,
    );
    writeFileSync(`${dir}/${date}.md`, table);
    console.log(`\n${table}`);
    log(`written bench/results/${date}.json and .md`);
    return 0;
  } catch (error) {
    console.error(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp(ctx);
    for (const proc of allProcs().filter((p) => p.warnings > 0)) {
      log(
        `${proc.name}: ${proc.warnings} warning line(s), the first ${proc.firstWarnings.length}:`,
      );
      for (const line of proc.firstWarnings) log(`  ${line.slice(0, 400)}`);
    }
    log(`total ${((Date.now() - began) / 1000).toFixed(0)} s`);
  }
}

process.exit(await main());
