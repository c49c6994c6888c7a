import type { AuditBy, AuditLog, CouponAction, CouponReader, JobQueue } from './ports.js';
import type { Principal } from './principal.js';
import { ownedCoupon } from './read-coupons.js';
import { accepted, keyReused, type Result } from './refusal.js';

export type ActionName = 'reserve' | 'release' | 'use' | 'cancel';

/** The action's body as the route validated it. */
export type ActionInput = { orderId?: string; orderAmount?: number; reason?: string };

function actionOf(
  action: ActionName,
  actor: string,
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
      return { type: 'CANCEL', ...base, reason: body.reason as string };
  }
}

/**
 * Accepts a reserve/use/release/cancel of an owned coupon as a job (once per Idempotency-Key). An
 * admin's cancel is recorded in the audit log when it is accepted; the worker's change follows.
 */
export async function requestCouponAction(
  ports: { couponReader: CouponReader; jobs: JobQueue; audit: AuditLog },
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
  const data = actionOf(action, principal.sub, couponId, body);
  const result = await ports.jobs.enqueueAction({
    actor: principal.sub,
    idempotencyKey,
    data,
    request: { action, couponId, ...body },
  });
  if (!result.ok) return keyReused();
  if (data.type === 'CANCEL') {
    await ports.audit.write({
      ...by,
      action: 'coupon.cancel',
      target: `coupon:${couponId}`,
      details: { reason: data.reason, jobId: result.jobId },
    });
  }
  return accepted({ jobId: result.jobId });
}
