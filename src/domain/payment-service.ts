/** What the payment service says of an order's payment; `NOT_FOUND` is its 404. */
export const ORDER_PAYMENT_STATUSES = [
  'COMPLETED',
  'PENDING',
  'FAILED',
  'CANCELLED',
  'NOT_FOUND',
] as const;
/** One of {@link ORDER_PAYMENT_STATUSES}. */
export type OrderPaymentStatus = (typeof ORDER_PAYMENT_STATUSES)[number];

/**
 * The outbound payment port: the scheduler asks it before timing a reservation out. It answers
 * `UNAVAILABLE` when the service could not be asked (no answer in time, an error, an open circuit)
 * rather than throwing.
 */
export interface PaymentService {
  orderPayment(orderId: string): Promise<OrderPaymentStatus | 'UNAVAILABLE'>;
}

/** What the scheduler does with a reservation past its expiry. */
export type TimeoutDecision =
  | 'USE' // the order was paid: the coupon becomes USED
  | 'EXTEND' // the payment is still pending: kept one more TTL
  | 'KEEP' // the payment service did not answer: kept, asked again next sweep
  | 'RELEASE'; // released as TIMED_OUT

export interface TimeoutRules {
  ttlMs: number;
  /** @defaultValue 2 */
  maxExtensions: number;
}

/**
 * The oldest a reservation gets while the payment service is asked: its TTL and every extension.
 */
export function maxReservationAgeMs({ ttlMs, maxExtensions }: TimeoutRules): number {
  return ttlMs * (1 + maxExtensions);
}

/**
 * Decides a reservation past its expiry from the payment service's answer: COMPLETED → USE;
 * PENDING → EXTEND while fewer than `maxExtensions` extensions were granted, else RELEASE; FAILED,
 * CANCELLED, NOT_FOUND → RELEASE; no answer → KEEP until the maximum age, then RELEASE.
 */
export function decideTimeout(
  answer: OrderPaymentStatus | 'UNAVAILABLE',
  reservation: { reservedAt: Date; extensions: number },
  now: Date,
  rules: TimeoutRules,
): TimeoutDecision {
  const tooOld = now.getTime() - reservation.reservedAt.getTime() >= maxReservationAgeMs(rules);
  switch (answer) {
    case 'COMPLETED':
      return 'USE';
    case 'PENDING':
      return reservation.extensions < rules.maxExtensions && !tooOld ? 'EXTEND' : 'RELEASE';
    case 'UNAVAILABLE':
      return tooOld ? 'RELEASE' : 'KEEP';
    default:
      return 'RELEASE';
  }
}
