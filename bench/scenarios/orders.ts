import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { SignJWT } from 'jose';
import { QUEUE_NAMES } from '../../src/infra/queue/queues.js';
import {
  type BenchContext,
  failedReasons,
  finishedJobs,
  JWT_SECRET,
  lastFinishedAt,
  log,
  waitUntil,
} from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { type Proc, stopAll } from '../lib/proc.js';
import { addJobs, DbSampler, issuanceJobs } from './drain.js';
import { fastTokens, summary } from './http.js';
import { settle } from './payments.js';

/** What every order costs; both of its coupons are reserved for this amount. */
const ORDER_AMOUNT = 30_000;
/** The two STACKABLE FIXED_AMOUNT policies: together more than an order, so one is always cut. */
const FACE_VALUES = [20_000, 15_000] as const;
const CONNECTIONS = 100;
const SETTLE_LIMIT_MS = 180_000;

interface Reserve {
  couponId: string;
  token: string;
  body: string;
}

/** An admin's HS256 token (creating policies is an admin's). */
function adminToken(): Promise<string> {
  return new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('s7-admin')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** A STACKABLE FIXED_AMOUNT policy of `value` off, no minimum, one coupon per user, via the API. */
async function createPolicy(baseUrl: string, token: string, value: number, quantity: number) {
  const now = Date.now();
  const res = await fetch(`${baseUrl}/v1/policies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name: `s7 stackable ${value} off`,
      discountType: 'FIXED_AMOUNT',
      discountValue: value,
      maxDiscountAmount: null,
      minOrderAmount: 0,
      issueType: 'DIRECT',
      totalQuantity: quantity,
      perUserLimit: 1,
      validFrom: new Date(now - 3600_000).toISOString(),
      validUntil: new Date(now + 7 * 86400_000).toISOString(),
      stacking: 'STACKABLE',
    }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) {
    throw new Error(`creating a policy answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.id;
}

/**
 * autocannon sending each of `reserves` once, in order, over `CONNECTIONS` connections: an order's
 * two reserves are next to each other, so they leave on two connections at about the same time.
 * `built` says how many requests autocannon asked for (it should be exactly `reserves.length`).
 */
function reserveLoad(url: string, reserves: Reserve[], onAnswer: () => void) {
  let next = 0;
  const run = autocannon({
    url,
    connections: CONNECTIONS,
    amount: reserves.length,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/v1/coupons/unset/reserve',
        setupRequest: (request) => {
          const reserve = reserves[next++ % reserves.length]!;
          request.path = `/v1/coupons/${reserve.couponId}/reserve`;
          request.headers = { ...request.headers, authorization: `Bearer ${reserve.token}` };
          request.body = reserve.body;
          return request;
        },
        onResponse: onAnswer,
      },
    ],
  });
  return run.then((result) => ({ result, built: next }));
}

interface CouponRow {
  id: string;
  policyId: string;
  userId: string;
  status: string;
  orderId: string | null;
  discount: number | null;
  reservedAt: Date | null;
  face: number;
}

/**
 * The SQL check of the reserved orders: each holds exactly two RESERVED coupons, one of each
 * policy, of its own user; its discounts add up to no more than its amount; and they follow the
 * rule that cuts each coupon to what its order has left after the coupons before it — one coupon
 * at its face value, the other at min(face value, amount − the first), in either order.
 */
