import { createRoute, z } from '@hono/zod-openapi';
import type { Ports } from '../../app/ports.js';
import { readOrder } from '../../app/read-order.js';
import { orThrow } from '../errors.js';
import { bearer, commonErrors, json, notFound } from '../schemas/common.js';
import { orderIdText, orderSchema } from '../schemas/coupon.js';
import { createRouter } from '../validation.js';

export function orderRoutes({ ports }: { ports: Ports }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orders/{orderId}',
      operationId: 'getOrder',
      tags: ['orders'],
      summary: "An order's coupons, discount, payable amount and payment events",
      security: bearer,
      request: { params: z.object({ orderId: orderIdText }) },
      responses: { 200: json(orderSchema, 'The order'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const { orderId } = c.req.valid('param');
      return c.json(orThrow(await readOrder(ports, c.get('principal'), orderId)), 200);
    },
  );

  return router;
}
