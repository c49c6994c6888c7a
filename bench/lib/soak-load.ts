/**
 * The traffic of `npm run bench:soak`: one abusive user at (above) the rate limit, and many normal
 * users at a modest steady rate whose every request's latency is kept.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { JWT_SECRET, sleep } from './context.js';

const key = new TextEncoder().encode(JWT_SECRET);

/** An HS256 user token signed with jose, valid for two hours. */
export function userToken(sub: string): Promise<string> {
  return new SignJWT({ role: 'user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(key);
}

/** The Redis key part of an idempotency record, as `src/infra/queue/enqueue.ts` derives it. */
export function idempotencyScope(queueName: string, actor: string, idempotencyKey: string) {
  return createHash('sha256').update(`${queueName}\n${actor}\n${idempotencyKey}`).digest('hex');
}

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One request; a network error or time-out reads as status 0. */
export async function send(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text, ms: performance.now() - started };
  } catch (error) {
    return {
      status: 0,
      body: error instanceof Error ? error.message : String(error),
      ms: performance.now() - started,
    };
  }
}

/**
 * Calls `fire` `ratePerSec` times a second for `durationMs` (open loop: a slow answer does not delay
 * the next request; a late timer catches up), then waits for every request still in flight. Throws
 * the first error a `fire` threw.
 */
export async function paced(
  ratePerSec: number,
  durationMs: number,
  fire: (i: number) => Promise<unknown>,
  stopped: () => boolean = () => false,
): Promise<number> {
  const intervalMs = 1000 / ratePerSec;
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  let failure: unknown;
  while (!stopped() && failure === undefined) {
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs) break;
    const due = Math.min(Math.floor(elapsed / intervalMs) + 1, Math.ceil(durationMs / intervalMs));
    while (sent < due) {
      const request = fire(sent++);
      inFlight.add(request);
      request.then(
        () => inFlight.delete(request),
        (error: unknown) => {
          inFlight.delete(request);
          failure ??= error;
        },
      );
    }
    await sleep(Math.max(1, started + sent * intervalMs - performance.now()));
  }
  await Promise.allSettled([...inFlight]);
  // A request's answer it could not read (not a status: those are counted) stops the load.
  if (failure !== undefined) throw failure;
  return sent;
}

/** Why a 429 was answered, from its message. */
export function reasonOf429(
  body: string,
): 'rateLimit' | 'dailyJobs' | 'couponActions' | 'codeAttempts' | 'other' {
  if (body.includes('requests a day')) return 'dailyJobs';
  if (body.includes('actions on one coupon')) return 'couponActions';
  if (body.includes('invalid codes')) return 'codeAttempts';
  if (body.includes('Too many requests')) return 'rateLimit';
  return 'other';
}

/** Answers of one kind of request, by status (and 429s by reason). */
export class StatusCount {
  readonly byStatus: Record<string, number> = {};
  readonly by429Reason: Record<string, number> = {};
  /** The first few answers that were neither 2xx nor a 429 of a known limit, to say what went wrong. */
  readonly otherSamples: string[] = [];
  sent = 0;
  firstDailyLimitAtS: number | null = null;

  add(answer: Answer, sinceStartS: number): void {
    this.sent += 1;
    this.byStatus[answer.status] = (this.byStatus[answer.status] ?? 0) + 1;
    if (answer.status === 429) {
      const reason = reasonOf429(answer.body);
      this.by429Reason[reason] = (this.by429Reason[reason] ?? 0) + 1;
      if (reason === 'dailyJobs' && this.firstDailyLimitAtS === null)
        this.firstDailyLimitAtS = Math.round(sinceStartS);
      if (reason === 'other' && this.otherSamples.length < 5)
        this.otherSamples.push(`429 ${answer.body.slice(0, 200)}`);
    } else if ((answer.status < 200 || answer.status > 299) && this.otherSamples.length < 5) {
      this.otherSamples.push(`${answer.status} ${answer.body.slice(0, 200)}`);
    }
  }

  count(status: number): number {
    return this.byStatus[status] ?? 0;
  }

  summary() {
    const accepted = this.count(202);
    const limited = this.count(429);
    const ok2xx = Object.entries(this.byStatus)
      .filter(([status]) => Number(status) >= 200 && Number(status) <= 299)
      .reduce((sum, [, count]) => sum + count, 0);
    return {
      sent: this.sent,
      ok2xx,
      accepted202: accepted,
      limited429: limited,
      other: this.sent - accepted - limited,
      by429Reason: this.by429Reason,
      byStatus: this.byStatus,
      firstDailyLimitAtS: this.firstDailyLimitAtS,
      otherSamples: this.otherSamples,
    };
  }
}

export interface AbuserPlan {
  baseUrl: string;
  token: string;
  sub: string;
  couponId: string;
  /** Issuance requests a second (a wrong code, a fresh Idempotency-Key each). */
  issuanceRps: number;
  /** Coupon actions a second, reserve and release in turn on `couponId`. */
  actionRps: number;
  durationMs: number;
  stopped: () => boolean;
}

