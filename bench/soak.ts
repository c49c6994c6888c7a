import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Queue } from 'bullmq';
import { parseEnv } from '../src/infra/config/env.js';
import { QUEUE_NAMES } from '../src/infra/queue/queues.js';
import {
  adminQuery,
  BenchContext,
  log,
  sleep,
  withTimeout as timed,
  waitUntil,
} from './lib/context.js';
import { round } from './lib/cpu.js';
import { allProcs, memoryMb, type Proc, ROOT, shutdownAll, stopAll } from './lib/proc.js';
import { buildAndMigrate } from './lib/setup.js';
import {
  abuse,
  idempotencyScope,
  latencyWindow,
  normalTraffic,
  send,
  userToken,
} from './lib/soak-load.js';
import { attribute, keysUnder, type RedisMemory, redisMemory } from './lib/soak-redis.js';

const SOAK_SECONDS = Math.max(20, Number(process.env.SOAK_SECONDS ?? 300));
const SAMPLE_MS = 10_000;
const NORMAL_USERS = Number(process.env.SOAK_USERS ?? 200);
const NORMAL_RPS = Number(process.env.SOAK_NORMAL_RPS ?? 50);
/** The abuser sends this many times what the rate limit lets through. */
const ABUSE_FACTOR = Number(process.env.SOAK_ABUSE_FACTOR ?? 2);
/** Of which coupon actions (reserve, release in turn) a second. */
const ABUSE_ACTION_RPS = 2;
const ABUSER = 'soak-abuser';
/** The Idempotency-Key of the issuance of the abuser's coupon. */
const SETUP_KEY = 'soak-setup';
const STEP_LIMIT_MS = 30_000;
const RUN_LIMIT_MS = SOAK_SECONDS * 1000 + 6 * 60_000;

// ---------------------------------------------------------------------------------------------
// The bound, derived in bench/README.md (2026-12-05). Sizes are MEMORY USAGE figures of Redis 7.0
// measured in the trials and the first full run, rounded up.

/**
 * One accepted request that makes a job, ≤ 3 KiB: its job hash (a failed one up to 1,784 B, of
 * which 395 B stack trace; a completed issuance 1,504 B, of which 277 B result), its entry in the
 * failed or completed set (150 / 136 B), its idempotency record (232 B), and what the server spends
 * on each of those two keys beyond MEMORY USAGE (its key and expiry tables: ~83 B measured):
 * 2,330 B at most.
 */
const REQUEST_BYTES = 3072;
/** One rate-limit, quota or code-attempt key: a counter with a TTL, 104–128 B measured. */
const LIMIT_KEY_BYTES = 256;
/**
 * Keys of one caller that are not per request: its rate-limit key, its daily quota key (two if the
 * run crosses midnight UTC), its quota key per coupon and hour (two if it crosses an hour) and its
 * count of failed codes.
 */
const LIMIT_KEYS_PER_CALLER = 6;
/**
 * What grows with neither callers nor requests, 8 MiB: the event streams of the three queues,
 * which BullMQ trims to about 10,000 entries (1.64 MB measured at 10,024 entries: ≤ 1.7 MB each,
 * 5.1 MB), the queues' counters and metadata (< 1 KB), and the server's own: client buffers, cached
 * scripts, a key table's doubling (≤ 2 MB together at a run's ~17,000 keys on an idle server).
 */
const FIXED_BYTES = 8 * 2 ** 20;
/**
 * A process's RSS may be this much higher in the last minute than in the first: ~2 KB for each of
 * the ~17,000 requests of the four minutes between, where nothing is held once a request is answered
 * (the limits are counted in Redis; the token cache holds 201 tokens). V8 grows its heap by steps of
 * a few MB between full collections.
 */
const RSS_GROWTH_MB = 32;
/**
 * used_memory is judged only while the keys of other clients of the shared Redis (outside the run's
 * prefix) change by at most this many: a test's few transient keys, not another run's thousands.
 */
const OTHER_KEYS_TOLERANCE = 20;
/** The normal traffic's last-minute p99 may be at most this many times its first minute's … */
const P99_FACTOR = 2;
/** … and at most this. */
const P99_LIMIT_MS = 250;

