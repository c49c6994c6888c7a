import { describe, expect, it } from 'vitest';
import {
  checkIssuable,
  couponExpiresAt,
  DEFAULT_MIN_ORDER_AMOUNT,
  DEFAULT_PER_USER_LIMIT,
  grantCount,
  isSoldOut,
  type NewPolicyInput,
  newPolicy,
  policyInputProblems,
} from '../../src/domain/index.js';
import { at, DAY, HOUR, NOW, policy, policyInput } from './fixtures.js';

const paths = (input: NewPolicyInput) => policyInputProblems(input, NOW).map((p) => p.path);

describe('policyInputProblems', () => {
  it('accepts a valid percentage and a valid fixed-amount policy', () => {
    expect(policyInputProblems(policyInput(), NOW)).toEqual([]);
    const fixed = policyInput({
      discountType: 'FIXED_AMOUNT',
      discountValue: 3000,
      maxDiscountAmount: null,
    });
    expect(policyInputProblems(fixed, NOW)).toEqual([]);
  });

  it('accepts the optional fields left out', () => {
    const minimal: NewPolicyInput = {
      name: 'n',
      discountType: 'FIXED_AMOUNT',
      discountValue: 1,
      issueType: 'CODE',
      totalQuantity: 1,
      validFrom: at(DAY),
      validUntil: at(2 * DAY),
    };
    expect(policyInputProblems(minimal, NOW)).toEqual([]);
    const undefinedOptionals: NewPolicyInput = {
      ...minimal,
      description: undefined,
      maxDiscountAmount: undefined,
      minOrderAmount: undefined,
      perUserLimit: undefined,
      validDaysAfterIssue: undefined,
    };
    expect(policyInputProblems(undefinedOptionals, NOW)).toEqual([]);
  });

  it.each<[string, Partial<NewPolicyInput>, string[]]>([
    ['blank name', { name: '   ' }, ['name']],
    ['percentage 0', { discountValue: 0 }, ['discountValue']],
    ['percentage 101', { discountValue: 101 }, ['discountValue']],
    ['fractional percentage', { discountValue: 12.5 }, ['discountValue']],
    [
      'fixed amount 0',
      { discountType: 'FIXED_AMOUNT', discountValue: 0, maxDiscountAmount: null },
      ['discountValue'],
    ],
    [
      'fractional fixed amount',
      { discountType: 'FIXED_AMOUNT', discountValue: 1.5, maxDiscountAmount: null },
      ['discountValue'],
    ],
    [
      'cap on a fixed amount',
      { discountType: 'FIXED_AMOUNT', discountValue: 500 },
      ['maxDiscountAmount'],
    ],
    ['cap 0', { maxDiscountAmount: 0 }, ['maxDiscountAmount']],
    ['fractional cap', { maxDiscountAmount: 10.5 }, ['maxDiscountAmount']],
    ['negative minimum order', { minOrderAmount: -1 }, ['minOrderAmount']],
    ['fractional minimum order', { minOrderAmount: 0.5 }, ['minOrderAmount']],
    ['quantity 0', { totalQuantity: 0 }, ['totalQuantity']],
    ['fractional quantity', { totalQuantity: 1.5 }, ['totalQuantity']],
    ['unsafe quantity', { totalQuantity: 2 ** 53 }, ['totalQuantity']],
    ['per-user limit 0', { perUserLimit: 0 }, ['perUserLimit']],
    ['validDaysAfterIssue 0', { validDaysAfterIssue: 0 }, ['validDaysAfterIssue']],
    ['fractional validDaysAfterIssue', { validDaysAfterIssue: 1.5 }, ['validDaysAfterIssue']],
    ['validUntil equal to validFrom', { validFrom: at(DAY), validUntil: at(DAY) }, ['validUntil']],
    [
      'validUntil before validFrom',
      { validFrom: at(2 * DAY), validUntil: at(DAY) },
      ['validUntil'],
    ],
    ['validUntil now', { validUntil: NOW }, ['validUntil']],
    [
      'validUntil in the past and before validFrom',
      { validFrom: at(-DAY), validUntil: at(-2 * DAY) },
      ['validUntil', 'validUntil'],
    ],
    ['invalid validFrom', { validFrom: new Date('nope') }, ['validFrom']],
    ['invalid validUntil', { validUntil: new Date('nope') }, ['validUntil']],
  ])('flags %s', (_name, overrides, expected) => {
    expect(paths(policyInput(overrides))).toEqual(expected);
  });

  it('allows a validFrom in the past as long as validUntil is in the future', () => {
    expect(paths(policyInput({ validFrom: at(-30 * DAY), validUntil: at(1) }))).toEqual([]);
  });

  it('reports every problem at once, each with a message', () => {
    const problems = policyInputProblems(
      policyInput({ discountValue: 0, totalQuantity: 0, perUserLimit: 0, validUntil: at(-DAY) }),
      NOW,
    );
    expect(problems.map((p) => p.path)).toEqual([
      'discountValue',
      'totalQuantity',
      'perUserLimit',
      'validUntil',
      'validUntil',
    ]);
    for (const p of problems) expect(p.message).not.toBe('');
  });
});

