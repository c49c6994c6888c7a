import type { SharedCounter } from '../infra/metrics.js';
import type { PaymentResult } from './apply-payment.js';

/** Adds each applied event to `coupon_payment_events_total{type,outcome}`. */
export function countPaymentOutcomes(counter: SharedCounter, results: Iterable<PaymentResult>) {
  for (const { applied } of results) {
    for (const { type, outcome } of applied) counter.add(`${type}|${outcome}`);
  }
}
