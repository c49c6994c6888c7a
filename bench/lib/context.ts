import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { type Env, parseEnv } from '../../src/infra/config/env.js';
import { jobOptions, QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import { API_NODE_ARGS, WORKER_NODE_ARGS } from './node-args.js';
import { assertAlive, freePort, type Proc, type ProcKind, spawnNode, stop } from './proc.js';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const KAFKA_BROKERS = ['127.0.0.1:9092'];
export const JWT_SECRET = `bench-jwt-secret-${randomBytes(8).toString('hex')}`;
const CODE_HASH_SECRET = `bench-code-secret-${randomBytes(8).toString('hex')}`;

const START_LIMIT_MS = 45_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/**
 * Polls `check` every `everyMs` until it returns a value, for at most `timeoutMs` (and at most
 * timeoutMs / everyMs + 1 rounds); throws naming `what` otherwise.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  {
    timeoutMs,
    everyMs = 20,
    alive = [] as Proc[],
  }: { timeoutMs: number; everyMs?: number; alive?: Proc[] },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const rounds = Math.ceil(timeoutMs / everyMs) + 1;
  for (let round = 0; round < rounds && Date.now() <= deadline; round++) {
    assertAlive(alive);
    const value = await check();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Everything one run owns: its database, queue prefix, topics and groups, and the clients to them. */
/** BENCH_SERVICE_ENV=`WORKER_CONCURRENCY=2000 ISSUE_BATCH_MAX=1000`: settings for every service. */
const SERVICE_ENV_OVERRIDES: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_SERVICE_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_SERVICE_ENV: "${pair}" is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

export class BenchContext {
  readonly runId =
    `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}_${randomUUID().slice(0, 8)}`;
  readonly dbName = `bench_${this.runId}`;
  readonly databaseUrl = `${PG_URL}/${this.dbName}`;
  readonly queuePrefix = `bench-${this.runId}`;
  readonly topics = new Set<string>();
  readonly groups = new Set<string>();
  readonly pg = new pg.Pool({ connectionString: this.databaseUrl, max: 4 });
  readonly redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  readonly kafka = new Kafka({
    clientId: 'bench',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });

  /** A queue prefix, topic or group name of this run (all start with `bench-<runId>`). */
  name(part: string): string {
    return `${this.queuePrefix}-${part}`;
  }

  /**
   * The environment every process of the system gets; `extra` adds or overrides, and
   * BENCH_SERVICE_ENV (`NAME=value NAME=value`, for trying settings) overrides both.
   */
  serviceEnv(extra: Record<string, string>): Record<string, string> {
    return {
      NODE_ENV: 'development',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      JWT_SECRET,
      CODE_HASH_SECRET,
      RATE_LIMIT_MAX: '0',
      // Said knowingly: the figures are of the shared Redis on 6379, which does not persist here.
      REDIS_DURABILITY: 'off',
      // One load generator sends many requests under few tokens: no per-caller daily job limit.
      CALLER_DAILY_JOB_LIMIT: '0',
      QUEUE_PREFIX: this.name('unused'),
      KAFKA_PAYMENT_TOPIC: this.name('payments-unused'),
      KAFKA_COUPON_EVENTS_TOPIC: this.name('coupon-events-unused'),
      KAFKA_CONSUMER_GROUP: this.name('group-unused'),
      ...extra,
      ...SERVICE_ENV_OVERRIDES,
    };
  }

  /** The parsed settings the processes run with (job options, defaults). */
  env(extra: Record<string, string>): Env {
    return parseEnv(this.serviceEnv(extra));
  }

  /** A producer-side issuance queue with the service's job options, on its own prefix. */
  issuanceQueue(prefix: string): Queue {
    return new Queue(QUEUE_NAMES.issuance, {
      connection: this.redis,
      prefix,
      defaultJobOptions: jobOptions(this.env({ QUEUE_PREFIX: prefix })),
    });
  }

  /**
   * Starts `src/main.ts` with `ROLES=roles` as its own OS process and waits until it serves. An api
   * runs with LOG_LEVEL=warn (no line per request) on a free port picked here, ready when /health
   * answers; other roles run at info and are ready at their `started` line.
   */
  async startService(
    name: string,
    kind: ProcKind,
    extra: Record<string, string>,
  ): Promise<{ proc: Proc; baseUrl?: string }> {
    const roles = (extra.ROLES ?? '').split(',');
    const isApi = roles.includes('api');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = isApi ? await freePort() : 0;
      const proc = spawnNode(
        name,
        kind,
        'dist/main.js',
        this.serviceEnv({ LOG_LEVEL: isApi ? 'warn' : 'info', PORT: String(port), ...extra }),
        roles.includes('worker') ? WORKER_NODE_ARGS : API_NODE_ARGS,
      );
      try {
        if (!isApi) {
          await proc.waitForLine(
            (l) => l.includes('"msg":"started"'),
            'started line',
            START_LIMIT_MS,
          );
          return { proc };
        }
        const baseUrl = `http://127.0.0.1:${port}`;
        await waitUntil(
          `${name} /health`,
          async () => {
            try {
              const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
              return res.ok ? true : undefined;
            } catch {
              return undefined;
            }
          },
          { timeoutMs: START_LIMIT_MS, everyMs: 100, alive: [proc] },
        );
        return { proc, baseUrl };
      } catch (error) {
        await stop(proc);
        // The picked port may have been taken in between; anything else is fatal.
        if (!isApi || !proc.logs.some((l) => l.includes('EADDRINUSE')) || attempt === 3)
          throw error;
      }
    }
    throw new Error('unreachable');
  }

  /** Starts one of the bench's own baseline processes and waits for its `ready` line. */
  async startBaseline(name: string, script: string, env: Record<string, string>) {
    const proc = spawnNode(name, 'baseline', script, env, API_NODE_ARGS);
    const line = await proc.waitForLine(
      (l) => l.includes('"msg":"ready"'),
      'ready line',
      START_LIMIT_MS,
    );
    return { proc, ready: JSON.parse(line) as { port?: number } };
  }

  /** A DIRECT policy valid now, inserted straight into the table. */
  async insertPolicy(name: string, quota: number, perUserLimit = 1): Promise<string> {
    const id = randomUUID();
    await this.pg.query(
      `insert into coupon_policies (id, name, discount_type, discount_value, max_discount_amount,
                                    issue_type, total_quantity, per_user_limit, valid_from, valid_until)
       values ($1, $2, 'PERCENTAGE', 10, 5000, 'DIRECT', $3, $4,
               now() - interval '1 hour', now() + interval '7 days')`,
      [id, name, quota, perUserLimit],
    );
    return id;
  }

  /**
   * The SQL exactness check of a set of policies: issued_count, coupons, distinct users and the
   * largest number of coupons one user got, per policy.
   */
  async policyFigures(ids: string[]) {
    const { rows } = await this.pg.query<{
      id: string;
      quota: number;
      issued: number;
      coupons: number;
      users: number;
      maxPerUser: number;
      perUserLimit: number;
    }>(
      `select p.id, p.total_quantity as quota, p.issued_count as issued, p.per_user_limit as "perUserLimit",
              (select count(*)::int from coupons c where c.policy_id = p.id) as coupons,
              (select count(distinct user_id)::int from coupons c where c.policy_id = p.id) as users,
              (select coalesce(max(n), 0)::int from (select count(*) as n from coupons c
                 where c.policy_id = p.id group by c.user_id) x) as "maxPerUser"
         from coupon_policies p where p.id = any($1::uuid[]) order by p.name`,
      [ids],
    );
    return rows;
  }

  /** Sequential and index scans per table of the bench database (cumulative counters). */
  async tableScans(): Promise<
    Map<string, { seqScans: number; seqRowsRead: number; idxScans: number }>
  > {
    const { rows } = await this.pg.query<{ t: string; s: string; r: string; i: string }>(
      `select relname as t, seq_scan::text as s, seq_tup_read::text as r, coalesce(idx_scan, 0)::text as i
         from pg_stat_user_tables`,
    );
    return new Map(
      rows.map((row) => [
        row.t,
        { seqScans: Number(row.s), seqRowsRead: Number(row.r), idxScans: Number(row.i) },
      ]),
    );
  }

  /** What changed in `tableScans()` since `before`, for tables that were scanned at all. */
  async tableScansSince(before: Awaited<ReturnType<BenchContext['tableScans']>>) {
    const after = await this.tableScans();
    const diff: Record<string, { seqScans: number; seqRowsRead: number; idxScans: number }> = {};
    for (const [table, now] of after) {
      const then = before.get(table) ?? { seqScans: 0, seqRowsRead: 0, idxScans: 0 };
      const d = {
        seqScans: now.seqScans - then.seqScans,
        seqRowsRead: now.seqRowsRead - then.seqRowsRead,
        idxScans: now.idxScans - then.idxScans,
      };
      if (d.seqScans > 0 || d.idxScans > 0) diff[table] = d;
    }
    return diff;
  }

  /** Deletes every Redis key under `prefix` (SCAN + UNLINK, bounded). Returns how many. */
  /** How many keys match `pattern` (SCAN). */
  /** Issuance jobs decided at intake: entries of the per-day verdict hashes of `prefix`. */
  async countVerdicts(prefix: string): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}:verdicts:*`);
      for (const key of keys) count += await this.redis.hlen(key);
      cursor = next;
    } while (cursor !== '0');
    return count;
  }

  async deleteKeys(prefix: string): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    const deadline = Date.now() + 60_000;
    for (let round = 0; round < 100_000 && Date.now() < deadline; round++) {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      if (keys.length > 0) deleted += await this.redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return deleted;
  }
}

/** Counts of the issuance queue's finished jobs, and the time the last one finished (ms epoch). */
export async function finishedJobs(queue: Queue) {
  const counts = await queue.getJobCounts(
    'completed',
    'failed',
    'waiting',
    'active',
    'delayed',
    'prioritized',
  );
  return {
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    pending:
      (counts.waiting ?? 0) +
      (counts.active ?? 0) +
      (counts.delayed ?? 0) +
      (counts.prioritized ?? 0),
  };
}

/** The finish time of the last completed or failed job (the scores of BullMQ's finished sets). */
export async function lastFinishedAt(redis: Redis, prefix: string, queueName: string) {
  const latest = await Promise.all(
    ['completed', 'failed'].map(async (set) => {
      const [, score] = await redis.zrevrange(`${prefix}:${queueName}:${set}`, 0, 0, 'WITHSCORES');
      return Number(score ?? 0);
    }),
  );
  return Math.max(...latest);
}

/** The reasons of failed jobs, counted by their code (the text before the first colon). */
export async function failedReasons(redis: Redis, prefix: string, queueName: string) {
  const ids = await redis.zrange(`${prefix}:${queueName}:failed`, '0', '-1');
  const reasons: Record<string, number> = {};
  for (let i = 0; i < ids.length; i += 5000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 5000))
      pipeline.hget(`${prefix}:${queueName}:${id}`, 'failedReason');
    for (const [, reason] of (await pipeline.exec()) ?? []) {
      const code = String(reason ?? 'none').split(':')[0] ?? 'none';
      reasons[code] = (reasons[code] ?? 0) + 1;
    }
  }
  return reasons;
}

/** Runs one statement on the server's `postgres` database (a run's database is made and dropped so). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `work`, or a rejection naming `what` once `ms` have passed. */
export function withTimeout<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
