import { createRoute } from '@hono/zod-openapi';
import type { Ports } from '../../app/ports.js';
import { type ActionInput, requestCouponAction } from '../../app/request-coupon-action.js';
import { validateCoupon } from '../../app/validate-coupon.js';
import { orThrow } from '../errors.js';
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

const params = uuidParam('couponId');

const ACTIONS = {
  reserve: { body: orderBody, summary: 'Reserve the coupon for an order (ISSUED → RESERVED)' },
  release: { body: releaseBody, summary: 'Give a reservation back (RESERVED → ISSUED)' },
  use: { body: orderBody, summary: 'Use the coupon (ISSUED or RESERVED → USED)' },
  cancel: { body: cancelBody, summary: 'Cancel the coupon (admin; ISSUED/RESERVED → CANCELLED)' },
} as const;

export function couponActionRoutes({ ports }: { ports: Ports }) {
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
        const result = await requestCouponAction(
          ports,
          principal,
          { action, couponId, body: c.req.valid('json') as ActionInput, idempotencyKey },
          auditBy(c),
        );
        const { jobId } = orThrow(result);
        return c.json({ jobId, statusUrl: `/v1/jobs/${jobId}` }, 202);
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
      const { orderAmount, orderId } = c.req.valid('json');
      const validation = orThrow(
        await validateCoupon(ports, c.get('principal'), { couponId, orderAmount, orderId }),
      );
      return c.json(validation, 200);
    },
  );

  return router;
}
