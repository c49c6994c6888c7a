import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { IssueJobData } from '../../src/infra/queue/jobs.js';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import {
  type BenchContext,
  finishedJobs,
  lastFinishedAt,
  log,
  REDIS_URL,
  waitUntil,
} from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { type Proc, stopAll } from '../lib/proc.js';

const ADD_CHUNK = 1000;
/** Warm-up jobs drained, untimed, before each timed drain: this share of the timed ones. */
const WARMUP_SHARE = 0.2;
const DRAIN_LIMIT_MS = 180_000;

export interface JobSpec {
  data: IssueJobData;
}

/**
 * Issuance jobs exactly as the API makes them: `iss_<uuid>` ids, `{type, actor, userId, policyId}`;
 * users `<userPrefix>-0` to `<userPrefix>-<users - 1>`, each asking for one coupon of every policy.
 */
export function issuanceJobs(users: number, policyIds: string[], userPrefix = 'user'): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (let u = 0; u < users; u++) {
    for (const policyId of policyIds) {
      const userId = `${userPrefix}-${u}`;
      jobs.push({
        data: {
          type: 'ISSUE',
          actor: userId,
          userId,
          policyId,
        },
      });
    }
  }
  return jobs;
}

/**
 * What PostgreSQL saw of a drain: committed transactions in the bench database (so coupons per
 * transaction, i.e. the real group-commit size), and how often the system's backends were waiting
 * for a lock rather than working (sampled from pg_stat_activity every ~100 ms).
 */
export class DbSampler {
  private commitsBefore = 0;
  private ownQueries = 0;
  private samples = 0;
  private active = 0;
  private lockWaits = 0;
  private scansBefore: Awaited<ReturnType<BenchContext['tableScans']>> = new Map();
  constructor(private readonly ctx: BenchContext) {}

  private async commits(): Promise<number> {
    this.ownQueries++;
    const { rows } = await this.ctx.pg.query<{ n: string }>(
      'select xact_commit::text as n from pg_stat_database where datname = current_database()',
    );
    return Number(rows[0]?.n ?? 0);
  }

  async begin() {
    this.scansBefore = await this.ctx.tableScans();
    this.commitsBefore = await this.commits();
  }

