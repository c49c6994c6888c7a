import type { EntityManager } from '@mikro-orm/postgresql';
import {
  decideTimeout,
  type OrderPaymentStatus,
  type PaymentService,
  releaseStaleReservation,
  type TimeoutDecision,
  type TimeoutRules,
  useCoupon,
} from '../domain/index.js';
import { type Change, saveChanges } from '../infra/db/coupon-changes.js';
import { type Fence, inFencedTransaction } from '../infra/db/fence.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from '../infra/db/rows.js';
import { pgArray, query } from '../infra/db/sql.js';

/** Calls to the payment service in flight at once during a sweep. */
const ASK_CONCURRENCY = 8;

interface Candidate {
  couponId: string;
  orderId: string;
  /** The ACTIVE reservation record; null for a coupon reserved before records were kept. */
  reservationId: string | null;
  reservedAt: Date;
  extensions: number;
}

export interface TimeoutResult {
  released: number;
  used: number;
  extended: number;
  kept: number;
  policyIds: Set<string>;
}

const STALE = `c.status = 'RESERVED' and c.reserved_at <= ?
  and (r.id is null or r.expires_at <= ?)`;

/**
 * The reservation timeout when a payment service is configured: each reservation past its expiry
 * is first asked about (outside any transaction: a slow service holds no row lock), then, in one
 * transaction per batch, used (COMPLETED), extended (PENDING), released as TIMED_OUT, or kept
 * (no answer) as {@link decideTimeout} says. A reservation that changed meanwhile (used, released,
 * extended by another sweep) is left alone.
 */
export async function timeOutReservations(
  fork: () => EntityManager,
  {
    now,
    rules,
    paymentService,
    batchSize = 200,
    fence,
  }: {
    now: Date;
    rules: TimeoutRules;
    paymentService: PaymentService;
    batchSize?: number;
    /** Run last in each write transaction when the sweep runs under a lock. */
    fence?: Fence | undefined;
  },
): Promise<TimeoutResult> {
  const result: TimeoutResult = {
    released: 0,
    used: 0,
    extended: 0,
    kept: 0,
    policyIds: new Set(),
  };
  const staleBefore = new Date(now.getTime() - rules.ttlMs);
  // Keyset over (reserved_at, id): kept reservations stay stale, and must not be read again.
  let after: [Date, string] = [new Date(0), '00000000-0000-0000-0000-000000000000'];
  for (;;) {
    const candidates = (
      await query<Record<string, unknown>>(
        fork(),
        `select c.id as "couponId", c.order_id as "orderId", r.id as "reservationId",
                c.reserved_at as "reservedAt", coalesce(r.extensions, 0) as extensions
           from coupons c
           left join coupon_reservations r on r.coupon_id = c.id and r.state = 'ACTIVE'
          where ${STALE} and (c.reserved_at, c.id) > (?, ?)
          order by c.reserved_at, c.id limit ?`,
        [staleBefore, now, after[0], after[1], batchSize],
      )
    ).map(
      (row): Candidate => ({
        couponId: row.couponId as string,
        orderId: row.orderId as string,
        reservationId: (row.reservationId as string | null) ?? null,
        reservedAt: new Date(row.reservedAt as string),
        extensions: Number(row.extensions),
      }),
    );
    if (candidates.length === 0) break;
    const answers = await askAll(paymentService, candidates);
    const decisions = candidates.map((candidate, i) => {
      const answer = answers[i] as OrderPaymentStatus | 'UNAVAILABLE';
      let decision = decideTimeout(answer, candidate, now, rules);
      // A coupon without a record has nothing to extend: asked again next sweep instead.
      if (decision === 'EXTEND' && candidate.reservationId === null) decision = 'KEEP';
      return { candidate, answer, decision };
    });
    await inFencedTransaction(fork(), fence, (tx) =>
      apply(tx, decisions, { now, rules, staleBefore }, result),
    );
    const last = candidates[candidates.length - 1] as Candidate;
    after = [last.reservedAt, last.couponId];
    if (candidates.length < batchSize) break;
  }
  return result;
}

async function askAll(service: PaymentService, candidates: Candidate[]) {
  const answers: (OrderPaymentStatus | 'UNAVAILABLE')[] = new Array(candidates.length);
  let next = 0;
  const lane = async () => {
    while (next < candidates.length) {
      const i = next++;
      answers[i] = await service.orderPayment((candidates[i] as Candidate).orderId);
    }
  };
  await Promise.all(Array.from({ length: ASK_CONCURRENCY }, lane));
  return answers;
}

async function apply(
  tx: EntityManager,
  decisions: { candidate: Candidate; answer: string; decision: TimeoutDecision }[],
  { now, rules, staleBefore }: { now: Date; rules: TimeoutRules; staleBefore: Date },
  result: TimeoutResult,
): Promise<void> {
  const acting = decisions.filter(({ decision }) => decision !== 'KEEP');
  result.kept += decisions.length - acting.length;
  if (acting.length === 0) return;
  // Locked and checked again: still reserved by the reservation that was asked about, still due.
  const rows = await query<Record<string, unknown>>(
    tx,
    `select ${COUPON_COLUMNS}, r.id as "reservationId"
       from coupons c
       left join coupon_reservations r on r.coupon_id = c.id and r.state = 'ACTIVE'
      where c.id = any(?::uuid[]) and ${STALE}
      order by c.id for update of c skip locked`,
    [pgArray(acting.map(({ candidate }) => candidate.couponId)), staleBefore, now],
  );
  const current = new Map(rows.map((row) => [row.id as string, row]));
  const policies = await query<Record<string, unknown>>(
    tx,
    `select ${POLICY_COLUMNS} from coupon_policies p where p.id = any(?::uuid[])`,
    [pgArray([...new Set(rows.map((row) => row.policyId as string))])],
  );
  const policyOf = new Map(policies.map((row) => [row.id as string, toPolicy(row as never)]));
  const changes: Change[] = [];
  const extend: string[] = [];
  for (const { candidate, answer, decision } of acting) {
    const row = current.get(candidate.couponId);
    if (!row || (row.reservationId ?? null) !== candidate.reservationId) continue;
    if (row.orderId !== candidate.orderId) continue;
    const { reservationId: _, ...couponRow } = row;
    const coupon = toCoupon(couponRow as never);
    if (decision === 'EXTEND') {
      extend.push(candidate.reservationId as string);
      continue;
    }
    const policy = policyOf.get(coupon.policyId);
    const used =
      decision === 'USE' && policy
        ? useCoupon(coupon, policy, { orderId: candidate.orderId, now })
        : null;
    if (used?.ok) {
      changes.push({
        transition: used.value,
        actor: 'system:payment',
        reason: 'payment service: COMPLETED',
      });
      continue;
    }
    const released = releaseStaleReservation(coupon, now, rules.ttlMs);
    if (!released.ok) continue;
    changes.push({
      transition: released.value,
      actor: 'system:expiry',
      reason: `reservation timed out (payment service: ${answer})`,
      reservation: { close: 'TIMED_OUT' },
    });
  }
  await saveChanges(tx, changes, now);
  if (extend.length > 0) {
    await query(
      tx,
      `update coupon_reservations set expires_at = ?, extensions = extensions + 1
        where id = any(?::uuid[]) and state = 'ACTIVE'`,
      [new Date(now.getTime() + rules.ttlMs), pgArray(extend)],
    );
  }
  for (const change of changes) {
    result.policyIds.add(change.transition.coupon.policyId);
    if (change.transition.to === 'USED') result.used++;
    else result.released++;
  }
  result.extended += extend.length;
}
