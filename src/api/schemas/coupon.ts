import { z } from '@hono/zod-openapi';
import { COUPON_STATUSES } from '../../domain/index.js';
import { paginationQuery } from './common.js';

export const couponSchema = z
  .object({
    id: z.string(),
    policyId: z.string(),
    userId: z.string(),
    status: z.enum(COUPON_STATUSES),
    issuedAt: z.string(),
    expiresAt: z.string(),
    usedAt: z.string().nullable(),
    orderId: z.string().nullable(),
    discountAmount: z.number().nullable(),
  })
  .openapi('Coupon');

export const couponListQuery = paginationQuery.extend({
  userId: z.string().min(1).max(200).optional(),
  status: z.enum(COUPON_STATUSES).optional(),
});

export const historySchema = z
  .object({
    items: z.array(
      z.object({
        from: z.enum(COUPON_STATUSES).nullable(),
        to: z.enum(COUPON_STATUSES),
        actor: z.string(),
        reason: z.string().nullable(),
        at: z.string(),
      }),
    ),
  })
  .openapi('CouponHistory');
