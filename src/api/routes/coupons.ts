import { createRoute } from '@hono/zod-openapi';
import type { Coupon } from '../../domain/index.js';
import {
  couponHistory,
  couponReservations,
  findCoupon,
  listCoupons,
} from '../../infra/db/coupon.repository.js';
import type { Orm } from '../../infra/db/orm.js';
import { couponView, reservationView } from '../../infra/db/rows.js';
import type { Principal } from '../context.js';
import type { CursorCodec } from '../cursor.js';
import { ApiError } from '../errors.js';
import { assertActsFor } from '../middleware/auth.js';
import { bearer, commonErrors, json, notFound, page, uuidParam } from '../schemas/common.js';
import {
  couponListQuery,
  couponSchema,
  historyQuery,
  historySchema,
  reservationsSchema,
} from '../schemas/coupon.js';
import { createRouter } from '../validation.js';

const params = uuidParam('couponId');

/** Unknown → 404, someone else's → 403: the order the contract gives. */
export async function ownedCoupon(
  orm: Orm,
  principal: Principal,
  couponId: string,
): Promise<Coupon> {
  const coupon = await findCoupon(orm.em.fork(), couponId);
  if (!coupon) throw new ApiError('NOT_FOUND', 'No such coupon');
  assertActsFor(principal, coupon.userId);
  return coupon;
}

export function couponRoutes({ orm, cursors }: { orm: Orm; cursors: CursorCodec }) {
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
      const principal = c.get('principal');
      const query = c.req.valid('query');
      const userId = principal.role === 'admin' ? query.userId : (query.userId ?? principal.sub);
      if (userId !== undefined) assertActsFor(principal, userId);
      const result = await listCoupons(orm.em.fork(), {
        ...query,
        userId,
        cursor: cursors.decode('coupons', query.cursor),
      });
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
      const coupon = await ownedCoupon(
        orm,
        c.get('principal'),
        c.req.valid('param').couponId as string,
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
      const coupon = await ownedCoupon(
        orm,
        c.get('principal'),
        c.req.valid('param').couponId as string,
      );
      const { limit, cursor } = c.req.valid('query');
      const page = await couponHistory(orm.em.fork(), coupon.id, {
        limit,
        after: cursors.decode('history', cursor),
      });
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
      summary: 'Every reservation of a coupon, oldest first (owner or admin)',
      security: bearer,
      request: { params },
      responses: {
        200: json(reservationsSchema, 'The reservations'),
        ...commonErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const coupon = await ownedCoupon(
        orm,
        c.get('principal'),
        c.req.valid('param').couponId as string,
      );
      const items = await couponReservations(orm.em.fork(), coupon.id);
      return c.json({ items: items.map(reservationView) }, 200);
    },
  );

  return router;
}
