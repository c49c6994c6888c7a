import {
  type Coupon,
  cancelCoupon,
  checkBudget,
  joinOrder,
  type Outcome,
  ok,
  openReservation,
  reject,
  releaseCoupon,
  reserveCoupon,
  type Transition,
  useCoupon,
} from '../domain/index.js';
import type {
  Change,
  CouponAction,
  CouponStore,
  CouponTx,
  LockedCoupon,
  LockedOrder,
  NewId,
} from './ports.js';

/**
 * What a client's action does to a locked coupon, decided by the domain's status machine; a
 * reserve's or a use's discount is cut to `room`, what its order has left.
 */
function actionTransition(
  action: CouponAction,
  { coupon, policy }: LockedCoupon,
  now: Date,
  room?: number,
): Outcome<Transition> {
  switch (action.type) {
    case 'RESERVE':
      return reserveCoupon(coupon, policy, {
        orderId: action.orderId,
        orderAmount: action.orderAmount,
        now,
        room,
      });
    case 'USE':
      return useCoupon(coupon, policy, {
        orderId: action.orderId,
        orderAmount: action.orderAmount,
        now,
        room,
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
 * A reserve or a use joins its order: the coupon's own rules come first, then the order's (one
 * user, one amount, stacking) with the discount cut to what the order has left, then the policy's
 * budget under its row lock. Other actions decide on the coupon alone.
 */
async function decide(
  tx: CouponTx,
  action: CouponAction,
  locked: LockedCoupon,
  order: LockedOrder | null,
  now: Date,
): Promise<Outcome<Transition>> {
  const alone = actionTransition(action, locked, now);
  if (!alone.ok || !order || !('orderAmount' in action)) return alone;
  const joined = joinOrder(order, locked, action.orderAmount, (room) =>
    actionTransition(action, locked, now, room),
  );
  if (!joined.ok) return joined;
  const { spend } = joined.value;
  if (locked.policy.budget !== null && spend > 0) {
    const over = checkBudget(locked.policy, await tx.lockBudget(locked.policy.id), spend);
    if (over) return over;
  }
  if (order.order?.orderAmount !== action.orderAmount) {
    await tx.saveOrder({
      orderId: action.orderId,
      userId: locked.coupon.userId,
      orderAmount: action.orderAmount,
    });
  }
  return joined;
}

/**
 * Applies one reserve/use/release/cancel in one transaction with the coupon row locked, so two
 * actions on one coupon (or an action and a payment event) take effect one after the other. A
 * reserve or a use locks its order first (every change of an order's coupons takes the order
 * before them), so reserves for one order run one after the other in any number of workers. A
 * reserve opens a reservation record; a change out of RESERVED closes it. A cancel's audit record
 * is written in the same transaction: it exists exactly when the cancel committed, once.
 */
export function applyCouponAction(
  ports: { coupons: CouponStore; newId: NewId },
  action: CouponAction,
  now: Date,
  { reservationTtlMs, jobId }: ActionOptions,
): Promise<Outcome<ActionResult>> {
  return ports.coupons.transaction(async (tx) => {
    const order =
      action.type === 'RESERVE' || action.type === 'USE'
        ? await tx.lockOrder(action.orderId)
        : null;
    const locked = await tx.lockCoupon(action.couponId);
    if (!locked) return reject('COUPON_NOT_FOUND');
    // Read under the coupon's lock: a run of this job still in flight elsewhere has committed or
    // rolled back by now.
    const done = jobId ? await tx.actionResult(jobId) : null;
    if (done) return ok({ coupon: done, repeated: true });
    const decision = await decide(tx, action, locked, order, now);
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
    if (action.type === 'CANCEL') {
      await tx.audit({
        actor: action.actor,
        requestId: action.requestId ?? null,
        action: 'coupon.cancel',
        target: `coupon:${action.couponId}`,
        details: { reason: action.reason, ...(jobId && { jobId }) },
      });
    }
    const { coupon } = decision.value;
    if (jobId) await tx.storeActionResult(jobId, coupon, now);
    return ok({ coupon, repeated: false });
  });
}