async function checkOrders(
  ctx: BenchContext,
  policyIds: string[],
  orderIds: string[],
  userOf: (orderIndex: number) => string,
) {
  const { rows: coupons } = await ctx.pg.query<CouponRow>(
    `select c.id, c.policy_id as "policyId", c.user_id as "userId", c.status,
            c.order_id as "orderId", c.discount_amount::int as discount,
            c.reserved_at as "reservedAt", p.discount_value::int as face
       from coupons c join coupon_policies p on p.id = c.policy_id
      where c.policy_id = any($1::uuid[])`,
    [policyIds],
  );
  const { rows: orders } = await ctx.pg.query<{
    orderId: string;
    userId: string;
    amount: number;
  }>(
    `select order_id as "orderId", user_id as "userId", order_amount::int as amount
       from orders where order_id = any($1::text[])`,
    [orderIds],
  );
  const orderRow = new Map(orders.map((o) => [o.orderId, o]));
  const byOrder = new Map<string, CouponRow[]>();
  for (const coupon of coupons) {
    if (coupon.status !== 'RESERVED' || coupon.orderId === null) continue;
    const held = byOrder.get(coupon.orderId) ?? [];
    held.push(coupon);
    byOrder.set(coupon.orderId, held);
  }
  const figures = {
    coupons: coupons.length,
    reserved: coupons.filter((c) => c.status === 'RESERVED').length,
    /** Orders without exactly two RESERVED coupons, one of each policy, of the order's user. */
    ordersNotTwo: 0,
    /** Orders without a row, or whose row says another user or amount. */
    orderRowsWrong: 0,
    /** Orders whose discounts add up to more than the order's amount. */
    ordersOverAmount: 0,
    /** Orders whose discounts do not follow the cut rule (too much or too little). */
    ordersMisCut: 0,
    /** Orders where one coupon got less than its face value. */
    ordersCut: 0,
    /** …of which the 20,000 coupon came first (20,000 + 10,000) or the 15,000 one (15,000 + 15,000). */
    firstByFace: {} as Record<string, number>,
    /**
     * Orders whose full-value coupon has the later `reserved_at`: the time is taken when the job
     * starts, before it waits for the order's lock, so it need not follow the order of the commits.
     */
    reservedAtInversions: 0,
    largestOrderDiscount: 0,
  };
  orderIds.forEach((orderId, i) => {
    const held = byOrder.get(orderId) ?? [];
    const row = orderRow.get(orderId);
    if (!row || row.userId !== userOf(i) || row.amount !== ORDER_AMOUNT) figures.orderRowsWrong++;
    if (
      held.length !== 2 ||
      new Set(held.map((c) => c.policyId)).size !== 2 ||
      held.some((c) => c.userId !== userOf(i))
    ) {
      figures.ordersNotTwo++;
      return;
    }
    const total = held.reduce((sum, c) => sum + (c.discount ?? 0), 0);
    figures.largestOrderDiscount = Math.max(figures.largestOrderDiscount, total);
    if (total > ORDER_AMOUNT) figures.ordersOverAmount++;
    const [a, b] = held as [CouponRow, CouponRow];
    const follows = (first: CouponRow, second: CouponRow) =>
      first.discount === Math.min(first.face, ORDER_AMOUNT) &&
      second.discount === Math.min(second.face, ORDER_AMOUNT - (first.discount ?? 0));
    const first = follows(a, b) ? a : follows(b, a) ? b : undefined;
    if (!first) {
      figures.ordersMisCut++;
      return;
    }
    const second = first === a ? b : a;
    if ((second.discount ?? 0) < second.face) figures.ordersCut++;
    figures.firstByFace[first.face] = (figures.firstByFace[first.face] ?? 0) + 1;
    if (first.reservedAt && second.reservedAt && first.reservedAt > second.reservedAt)
      figures.reservedAtInversions++;
  });
  return figures;
}

/**
 * Scenario 7: `orders` orders, each reserving one coupon of each of two STACKABLE FIXED_AMOUNT
 * policies (20,000 and 15,000 off) for 30,000, both reserves sent at once through
 * `POST /v1/coupons/:id/reserve` (100 connections) to an api (2 processes) with exactly 2 worker
 * processes, so the two reserves of an order meet at the order's lock. Timed from the first request
 * to the finish of the last reserve job, then checked in SQL ({@link checkOrders}); throws when the
 * check fails or a job failed.
 *
 * Set-up, untimed: the policies are created through the API; their 2 × `orders` coupons are issued
 * through the issuance queue as the API enqueues them (the drains' `addJobs`), so the worker's
 * issuance rules make them — at ~8,000 coupons/s that is a few seconds, not worth skipping with SQL.
 */
