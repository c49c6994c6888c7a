import {
  type Coupon,
  cancelCoupon,
  type Outcome,
  ok,
  openReservation,
  reject,
  releaseCoupon,
  reserveCoupon,
  useCoupon,
} from '../domain/index.js';
import type { Change, CouponAction, CouponStore, LockedCoupon, NewId } from './ports.js';

/** What a client's action does to a locked coupon, decided by the domain's status machine. */
function actionTransition(action: CouponAction, { coupon, policy }: LockedCoupon, now: Date) {
  switch (action.type) {
    case 'RESERVE':
      return reserveCoupon(coupon, policy, {
        orderId: action.orderId,
        orderAmount: action.orderAmount,
        now,
      });
    case 'USE':
      return useCoupon(coupon, policy, {
        orderId: action.orderId,
        orderAmount: action.orderAmount,
        now,
      });
    case 'RELEASE':
      return releaseCoupon(coupon, { orderId: action.orderId });
    case 'CANCEL':
      return cancelCoupon(coupon);
  }
}

function reasonOf(action: CouponAction): string | null {
  if (action.type === 'CANCEL') return action.reason;
  return `order ${action.orderId}`;
}

export interface ActionOptions {
  /** How long a reservation holds the coupon before the scheduler times it out. */
  reservationTtlMs: number;
  /**
   * The queue job carrying the action. When given, its result is stored with the change, and a
   * run of the same job after that commit (a retry: acknowledgement lost, worker killed, a failure
   * after the commit) answers the stored result instead of deciding again.
   */
  jobId?: string | undefined;
}

/** What an action left: the coupon after it; `repeated` when a retry found its change committed. */
export interface ActionResult {
  coupon: Coupon;
  repeated: boolean;
}

/**
 * Applies one reserve/use/release/cancel in one transaction with the coupon row locked, so two
 * actions on one coupon (or an action and a payment event) take effect one after the other. A
 * reserve opens a reservation record; a change out of RESERVED closes it.
 */
export function applyCouponAction(
  ports: { coupons: CouponStore; newId: NewId },
  action: CouponAction,
  now: Date,
  { reservationTtlMs, jobId }: ActionOptions,
): Promise<Outcome<ActionResult>> {
  return ports.coupons.transaction(async (tx) => {
    const locked = await tx.lockCoupon(action.couponId);
    if (!locked) return reject('COUPON_NOT_FOUND');
    // Read under the coupon's lock: a run of this job still in flight elsewhere has committed or
    // rolled back by now.
    const done = jobId ? await tx.actionResult(jobId) : null;
    if (done) return ok({ coupon: done, repeated: true });
    const decision = actionTransition(action, locked, now);
    if (!decision.ok) return decision;
    const change: Change = {
      transition: decision.value,
      actor: action.actor,
      reason: reasonOf(action),
    };
    if (action.type === 'RESERVE') {
      change.reservation = {
        open: openReservation(decision.value, {
          id: ports.newId(),
          orderAmount: action.orderAmount,
          now,
          ttlMs: reservationTtlMs,
        }),
      };
    }
    await tx.saveChanges([change], now);
    if (jobId) await tx.storeActionResult(jobId, decision.value.coupon, now);
    return ok({ coupon: decision.value.coupon, repeated: false });
  });
}
