import { z } from '@hono/zod-openapi';
import { COUPON_STATUSES, PAYMENT_EVENT_TYPES, RESERVATION_STATES } from '../../domain/index.js';
import { amount, paginationQuery, text } from './common.js';

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
  userId: text({ min: 1, max: 200 }).optional(),
  status: z.enum(COUPON_STATUSES).optional(),
});

/** A coupon's history is short: one page usually holds it whole (the default is the maximum). */
export const historyQuery = paginationQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(100),
});

export const historySchema = z
  .object({
    nextCursor: z.string().nullable(),
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

/** A coupon's reservations in pages; one page usually holds them all (the default is the maximum). */
export const reservationsQuery = historyQuery;

export const reservationsSchema = z
  .object({
    nextCursor: z.string().nullable(),
    items: z.array(
      z
        .object({
          id: z.string(),
          couponId: z.string(),
          orderId: z.string(),
          userId: z.string(),
          orderAmount: z
            .number()
            .nullable()
            .openapi({ description: 'null for reservations made before amounts were kept' }),
          discountAmount: z.number(),
          state: z.enum(RESERVATION_STATES),
          reservedAt: z.string(),
          expiresAt: z.string(),
          closedAt: z.string().nullable(),
          closedBy: z.string().nullable(),
          reason: z.string().nullable(),
        })
        .openapi('CouponReservation'),
    ),
  })
  .openapi('CouponReservations');

export const orderIdText = text({ min: 1, max: 200, trim: true });
const orderId = orderIdText;
const orderAmount = amount();

export const orderBody = z.strictObject({ orderId, orderAmount }).openapi('OrderAction');
export const releaseBody = z.strictObject({ orderId }).openapi('ReleaseAction');
export const cancelBody = z
  .strictObject({ reason: text({ min: 1, max: 500, trim: true, freeText: true }) })
  .openapi('CancelAction');
export const validateBody = z
  .strictObject({ orderAmount, orderId: orderId.optional() })
  .openapi('ValidateRequest');

export const validationSchema = z
  .object({
    valid: z.boolean(),
    discountAmount: z.number().optional(),
    payableAmount: z.number().optional().openapi({
      description: 'what the order would cost with this coupon, after its other coupons',
    }),
    reason: z.string().optional(),
  })
  .openapi('CouponValidation');

export const statisticsSchema = z
  .object({
    policyId: z.string(),
    totalQuantity: z.number(),
    issuedCount: z.number(),
    reservedCount: z.number(),
    usedCount: z.number(),
    expiredCount: z.number(),
    cancelledCount: z.number(),
    remainingQuantity: z.number(),
    usageRate: z.number(),
    totalDiscountAmount: z.number(),
    budget: z.number().nullable(),
    budgetSpent: z.number().openapi({ description: 'the discounts of RESERVED and USED coupons' }),
    budgetRemaining: z.number().nullable(),
  })
  .openapi('PolicyStatistics');

export const orderSchema = z
  .object({
    orderId: z.string(),
    userId: z.string(),
    orderAmount: z.number(),
    coupons: z.array(
      z.object({
        couponId: z.string(),
        policyId: z.string(),
        status: z.enum(COUPON_STATUSES),
        discountAmount: z.number(),
      }),
    ),
    totalDiscountAmount: z.number(),
    payableAmount: z.number(),
    payments: z.array(
      z.object({
        eventId: z.string(),
        type: z.enum(PAYMENT_EVENT_TYPES),
        amount: z.number(),
        outcome: z.string().nullable().openapi({ description: 'null while the event is pending' }),
        at: z.string(),
      }),
    ),
  })
  .openapi('Order');
