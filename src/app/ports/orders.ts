import type { CouponStatus, Order, OrderCoupon, PaymentEventType } from '../../domain/index.js';

/** An order as `GET /v1/orders/:orderId` shows it. */

/** A coupon the order holds (RESERVED for it or USED on it), in the order it joined. */
export interface OrderCouponRecord extends OrderCoupon {
  status: CouponStatus;
}

/** A payment event of the order, in the order it was received. */
export interface OrderPaymentRecord {
  eventId: string;
  type: PaymentEventType;
  amount: number;
  /** Null while the event is pending. */
  outcome: string | null;
  at: Date;
}

export interface OrderRecord {
  order: Order;
  coupons: OrderCouponRecord[];
  payments: OrderPaymentRecord[];
}

/** Reads of orders for the API (no locks: a validation is a dry run). */
export interface OrderReader {
  /** The order with its coupons and payment events; null when it never held a coupon. */
  find(orderId: string): Promise<OrderRecord | null>;
}
