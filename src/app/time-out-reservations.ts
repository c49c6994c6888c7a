import {
  decideTimeout,
  type OrderPaymentStatus,
  type PaymentService,
  releaseStaleReservation,
  type TimeoutDecision,
  type TimeoutRules,
  useCoupon,
} from '../domain/index.js';
import type { Change, CouponStore, CouponTx, Fence, StaleReservation } from './ports.js';

/** Calls to the payment service in flight at once during a sweep. */
const ASK_CONCURRENCY = 8;

type Candidate = StaleReservation;

export interface TimeoutResult {
  released: number;
  used: number;
  extended: number;
  kept: number;
  policyIds: Set<string>;
}

/**
 * The reservation timeout when a payment service is configured: each reservation past its expiry
 * is first asked about (outside any transaction: a slow service holds no row lock), then, in one
 * transaction per batch, used (COMPLETED), extended (PENDING), released as TIMED_OUT, or kept
 * (no answer) as {@link decideTimeout} says. A reservation that changed meanwhile (used, released,
 * extended by another sweep) is left alone.
 */
export async function timeOutReservations(
  ports: { coupons: CouponStore },
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
    /** Carried by every write transaction when the sweep runs under a lock. */
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
    const candidates = await ports.coupons.staleReservations(staleBefore, now, after, batchSize);
    if (candidates.length === 0) break;
    const answers = await askAll(paymentService, candidates);
    const decisions = candidates.map((candidate, i) => {
      const answer = answers[i] as OrderPaymentStatus | 'UNAVAILABLE';
      let decision = decideTimeout(answer, candidate, now, rules);
      // A coupon without a record has nothing to extend: asked again next sweep instead.
      if (decision === 'EXTEND' && candidate.reservationId === null) decision = 'KEEP';
      return { candidate, answer, decision };
    });
    await ports.coupons.transaction(
      (tx) => apply(tx, decisions, { now, rules, staleBefore }, result),
      fence,
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
  tx: CouponTx,
  decisions: { candidate: Candidate; answer: string; decision: TimeoutDecision }[],
  { now, rules, staleBefore }: { now: Date; rules: TimeoutRules; staleBefore: Date },
  result: TimeoutResult,
): Promise<void> {
  const acting = decisions.filter(({ decision }) => decision !== 'KEEP');
  result.kept += decisions.length - acting.length;
  if (acting.length === 0) return;
  // Locked and checked again: still reserved by the reservation that was asked about, still due.
  const current = new Map(
    (
      await tx.lockStillStale(
        acting.map(({ candidate }) => candidate.couponId),
        staleBefore,
        now,
      )
    ).map((row) => [row.coupon.id, row]),
  );
  const changes: Change[] = [];
  const extend: string[] = [];
  for (const { candidate, answer, decision } of acting) {
    const row = current.get(candidate.couponId);
    if (!row || row.reservationId !== candidate.reservationId) continue;
    const { coupon, policy } = row;
    if (coupon.orderId !== candidate.orderId) continue;
    if (decision === 'EXTEND') {
      extend.push(candidate.reservationId as string);
      continue;
    }
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
  await tx.saveChanges(changes, now);
  await tx.extendReservations(extend, new Date(now.getTime() + rules.ttlMs));
  for (const change of changes) {
    result.policyIds.add(change.transition.coupon.policyId);
    if (change.transition.to === 'USED') result.used++;
    else result.released++;
  }
  result.extended += extend.length;
}