  async sample() {
    this.ownQueries++;
    const { rows } = await this.ctx.pg.query<{ active: number; locked: number }>(
      `select count(*) filter (where state = 'active')::int as active,
              count(*) filter (where state = 'active' and wait_event_type = 'Lock')::int as locked
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    this.samples++;
    this.active += rows[0]?.active ?? 0;
    this.lockWaits += rows[0]?.locked ?? 0;
  }

  /** Call after the system's processes stopped, so their backends flushed their statistics. */
  async end(coupons: number) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    const own = this.ownQueries + 2;
    const transactions = (await this.commits()) - this.commitsBefore - own;
    return {
      tableScans: await this.ctx.tableScansSince(this.scansBefore),
      transactions,
      couponsPerTransaction: transactions > 0 ? round(coupons / transactions, 1) : null,
      avgActiveBackends: this.samples ? round(this.active / this.samples, 2) : null,
      avgBackendsWaitingOnLock: this.samples ? round(this.lockWaits / this.samples, 2) : null,
    };
  }
}

export async function addJobs(queue: Queue, jobs: JobSpec[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < jobs.length; i += ADD_CHUNK) {
    await queue.addBulk(
      jobs.slice(i, i + ADD_CHUNK).map(({ data }) => ({
        name: 'job',
        data,
        opts: { jobId: `iss_${randomUUID()}` },
      })),
    );
  }
  return performance.now() - started;
}

/**
 * Starts the consumers, lets them drain the `warmup` jobs (untimed: the processes' code is compiled
 * and their pools filled, as in a service that has been running), then fills the paused queue and
 * times the drain of `jobs` from `resume()` to the finish time of the last job (BullMQ's own
 * timestamp), so neither the consumers' start-up nor their warm-up is counted.
 */
async function timedDrain(
  ctx: BenchContext,
  queue: Queue,
  jobs: JobSpec[],
  warmup: JobSpec[],
  startConsumers: () => Promise<Proc[]>,
  extraProbes: CpuProbe[],
) {
  await queue.pause();
  const procs = await startConsumers();
  await addJobs(queue, warmup);
  await queue.resume();
  await waitUntil(
    `${warmup.length} warm-up jobs finished on ${queue.opts.prefix}`,
    async () => {
      const c = await finishedJobs(queue);
      return c.completed + c.failed >= warmup.length ? true : undefined;
    },
    { timeoutMs: DRAIN_LIMIT_MS, everyMs: 20, alive: procs },
  );
  await queue.pause();
  const warm = await finishedJobs(queue);
  const addMs = await addJobs(queue, jobs);
  const db = new DbSampler(ctx);
  await db.begin();
  const cpu = startCpu([...procs.map(procProbe), ...extraProbes]);
  const startedAt = Date.now();
  await queue.resume();
  let polls = 0;
  const counts = await waitUntil(
    `${jobs.length} finished jobs on ${queue.opts.prefix}`,
    async () => {
      if (polls++ % 5 === 0) await db.sample();
      const c = await finishedJobs(queue);
      return c.completed + c.failed >= warm.completed + warm.failed + jobs.length ? c : undefined;
    },
    { timeoutMs: DRAIN_LIMIT_MS, everyMs: 20, alive: procs },
  );
  const cpuPercent = cpu.end();
  const endedAt = await lastFinishedAt(ctx.redis, queue.opts.prefix!, queue.name);
  const ms = endedAt - startedAt;
  return {
    procs,
    db,
    figures: {
      jobs: jobs.length,
      addBulkPerSec: round(jobs.length / (addMs / 1000), 0),
      drainMs: ms,
      perSec: round(jobs.length / (ms / 1000), 0),
      completed: counts.completed - warm.completed,
      failed: counts.failed - warm.failed,
      cpuPercent,
    },
  };
}

/**
 * Scenario 1: what one process draining no-op jobs at concurrency 50 achieves. `round` names one
 * of several measurements in a run (the ceiling is taken before and after each drain).
 */
export async function queueCeiling(
  ctx: BenchContext,
  jobCount: number,
  probes: CpuProbe[],
  round = '',
) {
  const prefix = ctx.name(`s1${round}`);
  const queue = ctx.issuanceQueue(prefix);
  try {
    const jobs = issuanceJobs(jobCount / 2, [randomUUID(), randomUUID()]);
    const warmup = issuanceJobs((jobCount / 2) * WARMUP_SHARE, [randomUUID(), randomUUID()]);
    const { procs, figures } = await timedDrain(
      ctx,
      queue,
      jobs,
      warmup,
      async () => {
        const { proc } = await ctx.startBaseline(`s1${round} noop-worker`, 'bench/noop-worker.ts', {
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          QUEUE_NAME: QUEUE_NAMES.issuance,
          CONCURRENCY: '50',
        });
        return [proc];
      },
      probes,
    );
    await stopAll(procs);
    log(
      `queue ceiling${round && ` ${round}`}: ${figures.perSec} jobs/s (${figures.jobs} in ${figures.drainMs} ms)`,
    );
    return figures;
  } finally {
    await queue.close();
    await ctx.deleteKeys(prefix);
  }
}

/**
 * Scenario 2: the issuance path drained by `workers` worker processes of the real program: users x 2
 * jobs on two fresh DIRECT policies of quota `users`, checked exactly in SQL afterwards.
 */
export async function issuanceDrain(
  ctx: BenchContext,
  round: string,
  users: number,
  workers: number,
  probes: CpuProbe[],
  /** Settings for the worker processes beyond the defaults (for diagnostics). */
  settings: Record<string, string> = {},
) {
  const prefix = ctx.name(`s2-${round}`);
  const queue = ctx.issuanceQueue(prefix);
  try {
    const policyIds = [
      await ctx.insertPolicy(`s2 ${round} A`, users),
      await ctx.insertPolicy(`s2 ${round} B`, users),
    ];
    const jobs = issuanceJobs(users, policyIds);
    // The warm-up issues on two policies of its own, so the checks below see only the timed jobs.
    const warmUsers = users * WARMUP_SHARE;
    const warmup = issuanceJobs(warmUsers, [
      await ctx.insertPolicy(`s2 ${round} warm-up A`, warmUsers),
      await ctx.insertPolicy(`s2 ${round} warm-up B`, warmUsers),
    ]);
    const { procs, figures, db } = await timedDrain(
      ctx,
      queue,
      jobs,
      warmup,
      async () => {
        const started = await Promise.all(
          Array.from({ length: workers }, (_, i) =>
            ctx.startService(`s2 ${round} worker-${i + 1}`, 'worker', {
              ROLES: 'worker',
              QUEUE_PREFIX: prefix,
              ...settings,
            }),
          ),
        );
        return started.map((s) => s.proc);
      },
      probes,
    );
    const warnings = procs.reduce((sum, p) => sum + p.warnings, 0);
    await stopAll(procs);
    const policies = await ctx.policyFigures(policyIds);
    const { rows } = await ctx.pg.query<{ n: number }>(
      'select count(*)::int as n from coupons where policy_id = any($1::uuid[])',
      [policyIds],
    );
    const coupons = rows[0]?.n ?? 0;
    const postgres = await db.end(coupons);
    const exact =
      coupons === jobs.length &&
      figures.completed === jobs.length &&
      figures.failed === 0 &&
      policies.every(
        (p) => p.issued === p.quota && p.coupons === p.quota && p.maxPerUser <= p.perUserLimit,
      );
    log(
      `issuance drain, ${workers} worker(s): ${figures.perSec} coupons/s ` +
        `(${figures.jobs} in ${figures.drainMs} ms), exact: ${exact}`,
    );
    log(
      `  PostgreSQL: ${postgres.transactions} transactions (${postgres.couponsPerTransaction} coupons each), ` +
        `${postgres.avgActiveBackends} backends active of which ${postgres.avgBackendsWaitingOnLock} waiting on a lock`,
    );
    return {
      ...figures,
      workers,
      coupons,
      policies,
      exact,
      postgres,
      warningLines: warnings,
      policyIds,
    };
  } finally {
    await queue.close();
    await ctx.deleteKeys(prefix);
  }
}
