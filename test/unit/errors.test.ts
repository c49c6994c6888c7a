import { describe, expect, it } from 'vitest';
import {
  BUSINESS_CODES,
  BusinessRuleError,
  DEFAULT_MESSAGES,
  isBusinessCode,
  ok,
  reject,
  valueOrThrow,
} from '../../src/domain/index.js';

describe('business codes', () => {
  it('lists exactly the contract codes', () => {
    expect([...BUSINESS_CODES].sort()).toEqual(
      [
        'QUOTA_EXHAUSTED',
        'PER_USER_LIMIT_REACHED',
        'POLICY_NOT_FOUND',
        'POLICY_NOT_ACTIVE',
        'CODE_INVALID',
        'CODE_ALREADY_USED',
        'COUPON_NOT_FOUND',
        'COUPON_NOT_USABLE',
        'COUPON_EXPIRED',
        'MIN_ORDER_AMOUNT_NOT_MET',
        'ORDER_MISMATCH',
        'STACKING_NOT_ALLOWED',
        'BUDGET_EXHAUSTED',
      ].sort(),
    );
  });

  it.each(BUSINESS_CODES)('recognises %s and has a default message for it', (code) => {
    expect(isBusinessCode(code)).toBe(true);
    expect(DEFAULT_MESSAGES[code].length).toBeGreaterThan(0);
  });

  it.each([undefined, null, 42, '', 'quota_exhausted', 'INTERNAL', 'VALIDATION_ERROR', {}])(
    'rejects %j',
    (x) => {
      expect(isBusinessCode(x)).toBe(false);
    },
  );
});

describe('outcomes', () => {
  it('ok wraps a value', () => {
    expect(ok(3)).toEqual({ ok: true, value: 3 });
  });

  it('reject uses the default message unless given one', () => {
    expect(reject('COUPON_EXPIRED')).toEqual({
      ok: false,
      code: 'COUPON_EXPIRED',
      message: DEFAULT_MESSAGES.COUPON_EXPIRED,
    });
    expect(reject('COUPON_EXPIRED', 'gone').message).toBe('gone');
  });

  it('valueOrThrow returns the value or throws the rejection as a BusinessRuleError', () => {
    expect(valueOrThrow(ok('x'))).toBe('x');
    const thrown = (() => {
      try {
        valueOrThrow(reject('ORDER_MISMATCH', 'other order'));
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(BusinessRuleError);
    expect(thrown).toMatchObject({
      code: 'ORDER_MISMATCH',
      message: 'other order',
      retryable: false,
    });
  });
});

describe('BusinessRuleError', () => {
  it('is an Error with a code, a name and a default message', () => {
    const e = new BusinessRuleError('QUOTA_EXHAUSTED');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('BusinessRuleError');
    expect(e.code).toBe('QUOTA_EXHAUSTED');
    expect(e.message).toBe(DEFAULT_MESSAGES.QUOTA_EXHAUSTED);
    expect(e.retryable).toBe(false);
  });
});
