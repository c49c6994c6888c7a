import { payableAmount, totalDiscount } from '../domain/index.js';
import type { OrderReader, OrderRecord } from './ports.js';
import { actsFor, type Principal } from './principal.js';
import { accepted, notFound, notYours, type Result } from './refusal.js';

/** An order as `GET /v1/orders/:orderId` shows it. */
export function orderView({ order, coupons, payments }: OrderRecord) {
  return {
    orderId: order.orderId,
    userId: order.userId,
    orderAmount: order.orderAmount,
    coupons: coupons.map(({ couponId, policyId, status, discountAmount }) => ({
      couponId,
      policyId,
      status,
      discountAmount,
    })),
    totalDiscountAmount: totalDiscount(coupons),
    payableAmount: payableAmount(order.orderAmount, coupons),
    payments: payments.map((p) => ({ ...p, at: p.at.toISOString() })),
  };
}

/** The order when it is the caller's (or the caller is an admin): unknown first, then someone else's. */
export async function readOrder(
  ports: { orders: OrderReader },
  principal: Principal,
  orderId: string,
): Promise<Result<ReturnType<typeof orderView>>> {
  const record = await ports.orders.find(orderId);
  if (!record) return notFound('order');
  if (!actsFor(principal, record.order.userId)) return notYours();
  return accepted(orderView(record));
}
