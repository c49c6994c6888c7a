import { createRoute } from '@hono/zod-openapi';
import type { Ports } from '../../app/ports.js';
import {
  couponHistory,
  couponReservations,
  listCoupons,
  ownedCoupon,
} from '../../app/read-coupons.js';
import { couponView, reservationView } from '../../app/views.js';
import type { CursorCodec } from '../cursor.js';
import { orThrow } from '../errors.js';
import { bearer, commonErrors, json, notFound, page, uuidParam } from '../schemas/common.js';
import {
  couponListQuery,
  couponSchema,
  historyQuery,
  historySchema,
  reservationsQuery,
  reservationsSchema,
} from '../schemas/coupon.js';
import { createRouter } from '../validation.js';

const params = uuidParam('couponId');

export function couponRoutes({ ports, cursors }: { ports: Ports; cursors: CursorCodec }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/coupons',
      operationId: 'listCoupons',
      tags: ['coupons'],
      summary: "The caller's coupons (admins: any user's, or all), newest first",
      security: bearer,
      request: { query: couponListQuery },
      responses: { 200: json(page(couponSchema), 'A page of coupons'), ...commonErrors },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const result = orThrow(
        await listCoupons(ports, c.get('principal'), {
          ...query,
          cursor: () => cursors.decode('coupons', query.cursor),
        }),
      );
      return c.json(
        {
          items: result.items.map(couponView),
          nextCursor: cursors.encode('coupons', result.nextCursor),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/coupons/{couponId}',
      operationId: 'getCoupon',
      tags: ['coupons'],
      summary: 'A coupon (owner or admin)',
      security: bearer,
      request: { params },
      responses: { 200: json(couponSchema, 'The coupon'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const coupon = orThrow(
        await ownedCoupon(ports, c.get('principal'), c.req.valid('param').couponId as string),
      );
      return c.json(couponView(coupon), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/coupons/{couponId}/history',
      operationId: 'getCouponHistory',
      tags: ['coupons'],
      summary: 'Every status change of a coupon, oldest first, in pages',
      security: bearer,
      request: { params, query: historyQuery },
      responses: { 200: json(historySchema, 'The history'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = orThrow(
        await couponHistory(ports, c.get('principal'), c.req.valid('param').couponId as string, {
          limit,
          after: () => cursors.decode('history', cursor),
        }),
      );
      return c.json(
        { items: page.items, nextCursor: cursors.encode('history', page.nextCursor) },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/coupons/{couponId}/reservations',
      operationId: 'listCouponReservations',
      tags: ['coupons'],
      summary: "A coupon's reservations, oldest first, in pages (owner or admin)",
      security: bearer,
      request: { params, query: reservationsQuery },
      responses: {
        200: json(reservationsSchema, 'The reservations'),
        ...commonErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = orThrow(
        await couponReservations(
          ports,
          c.get('principal'),
          c.req.valid('param').couponId as string,
          {
            limit,
            after: () => cursors.decode('reservations', cursor),
          },
        ),
      );
      return c.json(
        {
          items: page.items.map(reservationView),
          nextCursor: cursors.encode('reservations', page.nextCursor),
        },
        200,
      );
    },
  );

  return router;
}
