import { describe, expect, it } from 'vitest';
import { computeDiscount, type DiscountTerms, percentageOf } from '../../src/domain/index.js';

const percent = (value: number, cap: number | null = null, min = 0): DiscountTerms => ({
  discountType: 'PERCENTAGE',
  discountValue: value,
  maxDiscountAmount: cap,
  minOrderAmount: min,
});
const fixed = (value: number, min = 0): DiscountTerms => ({
  discountType: 'FIXED_AMOUNT',
  discountValue: value,
  maxDiscountAmount: null,
  minOrderAmount: min,
});

describe('computeDiscount', () => {
  it.each([
    ['fixed below the order', fixed(3000), 42000, 3000],
    ['fixed above the order is limited to the order', fixed(3000), 2500, 2500],
    ['fixed equal to the order', fixed(3000), 3000, 3000],
    ['fixed on a zero order', fixed(3000), 0, 0],
    ['10% of 42000', percent(10), 42000, 4200],
    ['percentage floors', percent(10), 12345, 1234],
    ['percentage floors a fraction below one to zero', percent(10), 9, 0],
    ['33% floors', percent(33), 1001, 330],
    ['100% is the whole order', percent(100), 42000, 42000],
    ['1% of 99 is 0', percent(1), 99, 0],
    ['percentage on a zero order', percent(50), 0, 0],
    ['cap applies', percent(10, 5000), 100000, 5000],
    ['cap above the raw discount does nothing', percent(10, 5000), 42000, 4200],
    ['cap exactly reached', percent(10, 5000), 50000, 5000],
    ['100% capped', percent(100, 1000), 42000, 1000],
    ['order exactly at the minimum', percent(10, null, 20000), 20000, 2000],
  ])('%s', (_name, terms, amount, expected) => {
    expect(computeDiscount(terms, amount)).toEqual({ ok: true, value: expected });
  });

  it('refuses an order below the minimum', () => {
    const out = computeDiscount(percent(10, null, 20000), 19999);
    expect(out).toMatchObject({ ok: false, code: 'MIN_ORDER_AMOUNT_NOT_MET' });
    expect(computeDiscount(fixed(1000, 1), 0)).toMatchObject({ code: 'MIN_ORDER_AMOUNT_NOT_MET' });
  });

  it('is exact where orderAmount × value would lose precision as a float', () => {
    const amount = Number.MAX_SAFE_INTEGER; // 9007199254740991
    expect(computeDiscount(percent(100), amount)).toEqual({ ok: true, value: amount });
    expect(computeDiscount(percent(10), amount)).toEqual({ ok: true, value: 900719925474099 });
    expect(computeDiscount(percent(37), amount)).toEqual({
      ok: true,
      value: Number((BigInt(amount) * 37n) / 100n),
    });
  });

  it('never leaves 0 ≤ discount ≤ orderAmount, even for out-of-range stored terms', () => {
    expect(computeDiscount(percent(150), 1000)).toEqual({ ok: true, value: 1000 });
    expect(computeDiscount(fixed(-5), 1000)).toEqual({ ok: true, value: 0 });
    expect(computeDiscount(percent(10, -1), 1000)).toEqual({ ok: true, value: 0 });
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'throws on an invalid order amount %s',
    (amount) => {
      expect(() => computeDiscount(fixed(1), amount)).toThrow(RangeError);
    },
  );

  it('agrees with BigInt arithmetic across many amounts and percentages', () => {
    for (let percentValue = 1; percentValue <= 100; percentValue++) {
      for (const amount of [0, 1, 99, 100, 101, 12345, 999_999_999, 2 ** 52 + 7]) {
        const expected = Number((BigInt(amount) * BigInt(percentValue)) / 100n);
        expect(percentageOf(amount, percentValue)).toBe(expected);
      }
    }
  });
});
