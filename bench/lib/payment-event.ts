import { randomUUID } from 'node:crypto';
import type { PaymentEvent } from '../../src/infra/kafka/payment-event.js';

/** The payment both payment benchmarks send for a reserved coupon's order, paid by its owner. */
export function completedPayment(orderId: string, userId: string): PaymentEvent {
  return {
    eventId: randomUUID(),
    type: 'PAYMENT_COMPLETED',
    orderId,
    userId,
    amount: 30000,
    occurredAt: new Date().toISOString(),
  };
}
