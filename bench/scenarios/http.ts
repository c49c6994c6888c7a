import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { jwtVerify, SignJWT } from 'jose';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import {
  type BenchContext,
  failedReasons,
  finishedJobs,
  JWT_SECRET,
  lastFinishedAt,
  log,
  REDIS_URL,
  waitUntil,
} from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { assertAlive, type Proc, stopAll } from '../lib/proc.js';

const key = new TextEncoder().encode(JWT_SECRET);

/** Real HS256 user tokens signed with jose. */
async function joseTokens(count: number, tag: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ role: 'user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`${tag}-${i}`)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key),
    ),
  );
}

const b64url = (text: string) => Buffer.from(text).toString('base64url');

/**
 * The same HS256 tokens jose makes, signed with node:crypto directly: 100,000 through jose's
 * WebCrypto path take ~12 s of this 2-core machine, this takes under one. Checked against jose.
 */
export async function fastTokens(count: number, tag: string): Promise<string[]> {
  const header = b64url(JSON.stringify({ alg: 'HS256' }));
  const iat = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: count }, (_, i) => {
    const payload = b64url(
      JSON.stringify({ role: 'user', sub: `${tag}-${i}`, iat, exp: iat + 3600 }),
    );
    const signature = createHmac('sha256', JWT_SECRET)
      .update(`${header}.${payload}`)
      .digest('base64url');
    return `${header}.${payload}.${signature}`;
  });
  const { payload } = await jwtVerify(tokens[count - 1]!, key, { algorithms: ['HS256'] });
  if (payload.sub !== `${tag}-${count - 1}`) throw new Error('fast tokens do not verify with jose');
  return tokens;
}

interface Load {
  url: string;
  policyId: string;
  tokens: string[];
  connections: number;
  durationS?: number;
  amount?: number;
  /** The request body, `{policyId}` unless given (e.g. `{code}` for a public code). */
  body?: Record<string, string>;
}

/**
 * autocannon with one token and body per request, rotating through `tokens` in order. `onAnswer`
 * sees every response: autocannon itself only notices the end at its next 1 s tick.
 */
function cannon(
  { url, policyId, tokens, connections, durationS, amount, body: given }: Load,
  onAnswer?: () => void,
) {
  let next = 0;
  const body = JSON.stringify(given ?? { policyId });
  return autocannon({
    url,
    connections,
    ...(amount !== undefined ? { amount } : { duration: durationS ?? 10 }),
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/v1/issuances',
        setupRequest: (request) => {
          const token = tokens[next++ % tokens.length]!;
          request.headers = { ...request.headers, authorization: `Bearer ${token}` };
          request.body = body;
          return request;
        },
        ...(onAnswer && { onResponse: onAnswer }),
      },
    ],
  });
}

export function summary(result: autocannon.Result) {
  return {
    reqPerSec: round(result['2xx'] / result.duration, 0),
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    durationS: result.duration,
    statusCodes: result.statusCodeStats ?? {},
  };
}

const WARMUP_S = 2;
/** The ingress load alternates between the two servers in slices this long (seconds). */
const SLICE_S = 5;

interface Server {
  label: string;
  proc: Proc;
  url: string;
  prefix: string;
}

/** Figures of several slices of load on one server, as if one run: counts summed, worst p99. */
function merged(results: autocannon.Result[], cpuPercent: Record<string, number>) {
  const parts = results.map(summary);
  const ok2xx = parts.reduce((sum, p) => sum + p.ok2xx, 0);
  const durationS = results.reduce((sum, r) => sum + r.duration, 0);
  return {
    reqPerSec: round(ok2xx / durationS, 0),
    ok2xx,
    non2xx: parts.reduce((sum, p) => sum + p.non2xx, 0),
    errors: parts.reduce((sum, p) => sum + p.errors, 0),
    timeouts: parts.reduce((sum, p) => sum + p.timeouts, 0),
    // Percentiles of slices cannot be merged: the median of the slices' medians, the worst p99.
    p50Ms: parts.map((p) => p.p50Ms).sort((a, b) => a - b)[Math.floor(parts.length / 2)]!,
    p99Ms: Math.max(...parts.map((p) => p.p99Ms)),
    maxMs: Math.max(...parts.map((p) => p.maxMs)),
    durationS: round(durationS),
    slices: parts.map((p) => p.reqPerSec),
    cpuPercent,
  };
}

/**
 * Loads the servers in turn, `SLICE_S` seconds each, until each had `durationS`: the machine's speed
 * drifts over tens of seconds (other tenants), and a baseline measured a minute before the service
 * would carry that drift into the ratio. Each server is warmed up first; each one's CPU is sampled
 * over its own slices only.
 */