// ---------------------------------------------------------------------------------------------

const withTimeout = <T>(what: string, work: Promise<T>, ms = STEP_LIMIT_MS): Promise<T> =>
  timed(what, work, ms);

async function setUp(ctx: BenchContext): Promise<void> {
  await buildAndMigrate(ctx, STEP_LIMIT_MS);
}

async function cleanUp(ctx: BenchContext, prefix: string): Promise<void> {
  const step = async (what: string, work: () => Promise<unknown>) => {
    try {
      await withTimeout(what, work());
    } catch (error) {
      log(`clean-up: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await step('stopping processes', () => shutdownAll());
  await step('deleting queue keys', async () => {
    const deleted = await ctx.deleteKeys(prefix);
    // Anything else of this run (there is nothing else, but the prefix is the run's).
    await ctx.deleteKeys(ctx.queuePrefix);
    log(`clean-up: ${deleted} keys under ${prefix} deleted`);
  });
  await step('closing PostgreSQL pool', () => ctx.pg.end());
  await step('dropping the database', () =>
    adminQuery(`drop database if exists "${ctx.dbName}" with (force)`),
  );
  await step('closing Redis', () => ctx.redis.quit());
}

interface Sample {
  /** `load`: taken while the load ran or as it ended; `drained`: once every job had finished. */
  when: 'load' | 'drained';
  atS: number;
  usedMemory: number;
  growthBytes: number;
  prefixKeys: number;
  dbsize: number;
  rssMb: Record<string, number>;
}

/** The service's limits: its defaults, or what BENCH_SERVICE_ENV sets. */
function serviceLimits(ctx: BenchContext) {
  const defaults = parseEnv({ NODE_ENV: 'development' });
  const extra = {
    RATE_LIMIT_MAX: String(defaults.RATE_LIMIT_MAX),
    RATE_LIMIT_WINDOW_MS: String(defaults.RATE_LIMIT_WINDOW_MS),
    CALLER_DAILY_JOB_LIMIT: String(defaults.CALLER_DAILY_JOB_LIMIT),
    COUPON_ACTION_LIMIT: String(defaults.COUPON_ACTION_LIMIT),
  };
  const effective = ctx.env(extra);
  return {
    extra,
    rateLimitMax: effective.RATE_LIMIT_MAX,
    rateLimitWindowMs: effective.RATE_LIMIT_WINDOW_MS,
    dailyJobLimit: effective.CALLER_DAILY_JOB_LIMIT,
    couponActionLimit: effective.COUPON_ACTION_LIMIT,
    codeAttemptMax: effective.CODE_ATTEMPT_MAX,
    codeAttemptWindowMs: effective.CODE_ATTEMPT_WINDOW_MS,
    durability: effective.REDIS_DURABILITY,
  };
}

async function soak(ctx: BenchContext, prefix: string, stopped: () => boolean) {
  await setUp(ctx);
  const limits = serviceLimits(ctx);
  if (limits.dailyJobLimit === 0) throw new Error('the soak needs CALLER_DAILY_JOB_LIMIT > 0');
  const limitRps =
    limits.rateLimitMax > 0 ? limits.rateLimitMax / (limits.rateLimitWindowMs / 1000) : 10;
  const abuseIssuanceRps = Math.max(1, limitRps * ABUSE_FACTOR - ABUSE_ACTION_RPS);
  log(
    `limits: ${limits.rateLimitMax} requests per ${limits.rateLimitWindowMs} ms, ${limits.dailyJobLimit} job-making requests a day, ${limits.couponActionLimit} actions per coupon an hour, ${limits.codeAttemptMax} failed codes per ${limits.codeAttemptWindowMs / 60_000} min (REDIS_DURABILITY=${limits.durability}: the shared Redis does not persist)`,
  );

  const policyId = await ctx.insertPolicy('soak direct', 1_000_000, 100_000);
  const abuserToken = await userToken(ABUSER);
  const tokens = await Promise.all(
    Array.from({ length: NORMAL_USERS }, (_, i) => userToken(`soak-user-${i}`)),
  );

  const env = { QUEUE_PREFIX: prefix, ...limits.extra };
  const [api, worker] = await Promise.all([
    ctx.startService('soak api', 'api', { ...env, ROLES: 'api' }),
    ctx.startService('soak worker', 'worker', { ...env, ROLES: 'worker' }),
  ]);
  const procs: Proc[] = [api.proc, worker.proc];
  const baseUrl = api.baseUrl!;

  const memory0 = await redisMemory(ctx.redis);
  const keys0 = (await keysUnder(ctx.redis, prefix)).length;
  const dbsize0 = await ctx.redis.dbsize();
  log(`baseline: Redis used_memory ${mb(memory0.usedMemory)} MB, ${keys0} keys under the prefix`);

  // The abuser's own coupon, issued through the API (one of its job-making requests of the day).
  const setupAnswer = await send(
    baseUrl,
    'POST',
    '/v1/issuances',
    abuserToken,
    { policyId },
    SETUP_KEY,
  );
  if (setupAnswer.status !== 202) throw new Error(`abuser's issuance: ${setupAnswer.body}`);
  const setupJob = (JSON.parse(setupAnswer.body) as { jobId: string }).jobId;
  const couponId = await waitUntil(
    "the abuser's coupon",
    async () => {
      const answer = await send(baseUrl, 'GET', `/v1/jobs/${setupJob}`, abuserToken);
      const job = JSON.parse(answer.body) as {
        state?: string;
        result?: { coupon?: { id: string } };
      };
      if (job.state === 'failed') throw new Error(`abuser's issuance failed: ${answer.body}`);
      return job.result?.coupon?.id;
    },
    { timeoutMs: 20_000, everyMs: 100, alive: procs },
  );

  const samples: Sample[] = [];
  const sample = async (atS: number, when: Sample['when'] = 'load') => {
    const memory = await redisMemory(ctx.redis);
    const rssMb: Record<string, number> = {};
    for (const proc of procs) {
      try {
        rssMb[proc.name] = round(memoryMb(proc.pid).rssMb, 1);
      } catch {
        rssMb[proc.name] = Number.NaN;
      }
    }
    const entry: Sample = {
      when,
      atS: Math.round(atS),
      usedMemory: memory.usedMemory,
      growthBytes: memory.usedMemory - memory0.usedMemory,
      prefixKeys: (await keysUnder(ctx.redis, prefix)).length,
      dbsize: await ctx.redis.dbsize(),
      rssMb,
    };
    samples.push(entry);
    log(
      `t=${entry.atS}s Redis +${mb(entry.growthBytes)} MB, ${entry.prefixKeys} keys under the prefix, RSS ${Object.entries(
        rssMb,
      )
        .map(([name, value]) => `${name} ${value} MB`)
        .join(', ')}`,
    );
    return entry;
  };

  log(
    `soak: ${SOAK_SECONDS} s; abuser ${abuseIssuanceRps} issuances/s + ${ABUSE_ACTION_RPS} actions/s (the limit lets ${limitRps}/s through), ${NORMAL_USERS} normal users at ${NORMAL_RPS} req/s in all`,
  );
  const loadAverageStart = os.loadavg().map((v) => round(v, 2));
  const startedAt = performance.now();
  const durationMs = SOAK_SECONDS * 1000;
  let loadDone = false;
  await sample(0);
  const sampler = (async () => {
    for (let n = 1; !loadDone && !stopped(); n++) {
      const due = startedAt + n * SAMPLE_MS;
      while (!loadDone && !stopped() && performance.now() < due) await sleep(200);
      if (loadDone || stopped()) break;
      await sample((performance.now() - startedAt) / 1000);
    }
  })();
  const [abuser, normal] = await Promise.all([
    abuse(
      {
        baseUrl,
        token: abuserToken,
        sub: ABUSER,
        couponId,
        issuanceRps: abuseIssuanceRps,
        actionRps: ABUSE_ACTION_RPS,
        durationMs,
        stopped,
      },
      startedAt,
    ),
    normalTraffic(
      { baseUrl, tokens, policyId, ratePerSec: NORMAL_RPS, durationMs, stopped },
      startedAt,
    ),
  ]);
  loadDone = true;
  await sampler;
  const loadS = (performance.now() - startedAt) / 1000;
  // The sampler's last round may have fallen on the end already.
  if ((samples.at(-1)?.atS ?? 0) < Math.round(loadS)) await sample(loadS);

  // Every job finished: the keys counted are what stays for a day.
  const queues = [QUEUE_NAMES.issuance, QUEUE_NAMES.usage].map(
    (name) => new Queue(name, { connection: ctx.redis, prefix }),
  );
  try {
    await waitUntil(
      'the queues to drain',
      async () => {
        const counts = await Promise.all(
          queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
        );
        const pending = counts.flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0);
        return pending === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200, alive: procs },
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
  const end = await sample((performance.now() - startedAt) / 1000, 'drained');
  const memoryEnd = await redisMemory(ctx.redis);
  // The record of the issuance of the abuser's coupon is the abuser's too.
  abuser.idempotencyScopes.add(idempotencyScope(QUEUE_NAMES.issuance, ABUSER, SETUP_KEY));
  const attribution = await attribute(ctx.redis, prefix, ABUSER, abuser.idempotencyScopes);
  const peakRssMb = Object.fromEntries(
    procs.map((proc) => [proc.name, round(memoryMb(proc.pid).peakRssMb, 1)]),
  );
  const warnings = Object.fromEntries(procs.map((proc) => [proc.name, proc.warnings]));
  const loadAverageEnd = os.loadavg().map((v) => round(v, 2));
  const firstWarnings = procs.flatMap((proc) =>
    proc.firstWarnings.map((l) => `[${proc.name}] ${l}`),
  );
  await stopAll(procs);

  return evaluate({
    limits,
    limitRps,
    abuseIssuanceRps,
    loadS,
    abuser,
    normal,
    samples,
    memory0,
    memoryEnd,
    keys0,
    dbsize0,
    end,
    attribution,
    peakRssMb,
    warnings,
    firstWarnings,
    procNames: procs.map((p) => p.name),
    loadAverage: { start: loadAverageStart, end: loadAverageEnd },
  });
}

function evaluate(run: {
  limits: ReturnType<typeof serviceLimits>;
  limitRps: number;
  abuseIssuanceRps: number;
  loadS: number;
  abuser: Awaited<ReturnType<typeof abuse>>;
  normal: Awaited<ReturnType<typeof normalTraffic>>;
  samples: Sample[];
  memory0: RedisMemory;
  memoryEnd: RedisMemory;
  keys0: number;
  dbsize0: number;
  end: Sample;
  attribution: Awaited<ReturnType<typeof attribute>>;
  peakRssMb: Record<string, number>;
  warnings: Record<string, number>;
  firstWarnings: string[];
  procNames: string[];
  loadAverage: { start: number[]; end: number[] };
}) {
  const { limits, abuser, normal, samples, attribution } = run;
  const codeIssuances = abuser.codeIssuances.summary();
  const policyIssuances = abuser.policyIssuances.summary();
  const actions = abuser.actions.summary();
  // The coupon the abuser reserves was issued to it through the API: one more accepted request.
  const abuserAccepted =
    codeIssuances.accepted202 + policyIssuances.accepted202 + actions.accepted202 + 1;
  const firstDailyLimitAtS = Math.min(
    ...[codeIssuances, policyIssuances, actions].map(
      (c) => c.firstDailyLimitAtS ?? Number.POSITIVE_INFINITY,
    ),
  );
  const normalIssues = normal.issues.summary();
  const normalPolls = normal.polls.summary();
  const every10s = Array.from({ length: Math.ceil(SOAK_SECONDS / 10) }, (_, i) =>
    latencyWindow(normal.latencies, i * 10, Math.min(SOAK_SECONDS, (i + 1) * 10)),
  );
  const firstMinute = latencyWindow(normal.latencies, 0, 60);
  const lastMinute = latencyWindow(normal.latencies, Math.max(0, SOAK_SECONDS - 60), SOAK_SECONDS);

  const abuserKeys = Object.values(attribution.byOwner.abuser).reduce((s, c) => s + c.keys, 0);
  const abuserBytes = Object.values(attribution.byOwner.abuser).reduce((s, c) => s + c.bytes, 0);
  const keyBound = 2 * limits.dailyJobLimit + LIMIT_KEYS_PER_CALLER;
  const abuserBytesBound =
    limits.dailyJobLimit * REQUEST_BYTES + LIMIT_KEYS_PER_CALLER * LIMIT_KEY_BYTES;
  const normalBytesBound =
    normalIssues.accepted202 * REQUEST_BYTES +
    NORMAL_USERS * LIMIT_KEYS_PER_CALLER * LIMIT_KEY_BYTES;
  const memoryBound = abuserBytesBound + normalBytesBound + FIXED_BYTES;
  const peakGrowth = Math.max(...samples.map((s) => s.growthBytes));
  const otherKeysDelta = run.end.dbsize - run.end.prefixKeys - (run.dbsize0 - run.keys0);
  // The shared Redis has other clients (tests, other runs): used_memory says what this run keeps
  // only while the keys outside its prefix stay as they were.
  const othersMoved = Math.max(
    ...samples.map((x) => Math.abs(x.dbsize - x.prefixKeys - (run.dbsize0 - run.keys0))),
  );

  const rss = run.procNames.map((name) => {
    const of = (from: number, to: number) =>
      Math.max(
        ...samples
          .filter((s) => s.atS >= from && s.atS <= to)
          .map((s) => s.rssMb[name] ?? Number.NaN),
      );
    const first = of(0, 60);
    const last = of(Math.max(0, SOAK_SECONDS - 60), Number.POSITIVE_INFINITY);
    return {
      name,
      firstMinuteMaxMb: first,
      lastMinuteMaxMb: last,
      growthMb: round(last - first, 1),
      peakRssMb: run.peakRssMb[name],
    };
  });

  const checks = [
    {
      name: `the abuser's accepted requests ≤ the daily limit (${limits.dailyJobLimit})`,
      value: abuserAccepted,
      ok: abuserAccepted <= limits.dailyJobLimit,
    },
    {
      name: `the abuser's keys ≤ 2 × daily limit + ${LIMIT_KEYS_PER_CALLER} (${keyBound})`,
      value: abuserKeys,
      ok: abuserKeys <= keyBound,
    },
    {
      name: `the abuser's bytes (MEMORY USAGE) ≤ daily limit × ${REQUEST_BYTES} + ${LIMIT_KEYS_PER_CALLER} × ${LIMIT_KEY_BYTES} (${abuserBytesBound})`,
      value: abuserBytes,
      ok: abuserBytes <= abuserBytesBound,
    },
    {
      name: `the keys under the prefix (MEMORY USAGE, drained) ≤ the bound (${memoryBound})`,
      value: attribution.bytes,
      ok: attribution.bytes <= memoryBound,
    },
    {
      name: `Redis used_memory growth (peak of the samples) ≤ the bound (${memoryBound})`,
      value: peakGrowth,
      // Judged only while the rest of the shared Redis stood still.
      ok: othersMoved <= OTHER_KEYS_TOLERANCE ? peakGrowth <= memoryBound : null,
    },
    ...rss.map((r) => ({
      name: `${r.name}: RSS growth, last minute over first ≤ ${RSS_GROWTH_MB} MB`,
      value: r.growthMb,
      ok: r.growthMb <= RSS_GROWTH_MB,
    })),
    {
      name: `normal p99, last minute ≤ ${P99_FACTOR} × first minute (${round(P99_FACTOR * firstMinute.p99Ms, 1)} ms)`,
      value: lastMinute.p99Ms,
      ok: lastMinute.p99Ms <= P99_FACTOR * firstMinute.p99Ms,
    },
    {
      name: `normal p99, last minute ≤ ${P99_LIMIT_MS} ms`,
      value: lastMinute.p99Ms,
      ok: lastMinute.p99Ms <= P99_LIMIT_MS,
    },
    {
      name: 'normal traffic: every request answered 2xx',
      value: normalIssues.sent + normalPolls.sent - normalIssues.ok2xx - normalPolls.ok2xx,
      ok: normalIssues.ok2xx === normalIssues.sent && normalPolls.ok2xx === normalPolls.sent,
    },
  ];
  const growthNote =
    othersMoved <= OTHER_KEYS_TOLERANCE
      ? null
      : `Other clients of the shared Redis changed up to ${othersMoved} keys outside the prefix during the run (${otherKeysDelta} at the end): used_memory's growth is theirs and this run's together and is not judged; the bound is checked against the bytes of the keys under the prefix (MEMORY USAGE).`;

  return {
    settings: {
      soakSeconds: SOAK_SECONDS,
      loadS: round(run.loadS, 1),
      normalUsers: NORMAL_USERS,
      normalRps: NORMAL_RPS,
      abuserIssuanceRps: run.abuseIssuanceRps,
      abuserActionRps: ABUSE_ACTION_RPS,
      limitRps: run.limitRps,
      ...limits,
      /** The machine's 1, 5 and 15 min load averages as the load began and once it was over. */
      loadAverage: run.loadAverage,
    },
    abuser: {
      codeIssuances,
      policyIssuances,
      actions,
      acceptedInAll: abuserAccepted,
      firstDailyLimitAtS: Number.isFinite(firstDailyLimitAtS) ? firstDailyLimitAtS : null,
    },
    normal: {
      issues: normalIssues,
      polls: { ...normalPolls, states: normal.pollStates },
      firstMinute,
      lastMinute,
      every10s,
    },
    redis: {
      usedMemoryStart: run.memory0.usedMemory,
      usedMemoryEnd: run.memoryEnd.usedMemory,
      growthEndBytes: run.end.growthBytes,
      growthPeakBytes: peakGrowth,
      boundBytes: memoryBound,
      bound: {
        abuserBytes: abuserBytesBound,
        normalBytes: normalBytesBound,
        fixedBytes: FIXED_BYTES,
        requestBytes: REQUEST_BYTES,
        limitKeyBytes: LIMIT_KEY_BYTES,
      },
      infoStart: run.memory0,
      infoEnd: run.memoryEnd,
      keysStart: run.keys0,
      keysEnd: run.end.prefixKeys,
      keysOutsidePrefixDelta: otherKeysDelta,
      attribution,
      abuserKeys,
      abuserBytes,
      abuserKeyBound: keyBound,
      keysOutsidePrefixMovedMax: othersMoved,
      growthNote,
    },
    rss,
    samples,
    warnings: run.warnings,
    firstWarnings: run.firstWarnings,
    checks,
    ok: checks.every((c) => c.ok !== false),
  };
}

type Figures = ReturnType<typeof evaluate>;

const mb = (bytes: number) => round(bytes / 2 ** 20, 2);
const n = (value: number) => value.toLocaleString('en-US');

function markdown(f: Figures, meta: { date: string; runId: string; node: string }): string {
  const s = f.settings;
  const a = f.abuser;
  const reasons = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ') || '–';
  const owners = f.redis.attribution.byOwner;
  const lines = [
    `# Soak ${meta.date}`,
    '',
    `Run \`${meta.runId}\`, Node ${meta.node}, \`npm run bench:soak\` with SOAK_SECONDS=${s.soakSeconds}. ` +
      `One api and one worker process with the service's default limits: ${s.rateLimitMax} requests per ${s.rateLimitWindowMs / 1000} s per caller, ` +
      `${n(s.dailyJobLimit)} job-making requests per user and UTC day, ${s.couponActionLimit} actions per coupon and hour, ` +
      `${s.codeAttemptMax} failed codes per ${s.codeAttemptWindowMs / 60_000} min ` +
      `(REDIS_DURABILITY=${s.durability}: the shared Redis on 6379 does not persist). ` +
      `The abuser sends ${s.abuserIssuanceRps} issuances/s, a fresh Idempotency-Key each, in turn with a random wrong code and a random unknown policy id, and ${s.abuserActionRps} reserve/release/s on its coupon; ` +
      `${s.normalUsers} normal users send ${s.normalRps} req/s in all (POST /v1/issuances on a DIRECT policy, then GET /v1/jobs/:id).`,
    '',
    `**${f.ok ? 'PASS' : 'FAIL'}**`,
    '',
    '## Abusive caller',
    '',
    '| requests | sent | 202 | 429 | 429 by reason | other |',
    '|---|---:|---:|---:|---|---:|',
    ...(
      [
        ['issuances, wrong code', a.codeIssuances],
        ['issuances, unknown policy', a.policyIssuances],
        ['reserve/release', a.actions],
      ] as const
    ).map(
      ([label, c]) =>
        `| ${label} | ${n(c.sent)} | ${n(c.accepted202)} | ${n(c.limited429)} | ${reasons(c.by429Reason)} | ${n(c.other)} |`,
    ),
    '',
    `Accepted in all, with the issuance of its coupon: ${n(a.acceptedInAll)} (daily limit ${n(s.dailyJobLimit)}); ` +
      `first 429 for the daily limit at t=${a.firstDailyLimitAtS ?? '–'} s.`,
    '',
    '## Normal traffic',
    '',
    '| window | requests | non-2xx | p50 ms | p99 ms | max ms | p99 POST ms | p99 GET ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...(
      [
        ['first minute', f.normal.firstMinute],
        ['last minute', f.normal.lastMinute],
      ] as const
    ).map(
      ([label, w]) =>
        `| ${label} (${w.fromS}–${w.toS} s) | ${n(w.requests)} | ${w.non2xx} | ${w.p50Ms} | ${w.p99Ms} | ${w.maxMs} | ${w.issueP99Ms} | ${w.pollP99Ms} |`,
    ),
    '',
    `POST: ${n(f.normal.issues.sent)} sent, ${n(f.normal.issues.accepted202)} accepted; GET: ${n(f.normal.polls.sent)} sent, states ${reasons(f.normal.polls.states)}.`,
    '',
    '## Redis',
    '',
    '| | start | end | growth | bound |',
    '|---|---:|---:|---:|---:|',
    `| used_memory (shared server), bytes | ${n(f.redis.usedMemoryStart)} | ${n(f.redis.usedMemoryEnd)} | ${n(f.redis.growthEndBytes)} (peak ${n(f.redis.growthPeakBytes)}) | ${n(f.redis.boundBytes)} |`,
    `| keys under the run's prefix | ${n(f.redis.keysStart)} | ${n(f.redis.keysEnd)} | ${n(f.redis.keysEnd - f.redis.keysStart)} | |`,
    `| the abuser's keys | | ${n(f.redis.abuserKeys)} | | ${n(f.redis.abuserKeyBound)} |`,
    `| the abuser's bytes (MEMORY USAGE) | | ${n(f.redis.abuserBytes)} | | ${n(f.redis.bound.abuserBytes)} |`,
    '',
    `Bound = daily limit × ${f.redis.bound.requestBytes} B (the abuser) + accepted normal POSTs × ${f.redis.bound.requestBytes} B + ` +
      `callers × ${LIMIT_KEYS_PER_CALLER} × ${f.redis.bound.limitKeyBytes} B + ${mb(f.redis.bound.fixedBytes)} MB fixed ` +
      `= ${n(f.redis.bound.abuserBytes)} + ${n(f.redis.bound.normalBytes)} + ${n(f.redis.bound.fixedBytes)} B (derivation: bench/README.md, 2026-12-05). ` +
      `Keys under the prefix hold ${n(f.redis.attribution.bytes)} B (MEMORY USAGE) at the end.`,
    ...(f.redis.growthNote ? ['', f.redis.growthNote] : []),
    '',
    '| owner | job hashes | bytes | idempotency records | bytes | limit keys | bytes | queue keys | bytes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...(['abuser', 'normal', 'shared'] as const).map((owner) => {
      const c = owners[owner];
      return `| ${owner} | ${n(c.jobs.keys)} | ${n(c.jobs.bytes)} | ${n(c.idempotency.keys)} | ${n(c.idempotency.bytes)} | ${n(c.limits.keys)} | ${n(c.limits.bytes)} | ${n(c.queue.keys)} | ${n(c.queue.bytes)} |`;
    }),
    '',
    `Mean job hash ${n(f.redis.attribution.meanJobBytes)} B, idempotency record ${n(f.redis.attribution.meanIdempotencyBytes)} B. Largest shared keys: ` +
      f.redis.attribution.largestShared
        .map((k) => `\`${k.key}\` (${k.type}, ${n(k.length)}) ${n(k.bytes)} B`)
        .join(', ') +
      '.',
    '',
    `The largest job hash of each, field by field (bytes): ${(['abuser', 'normal'] as const)
      .map(
        (owner) =>
          `${owner} ${Object.entries(f.redis.attribution.jobFields[owner] ?? {})
            .map(([field, length]) => `${field} ${length}`)
            .join(', ')}`,
      )
      .join('; ')}.`,
    '',
    '## RSS',
    '',
    '| process | first minute max MB | last minute max MB | growth MB | peak (VmHWM) MB |',
    '|---|---:|---:|---:|---:|',
    ...f.rss.map(
      (r) =>
        `| ${r.name} | ${r.firstMinuteMaxMb} | ${r.lastMinuteMaxMb} | ${r.growthMb} | ${r.peakRssMb} |`,
    ),
    '',
    '## Samples (every 10 s)',
    '',
    `| t (s) | used_memory growth (bytes) | keys under the prefix | ${f.rss.map((r) => `${r.name} RSS MB`).join(' | ')} | normal p50 / p99 ms, the 10 s before |`,
    `|---:|---:|---:|${f.rss.map(() => '---:').join('|')}|---:|`,
    ...f.samples.map((x) => {
      const w = f.normal.every10s.find((b) => b.toS === x.atS && x.when === 'load');
      return `| ${x.atS}${x.when === 'drained' ? ' (drained)' : ''} | ${n(x.growthBytes)} | ${n(x.prefixKeys)} | ${f.rss.map((r) => x.rssMb[r.name]).join(' | ')} | ${w ? `${w.p50Ms} / ${w.p99Ms}` : ''} |`;
    }),
    '',
    `Machine load average (1, 5, 15 min; 2 cores) as the load began: ${s.loadAverage.start.join(', ')}; as it ended: ${s.loadAverage.end.join(', ')}.`,
    '',
    '## Checks',
    '',
    '| check | value | |',
    '|---|---:|---|',
    ...f.checks.map(
      (c) =>
        `| ${c.name} | ${n(c.value)} | ${c.ok === null ? 'not judged' : c.ok ? 'ok' : '**FAIL**'} |`,
    ),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const ctx = new BenchContext();
  const prefix = ctx.name('soak');
  let stopping = false;
  let abort: (reason: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    abort = (reason) => {
      stopping = true;
      reject(reason);
    };
  });
  const watchdog = setTimeout(
    () => abort(new Error(`the soak passed its ${RUN_LIMIT_MS / 60_000} min limit`)),
    RUN_LIMIT_MS,
  );
  const onSignal = (signal: string) => abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`soak ${ctx.runId}: ${SOAK_SECONDS} s, queue prefix ${prefix}`);
  try {
    const figures = await Promise.race([soak(ctx, prefix, () => stopping), aborted]);
    const date = new Date().toISOString().slice(0, 10);
    const meta = { date, runId: ctx.runId, node: process.version };
    const text = markdown(figures, meta);
    const dir = `${ROOT}/bench/results`;
    mkdirSync(dir, { recursive: true });
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGb: round(os.totalmem() / 2 ** 30, 1),
    };
    writeFileSync(
      `${dir}/${date}-soak.json`,
      `${JSON.stringify({ ...meta, machine, ...figures }, null, 2)}\n`,
    );
    writeFileSync(`${dir}/${date}-soak.md`, text);
    console.log(`\n${text}`);
    log(`written bench/results/${date}-soak.json and .md`);
    for (const check of figures.checks.filter((c) => c.ok === false))
      console.error(`soak failed: ${check.name}: ${check.value}`);
    return figures.ok ? 0 : 1;
  } catch (error) {
    stopping = true;
    console.error(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp(ctx, prefix);
    for (const proc of allProcs().filter((p) => p.warnings > 0)) {
      log(`${proc.name}: ${proc.warnings} lines at warn or above, first:`);
      for (const line of proc.firstWarnings) console.log(`  ${line.slice(0, 300)}`);
    }
  }
}

process.exitCode = await main();
// Nothing of the run is left; pending timers (a load loop cut short) must not keep it alive.
process.exit(process.exitCode);
