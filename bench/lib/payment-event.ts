import { randomUUID } from 'node:crypto';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';

/** Every benchmark order's amount and its one coupon's discount, as the reservations state them. */
export const BENCH_ORDER_AMOUNT = 30000;
export const BENCH_DISCOUNT = 1000;

/**
 * The orders of these reserved coupons (`order_id` set, one coupon each), as a reserve through the
 * service records them: the order row with its user and amount, and the coupon's order amount.
 */
export const RECORD_ORDERS_SQL = `
  with reserved as (
    update coupons c set order_amount = ${BENCH_ORDER_AMOUNT}
     where c.order_id = any($1::text[]) and c.status = 'RESERVED'
    returning c.order_id, c.user_id
  )
  insert into orders (order_id, user_id, order_amount)
  select order_id, user_id, ${BENCH_ORDER_AMOUNT} from reserved
  on conflict (order_id) do nothing`;

/**
 * The payment both payment benchmarks send for a reserved coupon's order, paid by its owner: the
 * order's payable amount (30,000 less the coupon's 1,000; see {@link BENCH_ORDER_AMOUNT}).
 */
export function completedPayment(orderId: string, userId: string): PaymentEvent {
  return {
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId,
    userId,
    amount: BENCH_ORDER_AMOUNT - BENCH_DISCOUNT,
    occurredAt: new Date().toISOString(),
  };
}
