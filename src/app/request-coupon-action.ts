import type { AuditBy, CouponAction, CouponReader, JobQueue } from './ports.js';
import type { Principal } from './principal.js';
import { ownedCoupon } from './read-coupons.js';
import { accepted, keyReused, type Result } from './refusal.js';

export type ActionName = 'reserve' | 'release' | 'use' | 'cancel';

/** The action's body as the route validated it. */
export type ActionInput = { orderId?: string; orderAmount?: number; reason?: string };

function actionOf(
  action: ActionName,
  { actor, requestId }: AuditBy,
  couponId: string,
  body: ActionInput,
): CouponAction {
  const base = { actor, couponId };
  const order = { orderId: body.orderId as string, orderAmount: body.orderAmount as number };
  switch (action) {
    case 'reserve':
      return { type: 'RESERVE', ...base, ...order };
    case 'use':
      return { type: 'USE', ...base, ...order };
    case 'release':
      return { type: 'RELEASE', ...base, orderId: order.orderId };
    case 'cancel':
      return { type: 'CANCEL', ...base, reason: body.reason as string, requestId };
  }
}

/**
 * Accepts a reserve/use/release/cancel of an owned coupon as a job (once per Idempotency-Key). An
 * admin's cancel carries `by`'s request id to the worker, which writes its audit record with the
 * change, in the cancel's own transaction.
 */
export async function requestCouponAction(
  ports: { couponReader: CouponReader; jobs: JobQueue },
  principal: Principal,
  input: {
    action: ActionName;
    couponId: string;
    body: ActionInput;
    idempotencyKey: string | undefined;
  },
  by: AuditBy,
): Promise<Result<{ jobId: string }>> {
  const { action, couponId, body, idempotencyKey } = input;
  const owned = await ownedCoupon(ports, principal, couponId);
  if (!owned.ok) return owned;
  const data = actionOf(action, { actor: principal.sub, requestId: by.requestId }, couponId, body);
  const result = await ports.jobs.enqueueAction({
    actor: principal.sub,
    idempotencyKey,
    data,
    request: { action, couponId, ...body },
  });
  if (!result.ok) return keyReused();
  return accepted({ jobId: result.jobId });
}
