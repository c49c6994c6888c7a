import { createRoute } from '@hono/zod-openapi';
import { validateCoupon } from '../../domain/index.js';
import { writeAudit } from '../../infra/db/audit.js';
import type { Orm } from '../../infra/db/orm.js';
import { findPolicy } from '../../infra/db/policy.repository.js';
import { enqueueOnce, type JobSink } from '../../infra/queue/enqueue.js';
import { JOB_ID_PREFIX, type UsageJobData } from '../../infra/queue/jobs.js';
import type { RedisClient as Redis } from '../../infra/redis/connection.js';
import type { Principal } from '../context.js';
import { ApiError } from '../errors.js';
import { requireAdmin } from '../middleware/auth.js';
import {
  acceptedSchema,
  bearer,
  commonErrors,
  conflict,
  json,
  jsonBody,
  notFound,
  uuidParam,
} from '../schemas/common.js';
import {
  cancelBody,
  orderBody,
  releaseBody,
  validateBody,
  validationSchema,
} from '../schemas/coupon.js';
import { idempotencyKeyParameter } from '../schemas/issuance.js';
import { auditBy, createRouter, idempotencyKeyOf } from '../validation.js';
import { ownedCoupon } from './coupons.js';

const params = uuidParam('couponId');

interface Deps {
  orm: Orm;
  /** The usage queue (see `addsCorkedPerTurn`). */
  usage: JobSink<UsageJobData>;
  redis: Redis;
  queuePrefix: string;
  /** The key of Idempotency-Key fingerprints. */
  fingerprintSecret: string;
}

const ACTIONS = {
  reserve: { body: orderBody, summary: 'Reserve the coupon for an order (ISSUED → RESERVED)' },
  release: { body: releaseBody, summary: 'Give a reservation back (RESERVED → ISSUED)' },
  use: { body: orderBody, summary: 'Use the coupon (ISSUED or RESERVED → USED)' },
  cancel: { body: cancelBody, summary: 'Cancel the coupon (admin; ISSUED/RESERVED → CANCELLED)' },
} as const;

function jobData(
  action: keyof typeof ACTIONS,
  principal: Principal,
  couponId: string,
  body: Record<string, unknown>,
): UsageJobData {
  const base = { actor: principal.sub, couponId };
  switch (action) {
    case 'reserve':
      return {
        type: 'RESERVE',
        ...base,
        orderId: body.orderId as string,
        orderAmount: body.orderAmount as number,
      };
    case 'use':
      return {
        type: 'USE',
        ...base,
        orderId: body.orderId as string,
        orderAmount: body.orderAmount as number,
      };
    case 'release':
      return { type: 'RELEASE', ...base, orderId: body.orderId as string };
    case 'cancel':
      return { type: 'CANCEL', ...base, reason: body.reason as string };
  }
}

export function couponActionRoutes(deps: Deps) {
  const router = createRouter();

  for (const [action, { body, summary }] of Object.entries(ACTIONS) as [
    keyof typeof ACTIONS,
    (typeof ACTIONS)[keyof typeof ACTIONS],
  ][]) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/v1/coupons/{couponId}/${action}`,
        operationId: `${action}Coupon`,
        tags: ['coupons'],
        summary,
        description: 'Carried out by a worker: answered 202 with a job to poll.',
        security: bearer,
        parameters: [idempotencyKeyParameter],
        request: { params, body: jsonBody(body) },
        responses: {
          202: json(acceptedSchema, 'Accepted; poll statusUrl'),
          ...commonErrors,
          ...notFound,
          ...conflict('Idempotency-Key reused with another body (CONFLICT)'),
        },
      }),
      async (c) => {
        const principal = c.get('principal');
        if (action === 'cancel') requireAdmin(principal);
        const { couponId } = c.req.valid('param') as { couponId: string };
        const idempotencyKey = idempotencyKeyOf(c);
        await ownedCoupon(deps.orm, principal, couponId);
        const input = c.req.valid('json') as Record<string, unknown>;
        const data = jobData(action, principal, couponId, input);
        const result = await enqueueOnce({
          queue: deps.usage,
          redis: deps.redis,
          keyPrefix: deps.queuePrefix,
          idPrefix: JOB_ID_PREFIX.usage,
          actor: principal.sub,
          idempotencyKey,
          data,
          request: { action, couponId, ...input },
          secret: deps.fingerprintSecret,
        });
        if (!result.ok)
          throw new ApiError('CONFLICT', 'This Idempotency-Key was used with another body');
        if (action === 'cancel') {
          // The admin's request, recorded when it is accepted; the worker's change follows.
          await writeAudit(deps.orm.em.fork(), {
            ...auditBy(c),
            action: 'coupon.cancel',
            target: `coupon:${couponId}`,
            details: { reason: data.type === 'CANCEL' ? data.reason : null, jobId: result.jobId },
          });
        }
        return c.json({ jobId: result.jobId, statusUrl: `/v1/jobs/${result.jobId}` }, 202);
      },
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/coupons/{couponId}/validate',
      operationId: 'validateCoupon',
      tags: ['coupons'],
      summary: 'Dry run: would this coupon apply to this order, and for how much?',
      security: bearer,
      request: { params, body: jsonBody(validateBody) },
      responses: {
        200: json(validationSchema, 'Valid with the discount, or not with the reason'),
        ...commonErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { couponId } = c.req.valid('param') as { couponId: string };
      const coupon = await ownedCoupon(deps.orm, c.get('principal'), couponId);
      const policy = await findPolicy(deps.orm.em.fork(), coupon.policyId);
      if (!policy) throw new ApiError('NOT_FOUND', 'No such coupon');
      const { orderAmount, orderId } = c.req.valid('json');
      const outcome = validateCoupon(coupon, policy, { orderAmount, orderId, now: new Date() });
      return c.json(
        outcome.ok
          ? { valid: true, discountAmount: outcome.value }
          : { valid: false, reason: outcome.code },
        200,
      );
    },
  );

  return router;
}
