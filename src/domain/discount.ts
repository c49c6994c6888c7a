import { type Outcome, ok, reject } from './errors.js';
import type { CouponPolicy } from './policy.js';

/** The policy fields the discount depends on. */
export type DiscountTerms = Pick<
  CouponPolicy,
  'discountType' | 'discountValue' | 'maxDiscountAmount' | 'minOrderAmount'
>;

/**
 * The discount a policy grants on an order, in the currency's smallest unit.
 *
 * FIXED_AMOUNT gives `min(discountValue, orderAmount)`; PERCENTAGE gives
 * `floor(orderAmount × discountValue / 100)` capped by `maxDiscountAmount`. The result is always an
 * integer with `0 ≤ discount ≤ orderAmount`, exact for every safe-integer `orderAmount` (no float
 * rounding: see {@link percentageOf}).
 *
 * @param orderAmount - a safe integer ≥ 0 (requests are validated before they get here).
 * @returns `MIN_ORDER_AMOUNT_NOT_MET` when `orderAmount < minOrderAmount`.
 * @throws RangeError when `orderAmount` is negative or not a safe integer: that is a caller bug.
 */
export function computeDiscount(terms: DiscountTerms, orderAmount: number): Outcome<number> {
  if (!Number.isSafeInteger(orderAmount) || orderAmount < 0) {
    throw new RangeError(`orderAmount must be a safe integer >= 0, got ${orderAmount}`);
  }
  if (orderAmount < terms.minOrderAmount) {
    return reject(
      'MIN_ORDER_AMOUNT_NOT_MET',
      `The order amount ${orderAmount} is below the minimum of ${terms.minOrderAmount}.`,
    );
  }
  let discount: number;
  if (terms.discountType === 'FIXED_AMOUNT') {
    discount = terms.discountValue;
  } else {
    discount = percentageOf(orderAmount, terms.discountValue);
    if (terms.maxDiscountAmount !== null) discount = Math.min(discount, terms.maxDiscountAmount);
  }
  // Stored policies are validated on the way in; clamping keeps a corrupt row from ever paying out
  // more than the order or a negative amount.
  return ok(Math.min(Math.max(Math.floor(discount), 0), orderAmount));
}

/**
 * `floor(amount × percent / 100)` without forming `amount × percent`, which stops being exact once
 * it passes 2^53. Splitting `amount = 100q + r` keeps every intermediate ≤ `amount` or < 10,000.
 */
export function percentageOf(amount: number, percent: number): number {
  const hundreds = Math.floor(amount / 100);
  const rest = amount % 100;
  return hundreds * percent + Math.floor((rest * percent) / 100);
}