async function alternate(
  servers: Server[],
  load: Omit<Load, 'url'>,
  durationS: number,
  probes: CpuProbe[],
) {
  for (const server of servers) await cannon({ ...load, url: server.url, durationS: WARMUP_S });
  const results = servers.map(() => [] as autocannon.Result[]);
  const cpuSums = servers.map(() => ({}) as Record<string, number>);
  for (let slice = 0; slice < Math.ceil(durationS / SLICE_S); slice++) {
    for (const [i, server] of servers.entries()) {
      const cpu = startCpu([procProbe(server.proc), ...probes]);
      results[i]!.push(await cannon({ ...load, url: server.url, durationS: SLICE_S }));
      for (const [name, percent] of Object.entries(cpu.end())) {
        cpuSums[i]![name] = (cpuSums[i]![name] ?? 0) + percent;
      }
      assertAlive([server.proc]);
    }
  }
  return servers.map((server, i) => {
    const slices = results[i]!.length;
    const cpuPercent = Object.fromEntries(
      Object.entries(cpuSums[i]!).map(([name, sum]) => [name, Math.round(sum / slices)]),
    );
    const figures = merged(results[i]!, cpuPercent);
    log(
      `ingress ${server.label}: ${figures.reqPerSec} req/s (slices ${figures.slices.join(', ')}), p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, non-2xx ${figures.non2xx}`,
    );
    return figures;
  });
}

/**
 * Scenario 3: POST /v1/issuances of the api role versus a bare enqueue route, 50 connections,
 * `durationS` each, in alternating slices. The bare route that also reads the body is informational.
 */
export async function httpIngress(ctx: BenchContext, durationS: number, probes: CpuProbe[]) {
  const policyId = await ctx.insertPolicy('s3 ingress', 1_000_000);
  const tokens = await joseTokens(300, 's3-user');
  const load = { policyId, tokens, connections: 50 };

  const startBare = async (parseBody: boolean): Promise<Server> => {
    const label = parseBody ? 'bare-enqueue+body' : 'bare-enqueue';
    const prefix = ctx.name(`s3-${label}`);
    const { proc, ready } = await ctx.startBaseline(`s3 ${label}`, 'bench/bare-enqueue.ts', {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      BARE_PARSE_BODY: parseBody ? '1' : '0',
    });
    return { label, proc, url: `http://127.0.0.1:${ready.port}`, prefix };
  };
  const startApi = async (): Promise<Server> => {
    const prefix = ctx.name('s3-api');
    const { proc, baseUrl } = await ctx.startService('s3 api', 'api', {
      ROLES: 'api',
      QUEUE_PREFIX: prefix,
    });
    return { label: 'api', proc, url: baseUrl!, prefix };
  };
  const servers: Server[] = [];
  try {
    // The baseline of the ratio, a route that only does `queue.add`, against the api; then,
    // informational, the same plus reading the JSON body (framework cost apart from ours).
    servers.push(await startBare(false), await startApi());
    const [bare, api] = await alternate(servers, load, durationS, probes);
    servers.push(await startBare(true));
    const [bareWithBody] = await alternate([servers[2]!], load, durationS, probes);
    return {
      connections: 50,
      durationS,
      sliceS: SLICE_S,
      users: tokens.length,
      api: api!,
      bare: bare!,
      bareWithBody: bareWithBody!,
      ratio: round(api!.reqPerSec / bare!.reqPerSec),
      ratioToBareWithBody: round(api!.reqPerSec / bareWithBody!.reqPerSec),
    };
  } finally {
    await stopAll(servers.map((server) => server.proc));
    // Workers are off in this scenario: the accumulated jobs are thrown away.
    for (const server of servers) await ctx.deleteKeys(server.prefix);
  }
}