/**
 * The abusive caller: issuances as fast as `issuanceRps`, a fresh Idempotency-Key each, in turn
 * with a random wrong code (refused at intake once CODE_ATTEMPT_MAX of them failed) and with a
 * random unknown policy id (each a job that fails POLICY_NOT_FOUND, until the daily limit), beside
 * a reserve/release loop on one coupon it owns. Keeps the scope of every Idempotency-Key it sent,
 * so that its records in Redis can be told from everyone else's.
 */
export async function abuse(plan: AbuserPlan, startedAt: number) {
  const codeIssuances = new StatusCount();
  const policyIssuances = new StatusCount();
  const actions = new StatusCount();
  const idempotencyScopes = new Set<string>();
  const since = () => (performance.now() - startedAt) / 1000;
  const issue = async (i: number) => {
    const idempotencyKey = randomUUID();
    idempotencyScopes.add(idempotencyScope('issuance', plan.sub, idempotencyKey));
    const withCode = i % 2 === 0;
    const body = withCode ? { code: randomBytes(12).toString('hex') } : { policyId: randomUUID() };
    const answer = await send(
      plan.baseUrl,
      'POST',
      '/v1/issuances',
      plan.token,
      body,
      idempotencyKey,
    );
    (withCode ? codeIssuances : policyIssuances).add(answer, since());
  };
  const act = async (i: number) => {
    const idempotencyKey = randomUUID();
    idempotencyScopes.add(idempotencyScope('usage', plan.sub, idempotencyKey));
    const orderId = `soak-order-${Math.floor(i / 2)}`;
    const [action, body] =
      i % 2 === 0 ? ['reserve', { orderId, orderAmount: 10_000 }] : ['release', { orderId }];
    const answer = await send(
      plan.baseUrl,
      'POST',
      `/v1/coupons/${plan.couponId}/${action}`,
      plan.token,
      body,
      idempotencyKey,
    );
    actions.add(answer, since());
  };
  await Promise.all([
    paced(plan.issuanceRps, plan.durationMs, issue, plan.stopped),
    paced(plan.actionRps, plan.durationMs, act, plan.stopped),
  ]);
  return { codeIssuances, policyIssuances, actions, idempotencyScopes };
}

export interface Latency {
  /** Seconds since the soak began, when the request was sent. */
  atS: number;
  ms: number;
  op: 'issue' | 'poll';
  status: number;
}

/**
 * Normal traffic: `tokens` in turn at `ratePerSec` in all; each user alternates a `POST
 * /v1/issuances` on `policyId` (with its own Idempotency-Key) and a `GET /v1/jobs/:id` of the job
 * it got. Every request's latency is kept.
 */
export async function normalTraffic(
  {
    baseUrl,
    tokens,
    policyId,
    ratePerSec,
    durationMs,
    stopped,
  }: {
    baseUrl: string;
    tokens: string[];
    policyId: string;
    ratePerSec: number;
    durationMs: number;
    stopped: () => boolean;
  },
  startedAt: number,
) {
  const lastJob: (string | null)[] = tokens.map(() => null);
  const latencies: Latency[] = [];
  const issues = new StatusCount();
  const polls = new StatusCount();
  const pollStates: Record<string, number> = {};
  await paced(
    ratePerSec,
    durationMs,
    async (i) => {
      const user = i % tokens.length;
      const token = tokens[user]!;
      const atS = (performance.now() - startedAt) / 1000;
      const jobId = lastJob[user];
      if (jobId) {
        lastJob[user] = null;
        const answer = await send(baseUrl, 'GET', `/v1/jobs/${jobId}`, token);
        latencies.push({ atS, ms: answer.ms, op: 'poll', status: answer.status });
        polls.add(answer, atS);
        if (answer.status === 200) {
          const state = (JSON.parse(answer.body) as { state?: string }).state ?? 'unknown';
          pollStates[state] = (pollStates[state] ?? 0) + 1;
        }
        return;
      }
      const answer = await send(
        baseUrl,
        'POST',
        '/v1/issuances',
        token,
        { policyId },
        randomUUID(),
      );
      latencies.push({ atS, ms: answer.ms, op: 'issue', status: answer.status });
      issues.add(answer, atS);
      if (answer.status === 202)
        lastJob[user] = (JSON.parse(answer.body) as { jobId: string }).jobId;
    },
    stopped,
  );
  return { latencies, issues, polls, pollStates };
}

/** The q-quantile (nearest rank) of `values`, in ms with one decimal; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return Math.round(value * 10) / 10;
}

/** p50/p99/max and the count of the requests sent in [fromS, toS). */
export function latencyWindow(latencies: Latency[], fromS: number, toS: number) {
  const inside = latencies.filter((l) => l.atS >= fromS && l.atS < toS);
  const all = inside.map((l) => l.ms);
  const of = (op: Latency['op']) => inside.filter((l) => l.op === op).map((l) => l.ms);
  return {
    fromS: Math.round(fromS),
    toS: Math.round(toS),
    requests: inside.length,
    non2xx: inside.filter((l) => l.status < 200 || l.status > 299).length,
    p50Ms: quantile(all, 0.5),
    p99Ms: quantile(all, 0.99),
    maxMs: quantile(all, 1),
    issueP99Ms: quantile(of('issue'), 0.99),
    pollP99Ms: quantile(of('poll'), 0.99),
  };
}