export async function stackedOrders(ctx: BenchContext, orders: number, probes: CpuProbe[]) {
  const prefix = ctx.name('s7');
  const issuance = ctx.issuanceQueue(prefix);
  const usage = new Queue(QUEUE_NAMES.usage, { connection: ctx.redis, prefix });
  const procs: Proc[] = [];
  try {
    const started = await Promise.all([
      ctx.startService('s7 api', 'api', { ROLES: 'api', QUEUE_PREFIX: prefix, API_PROCESSES: '2' }),
      ...[1, 2].map((i) =>
        ctx.startService(`s7 worker-${i}`, 'worker', { ROLES: 'worker', QUEUE_PREFIX: prefix }),
      ),
    ]);
    procs.push(...started.map((s) => s.proc));
    const url = started[0].baseUrl!;

    const admin = await adminToken();
    const policyIds: string[] = [];
    for (const value of FACE_VALUES) policyIds.push(await createPolicy(url, admin, value, orders));
    const issueJobs = issuanceJobs(orders, policyIds, 's7-user');
    await addJobs(issuance, issueJobs);
    const issued = await waitUntil(
      `${issueJobs.length} issuance jobs for the orders' coupons`,
      async () => {
        const c = await finishedJobs(issuance);
        return c.completed + c.failed >= issueJobs.length ? c : undefined;
      },
      { timeoutMs: SETTLE_LIMIT_MS, everyMs: 50, alive: procs },
    );
    if (issued.failed > 0) throw new Error(`${issued.failed} issuance jobs of the set-up failed`);
    const { rows: coupons } = await ctx.pg.query<{ id: string; policyId: string; userId: string }>(
      `select id, policy_id as "policyId", user_id as "userId" from coupons
        where policy_id = any($1::uuid[])`,
      [policyIds],
    );
    if (coupons.length !== issueJobs.length)
      throw new Error(`${coupons.length} coupons issued, not ${issueJobs.length}`);
    const couponOf = new Map(coupons.map((c) => [`${c.policyId}|${c.userId}`, c.id]));
    const userOf = (i: number) => `s7-user-${i}`;
    const orderIds = Array.from({ length: orders }, (_, i) => `bench-order-${i}`);
    const tokens = await fastTokens(orders, 's7-user');
    const reserves: Reserve[] = orderIds.flatMap((orderId, i) => {
      const body = JSON.stringify({ orderId, orderAmount: ORDER_AMOUNT });
      return policyIds.map((policyId) => ({
        couponId: couponOf.get(`${policyId}|${userOf(i)}`)!,
        token: tokens[i]!,
        body,
      }));
    });
    await settle(ctx);

    const db = new DbSampler(ctx);
    await db.begin();
    const cpu = startCpu([...procs.map(procProbe), ...probes]);
    const startedAt = Date.now();
    let answeredAt = startedAt;
    const { result, built } = await reserveLoad(url, reserves, () => {
      answeredAt = Date.now();
    });
    let polls = 0;
    const counts = await waitUntil(
      `${result['2xx']} reserve jobs settled`,
      async () => {
        if (polls++ % 5 === 0) await db.sample();
        const c = await finishedJobs(usage);
        return c.completed + c.failed >= result['2xx'] ? c : undefined;
      },
      { timeoutMs: SETTLE_LIMIT_MS, everyMs: 20, alive: procs },
    );
    const cpuPercent = cpu.end();
    const endedAt = await lastFinishedAt(ctx.redis, prefix, QUEUE_NAMES.usage);
    const warnings = procs.reduce((sum, p) => sum + p.warnings, 0);
    await stopAll(procs);
    const postgres = await db.end(reserves.length);
    const reasons = await failedReasons(ctx.redis, prefix, QUEUE_NAMES.usage);
    const check = await checkOrders(ctx, policyIds, orderIds, userOf);
    const ingress = summary(result);
    const totalMs = Math.max(endedAt, answeredAt) - startedAt;
    const problems = [
      ingress.ok2xx !== reserves.length && `${ingress.ok2xx} of ${reserves.length} answered 202`,
      built !== reserves.length && `${built} requests built for ${reserves.length} reserves`,
      counts.failed > 0 && `${counts.failed} reserve jobs failed (${JSON.stringify(reasons)})`,
      check.reserved !== reserves.length && `${check.reserved} of ${reserves.length} RESERVED`,
      check.ordersNotTwo > 0 && `${check.ordersNotTwo} orders without their two coupons`,
      check.orderRowsWrong > 0 && `${check.orderRowsWrong} order rows missing or wrong`,
      check.ordersOverAmount > 0 && `${check.ordersOverAmount} orders over their amount`,
      check.ordersMisCut > 0 && `${check.ordersMisCut} orders not cut by the rule`,
    ].filter((problem): problem is string => typeof problem === 'string');
    const figures = {
      orders,
      reserves: reserves.length,
      connections: CONNECTIONS,
      apiProcesses: 2,
      workers: 2,
      totalS: round(totalMs / 1000),
      ingressS: round((answeredAt - startedAt) / 1000),
      perSec: round(reserves.length / (totalMs / 1000), 0),
      ingress,
      completed: counts.completed,
      failed: counts.failed,
      failedReasons: reasons,
      check,
      exact: problems.length === 0,
      problems,
      postgres: {
        transactions: postgres.transactions,
        avgActiveBackends: postgres.avgActiveBackends,
        avgBackendsWaitingOnLock: postgres.avgBackendsWaitingOnLock,
        tableScans: postgres.tableScans,
      },
      warningLines: warnings,
      cpuPercent,
    };
    log(
      `orders: ${figures.perSec} reserves/s (${reserves.length} in ${figures.totalS} s, all answered in ${figures.ingressS} s), request p50 ${ingress.p50Ms} ms, p99 ${ingress.p99Ms} ms; failed jobs ${counts.failed}`,
    );
    log(
      `  check: ${check.reserved} RESERVED, ${check.ordersCut} of ${orders} orders cut (first by face value ${JSON.stringify(check.firstByFace)}), largest order discount ${check.largestOrderDiscount}, reserved_at inversions ${check.reservedAtInversions}; ${figures.exact ? 'exact' : `NOT EXACT: ${problems.join('; ')}`}`,
    );
    log(
      `  PostgreSQL: ${postgres.avgActiveBackends} backends active of which ${postgres.avgBackendsWaitingOnLock} waiting on a lock`,
    );
    if (!figures.exact) throw new Error(`orders scenario failed its check: ${problems.join('; ')}`);
    return figures;
  } finally {
    await stopAll(procs);
    await issuance.close();
    await usage.close();
    await ctx.deleteKeys(prefix);
  }
}