describe('newPolicy', () => {
  it('fills the defaults and starts ACTIVE with nothing issued', () => {
    const input: NewPolicyInput = {
      name: 'n',
      discountType: 'FIXED_AMOUNT',
      discountValue: 100,
      issueType: 'DIRECT',
      totalQuantity: 5,
      validFrom: at(0),
      validUntil: at(DAY),
    };
    expect(newPolicy(input, { id: 'p', now: NOW })).toEqual({
      ...input,
      id: 'p',
      description: null,
      maxDiscountAmount: null,
      minOrderAmount: DEFAULT_MIN_ORDER_AMOUNT,
      perUserLimit: DEFAULT_PER_USER_LIMIT,
      validDaysAfterIssue: null,
      status: 'ACTIVE',
      issuedCount: 0,
      stacking: 'EXCLUSIVE',
      budget: null,
      publicCode: null,
      createdAt: NOW,
    });
    expect(DEFAULT_PER_USER_LIMIT).toBe(1);
    expect(DEFAULT_MIN_ORDER_AMOUNT).toBe(0);
  });

  it('keeps the given optional values', () => {
    const p = newPolicy(policyInput({ description: 'd', perUserLimit: 3 }), { id: 'p', now: NOW });
    expect(p).toMatchObject({
      description: 'd',
      perUserLimit: 3,
      maxDiscountAmount: 5000,
      validDaysAfterIssue: 7,
    });
  });
});

describe('checkIssuable', () => {
  const window = { validFrom: at(-HOUR), validUntil: at(HOUR) };

  it.each([
    ['inside the window', 'ACTIVE', NOW, null],
    ['at validFrom exactly', 'ACTIVE', at(-HOUR), null],
    ['at validUntil exactly', 'ACTIVE', at(HOUR), null],
    ['a millisecond before validFrom', 'ACTIVE', at(-HOUR - 1), 'POLICY_NOT_ACTIVE'],
    ['a millisecond after validUntil', 'ACTIVE', at(HOUR + 1), 'POLICY_NOT_ACTIVE'],
    ['inactive inside the window', 'INACTIVE', NOW, 'POLICY_NOT_ACTIVE'],
  ] as const)('%s', (_name, status, now, code) => {
    const result = checkIssuable({ ...window, status }, now);
    expect(result?.code ?? null).toBe(code);
    if (result) expect(result.ok).toBe(false);
  });
});

describe('couponExpiresAt', () => {
  it('is validUntil when there is no relative validity', () => {
    const until = at(DAY);
    const expires = couponExpiresAt({ validUntil: until, validDaysAfterIssue: null }, NOW);
    expect(expires).toEqual(until);
    expect(expires).not.toBe(until);
  });

  it('is issuedAt + N days when that comes first', () => {
    expect(couponExpiresAt({ validUntil: at(30 * DAY), validDaysAfterIssue: 7 }, NOW)).toEqual(
      at(7 * DAY),
    );
  });

  it('is validUntil when that comes first', () => {
    expect(couponExpiresAt({ validUntil: at(2 * DAY), validDaysAfterIssue: 7 }, NOW)).toEqual(
      at(2 * DAY),
    );
  });

  it('copes with an absurdly large N', () => {
    expect(couponExpiresAt({ validUntil: at(DAY), validDaysAfterIssue: 1e12 }, NOW)).toEqual(
      at(DAY),
    );
  });
});

describe('grantCount', () => {
  it.each([
    [10, 0, 1, 1],
    [10, 0, 10, 10],
    [10, 0, 11, 10],
    [10, 9, 5, 1],
    [10, 10, 1, 0],
    [10, 12, 1, 0],
    [10, 0, 0, 0],
    [10, 0, -3, 0],
  ])('total %i, issued %i, requested %i → %i', (total, issued, requested, expected) => {
    expect(grantCount(total, issued, requested)).toBe(expected);
  });

  it('checks a policy fixture', () => {
    const p = policy({ totalQuantity: 3, issuedCount: 2 });
    expect(grantCount(p.totalQuantity, p.issuedCount, 2)).toBe(1);
  });
});

describe('isSoldOut', () => {
  const full = { totalQuantity: 10, issuedCount: 10 };
  it('holds for an ACTIVE DIRECT policy in its window with nothing left', () => {
    expect(isSoldOut(policy(full), NOW)).toBe(true);
    expect(isSoldOut(policy({ totalQuantity: 10, issuedCount: 11 }), NOW)).toBe(true);
  });
  it('does not hold while a coupon is left', () => {
    expect(isSoldOut(policy({ totalQuantity: 10, issuedCount: 9 }), NOW)).toBe(false);
  });
  it('does not hold when the worker would answer something else first', () => {
    expect(isSoldOut(policy({ ...full, status: 'INACTIVE' }), NOW)).toBe(false);
    expect(isSoldOut(policy({ ...full, validUntil: at(-HOUR) }), NOW)).toBe(false);
    expect(isSoldOut(policy({ ...full, validFrom: at(HOUR) }), NOW)).toBe(false);
    expect(isSoldOut(policy({ ...full, issueType: 'CODE' }), NOW)).toBe(false);
  });
  it('holds for a CODE policy with a public code', () => {
    expect(isSoldOut(policy({ ...full, issueType: 'CODE', publicCode: 'BF2026' }), NOW)).toBe(true);
  });
});

describe('public codes', () => {
  it('are uppercased with their dashes kept, and only for CODE policies', () => {
    const code = newPolicy(policyInput({ issueType: 'CODE', publicCode: 'bf-2026' }), {
      id: 'p',
      now: NOW,
    });
    expect(code.publicCode).toBe('BF-2026');
    expect(paths(policyInput({ issueType: 'DIRECT', publicCode: 'BF2026' }))).toEqual([
      'publicCode',
    ]);
    expect(paths(policyInput({ issueType: 'CODE', publicCode: 'BF2026' }))).toEqual([]);
    expect(paths(policyInput({ issueType: 'CODE', publicCode: 'BF 2026' }))).toEqual([
      'publicCode',
    ]);
  });
});