/** The flash sale's api runs this many processes on its one port (API_PROCESSES). */
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
/** …and this many worker processes. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

/** An HS256 admin token (jose), for the bench's own admin calls to the api. */
export function adminToken(): Promise<string> {
  return new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-admin')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

/** An admin call to the api; throws unless it answers `expect`. Returns the JSON body. */
export async function adminCall<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  expect = 200,
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken()}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== expect)
    throw new Error(`${method} ${path}: ${res.status} (expected ${expect}) ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** A CODE policy valid now, made through the api (a public code needs its keyed hash). */
export async function createCodePolicy(
  baseUrl: string,
  name: string,
  totalQuantity: number,
  publicCode?: string,
): Promise<string> {
  const policy = await adminCall<{ id: string }>(
    baseUrl,
    'POST',
    '/v1/policies',
    {
      name,
      discountType: 'PERCENTAGE',
      discountValue: 10,
      maxDiscountAmount: 5000,
      issueType: 'CODE',
      totalQuantity,
      perUserLimit: 1,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      ...(publicCode && { publicCode }),
    },
    201,
  );
  return policy.id;
}

/**
 * Scenario 4: `users` distinct users each POST once for a policy of quota `quota`, 100 connections,
 * against an api process with 2 worker processes; timed from the first request to the finish of
 * the last job, then checked exactly. Scenario 8 (`publicCode`) is the same sale on a CODE policy
 * with a public code that every user redeems (`{"code": "bf…"}`, lowercased as a user may type it).
 */
export async function flashSale(
  ctx: BenchContext,
  users: number,
  quota: number,
  probes: CpuProbe[],
  { publicCode = false }: { publicCode?: boolean } = {},
) {
  const tag = publicCode ? 's8' : 's4';
  const prefix = ctx.name(tag);
  const connections = 100;
  let policyId = publicCode ? '' : await ctx.insertPolicy(`${tag} flash sale`, quota);
  // Spare tokens: autocannon builds one request ahead per connection that it never sends.
  const tokens = await fastTokens(users + connections * 2, `${tag}-user`);
  const procs: Proc[] = [];
  const queue = ctx.issuanceQueue(prefix);
  try {
    const started = await Promise.all([
      ctx.startService(`${tag} api`, 'api', {
        ROLES: 'api',
        QUEUE_PREFIX: prefix,
        API_PROCESSES: String(API_PROCESSES),
      }),
      ...Array.from({ length: WORKERS }, (_, i) =>
        ctx.startService(`${tag} worker-${i + 1}`, 'worker', {
          ROLES: 'worker',
          QUEUE_PREFIX: prefix,
        }),
      ),
    ]);
    procs.push(...started.map((s) => s.proc));
    const url = started[0].baseUrl!;
    // The public code: unique among all policies, so one of this run's own.
    const code = publicCode ? `BF${ctx.runId.slice(-8).toUpperCase()}` : '';
    if (publicCode) policyId = await createCodePolicy(url, `${tag} public-code sale`, quota, code);
    const body: Record<string, string> = publicCode ? { code: code.toLowerCase() } : { policyId };
    const cpu = startCpu([...procs.map(procProbe), ...probes]);
    const startedAt = Date.now();
    let answeredAt = startedAt;
    const result = await cannon({ url, policyId, body, tokens, connections, amount: users }, () => {
      answeredAt = Date.now();
    });
    // Requests answered at intake (the policy sold out) left a verdict instead of a queued job.
    const atIntake = await ctx.countVerdicts(prefix);
    const counts = await waitUntil(
      `${users} finished flash-sale jobs`,
      async () => {
        const c = await finishedJobs(queue);
        return c.completed + c.failed + atIntake >= result['2xx'] ? c : undefined;
      },
      { timeoutMs: 180_000, everyMs: 20, alive: procs },
    );
    const cpuPercent = cpu.end();
    const endedAt = await lastFinishedAt(ctx.redis, prefix, QUEUE_NAMES.issuance);
    const warnings = procs.reduce((sum, p) => sum + p.warnings, 0);
    await stopAll(procs);
    const [policy] = await ctx.policyFigures([policyId]);
    const reasons = await failedReasons(ctx.redis, prefix, QUEUE_NAMES.issuance);
    const ingress = summary(result);
    const exact =
      ingress.ok2xx === users &&
      policy?.issued === quota &&
      policy.coupons === quota &&
      policy.users === quota &&
      counts.completed === quota &&
      counts.failed + atIntake === users - quota &&
      (reasons.QUOTA_EXHAUSTED ?? 0) + atIntake === users - quota;
    const figures = {
      policyKind: publicCode ? 'CODE, public code' : 'DIRECT',
      users,
      quota,
      connections,
      apiProcesses: API_PROCESSES,
      workers: WORKERS,
      totalS: round((Math.max(endedAt, answeredAt) - startedAt) / 1000),
      ingressS: round((answeredAt - startedAt) / 1000),
      ingress,
      completed: counts.completed,
      failed: counts.failed,
      answeredAtIntake: atIntake,
      failedReasons: reasons,
      policy,
      exact,
      warningLines: warnings,
      cpuPercent,
    };
    log(
      `${tag} flash sale (${figures.policyKind}): ${figures.totalS} s (ingress ${figures.ingressS} s), issued ${policy?.issued}, exact: ${exact}`,
    );
    return figures;
  } finally {
    await stopAll(procs);
    await queue.close();
    await ctx.deleteKeys(prefix);
  }
}
