import {
  expireCoupon,
  type PaymentService,
  releaseStaleReservation,
  type Transition,
} from '../domain/index.js';
import type { CouponStore, CouponTx, Fence } from './ports.js';
import { timeOutReservations } from './time-out-reservations.js';

const ACTOR = 'system:expiry';

export interface ExpiryResult {
  expired: number;
  released: number;
  /** Reservations the payment service said were paid. */
  used: number;
  policyIds: Set<string>;
}

/**
 * One batch of the scheduled sweep in one transaction: candidates are locked with SKIP LOCKED, so a
 * second sweep running at the same time takes other rows, and the domain decides each change.
 * Returns how many changed; the caller repeats until a batch comes back short.
 */
async function sweepBatch(
  tx: CouponTx,
  kind: 'expire' | 'release',
  { now, ttlMs, batchSize }: { now: Date; ttlMs: number; batchSize: number },
): Promise<Transition[]> {
  const coupons =
    kind === 'expire'
      ? await tx.lockExpired(now, batchSize)
      : await tx.lockStaleReservations(new Date(now.getTime() - ttlMs), now, batchSize);
  const transitions: Transition[] = [];
  for (const coupon of coupons) {
    const decision =
      kind === 'expire' ? expireCoupon(coupon, now) : releaseStaleReservation(coupon, now, ttlMs);
    if (decision.ok) transitions.push(decision.value);
  }
  const reason = kind === 'expire' ? 'expired' : 'reservation timed out';
  await tx.saveChanges(
    transitions.map((transition) => ({
      transition,
      actor: ACTOR,
      reason,
      ...(kind === 'release' && { reservation: { close: 'TIMED_OUT' as const } }),
    })),
    now,
  );
  return transitions;
}

/**
 * Expires ISSUED coupons past `expiresAt` and times out reservations past their expiry. With a
 * payment service, each such reservation's payment is asked about first ({@link timeOutReservations}).
 */
export async function expireCoupons(
  ports: { coupons: CouponStore },
  {
    now,
    ttlMs,
    batchSize = 1000,
    paymentService,
    maxExtensions = 2,
    fence,
  }: {
    now: Date;
    ttlMs: number;
    batchSize?: number;
    /** Asked before a reservation times out; without it, reservations time out at the TTL. */
    paymentService?: PaymentService | undefined;
    /** @defaultValue 2 */
    maxExtensions?: number;
    /** Carried by every write transaction when the sweep runs under a lock. */
    fence?: Fence | undefined;
  },
): Promise<ExpiryResult> {
  const result: ExpiryResult = { expired: 0, released: 0, used: 0, policyIds: new Set() };
  // Releases first: a released coupon that is also past its expiry is expired in the same sweep.
  if (paymentService) {
    const timedOut = await timeOutReservations(ports, {
      now,
      rules: { ttlMs, maxExtensions },
      paymentService,
      fence,
    });
    result.released += timedOut.released;
    result.used += timedOut.used;
    for (const id of timedOut.policyIds) result.policyIds.add(id);
  }
  for (const kind of paymentService ? (['expire'] as const) : (['release', 'expire'] as const)) {
    for (;;) {
      const changed = await ports.coupons.transaction(
        (tx) => sweepBatch(tx, kind, { now, ttlMs, batchSize }),
        fence,
      );
      for (const t of changed) result.policyIds.add(t.coupon.policyId);
      if (kind === 'expire') result.expired += changed.length;
      else result.released += changed.length;
      if (changed.length < batchSize) break;
    }
  }
  return result;
}
