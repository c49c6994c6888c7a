import { looksLikePublicCode, normalizePublicCode } from './code.js';
import { type Rejection, reject } from './errors.js';
import { DEFAULT_STACKING, type Stacking } from './order.js';

/** How a policy's discount is computed. */
export const DISCOUNT_TYPES = ['FIXED_AMOUNT', 'PERCENTAGE'] as const;
/** One of {@link DISCOUNT_TYPES}. */
export type DiscountType = (typeof DISCOUNT_TYPES)[number];

/** DIRECT: an admin or the user asks for a coupon; CODE: a user redeems a one-time code. */
export const ISSUE_TYPES = ['DIRECT', 'CODE'] as const;
/** One of {@link ISSUE_TYPES}. */
export type IssueType = (typeof ISSUE_TYPES)[number];

/** An INACTIVE policy issues nothing; coupons already issued stay usable. */
export const POLICY_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
/** One of {@link POLICY_STATUSES}. */
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

/** Money amounts are integers in the currency's smallest unit. */
export interface CouponPolicy {
  id: string;
  name: string;
  description: string | null;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountAmount: number | null;
  minOrderAmount: number;
  issueType: IssueType;
  totalQuantity: number;
  perUserLimit: number;
  validFrom: Date;
  validUntil: Date;
  validDaysAfterIssue: number | null;
  status: PolicyStatus;
  issuedCount: number;
  /** How its coupons combine with others on one order. */
  stacking: Stacking;
  /** The most its RESERVED and USED coupons may take off in all; null for no limit. */
  budget: number | null;
  /** A CODE policy's code that any user may redeem (normalized); null when it has none. */
  publicCode: string | null;
  createdAt: Date;
}

/** @defaultValue 1 */
export const DEFAULT_PER_USER_LIMIT = 1;
/** @defaultValue 0 */
export const DEFAULT_MIN_ORDER_AMOUNT = 0;

const MS_PER_DAY = 86_400_000;

/** The body of `POST /v1/policies` once its types are parsed; cross-field rules are not yet checked. */
export interface NewPolicyInput {
  name: string;
  description?: string | null;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountAmount?: number | null;
  /** @defaultValue {@link DEFAULT_MIN_ORDER_AMOUNT} */
  minOrderAmount?: number;
  issueType: IssueType;
  totalQuantity: number;
  /** @defaultValue {@link DEFAULT_PER_USER_LIMIT} */
  perUserLimit?: number;
  validFrom: Date;
  validUntil: Date;
  validDaysAfterIssue?: number | null;
  /** @defaultValue {@link DEFAULT_STACKING} */
  stacking?: Stacking;
  budget?: number | null;
  /** CODE policies only; normalized by {@link newPolicy}. */
  publicCode?: string | null;
}

/** One offending field, shaped for the `details` of a `VALIDATION_ERROR`. */
export interface InputProblem {
  path: string;
  message: string;
}

/**
 * The contract's rules for a new policy that a per-field schema cannot express.
 *
 * @returns every problem found, in field order; empty when the input is acceptable.
 */
export function policyInputProblems(input: NewPolicyInput, now: Date): InputProblem[] {
  const problems: InputProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const isInt = Number.isSafeInteger;

  if (input.name.trim() === '') add('name', 'must not be blank');

  if (!isInt(input.discountValue)) {
    add('discountValue', 'must be an integer');
  } else if (input.discountType === 'PERCENTAGE') {
    if (input.discountValue < 1 || input.discountValue > 100) {
      add('discountValue', 'must be between 1 and 100 for PERCENTAGE');
    }
  } else if (input.discountValue < 1) {
    add('discountValue', 'must be at least 1 for FIXED_AMOUNT');
  }

  const cap = input.maxDiscountAmount;
  if (cap !== undefined && cap !== null) {
    if (input.discountType !== 'PERCENTAGE')
      add('maxDiscountAmount', 'is allowed only for PERCENTAGE');
    // A cap of 0 would make the coupon worthless, which is never what an admin means.
    else if (!isInt(cap) || cap < 1) add('maxDiscountAmount', 'must be an integer of at least 1');
  }

  const minOrder = input.minOrderAmount;
  if (minOrder !== undefined && (!isInt(minOrder) || minOrder < 0)) {
    add('minOrderAmount', 'must be an integer of at least 0');
  }
  if (!isInt(input.totalQuantity) || input.totalQuantity < 1) {
    add('totalQuantity', 'must be an integer of at least 1');
  }
  const perUser = input.perUserLimit;
  if (perUser !== undefined && (!isInt(perUser) || perUser < 1)) {
    add('perUserLimit', 'must be an integer of at least 1');
  }

  const from = input.validFrom.getTime();
  const until = input.validUntil.getTime();
  if (Number.isNaN(from)) add('validFrom', 'must be a valid date');
  if (Number.isNaN(until)) {
    add('validUntil', 'must be a valid date');
  } else {
    if (!Number.isNaN(from) && until <= from) add('validUntil', 'must be after validFrom');
    if (until <= now.getTime()) add('validUntil', 'must be in the future');
  }

  const budget = input.budget;
  if (budget !== undefined && budget !== null && (!isInt(budget) || budget < 1)) {
    add('budget', 'must be an integer of at least 1');
  }

  const publicCode = input.publicCode;
  if (publicCode !== undefined && publicCode !== null) {
    if (input.issueType !== 'CODE') add('publicCode', 'is allowed only for CODE');
    else if (!looksLikePublicCode(normalizePublicCode(publicCode))) {
      add('publicCode', 'must be 4 to 32 of A-Z, 0-9 and -');
    }
  }

  const days = input.validDaysAfterIssue;
  if (days !== undefined && days !== null && (!isInt(days) || days < 1)) {
    add('validDaysAfterIssue', 'must be an integer of at least 1');
  }
  return problems;
}

/**
 * The policy a valid {@link NewPolicyInput} describes, with the contract's defaults filled in.
 * Call {@link policyInputProblems} first; this does not re-check.
 */
export function newPolicy(
  input: NewPolicyInput,
  { id, now }: { id: string; now: Date },
): CouponPolicy {
  return {
    id,
    name: input.name,
    description: input.description ?? null,
    discountType: input.discountType,
    discountValue: input.discountValue,
    maxDiscountAmount: input.maxDiscountAmount ?? null,
    minOrderAmount: input.minOrderAmount ?? DEFAULT_MIN_ORDER_AMOUNT,
    issueType: input.issueType,
    totalQuantity: input.totalQuantity,
    perUserLimit: input.perUserLimit ?? DEFAULT_PER_USER_LIMIT,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    validDaysAfterIssue: input.validDaysAfterIssue ?? null,
    status: 'ACTIVE',
    issuedCount: 0,
    stacking: input.stacking ?? DEFAULT_STACKING,
    budget: input.budget ?? null,
    publicCode:
      input.publicCode === undefined || input.publicCode === null
        ? null
        : normalizePublicCode(input.publicCode),
    createdAt: now,
  };
}

/**
 * Whether the policy may issue at `now`: it must be ACTIVE and `now` inside
 * `[validFrom, validUntil]`, both ends inclusive ("from here ... until here").
 *
 * @returns `POLICY_NOT_ACTIVE`, or `null` when issuing is allowed.
 */
export function checkIssuable(
  policy: Pick<CouponPolicy, 'status' | 'validFrom' | 'validUntil'>,
  now: Date,
): Rejection | null {
  if (policy.status !== 'ACTIVE') return reject('POLICY_NOT_ACTIVE', 'The policy is inactive.');
  const t = now.getTime();
  if (t < policy.validFrom.getTime()) {
    return reject('POLICY_NOT_ACTIVE', 'The policy is not valid yet.');
  }
  if (t > policy.validUntil.getTime()) {
    return reject('POLICY_NOT_ACTIVE', 'The policy has ended.');
  }
  return null;
}

/**
 * When a coupon issued at `issuedAt` expires: `min(validUntil, issuedAt + validDaysAfterIssue days)`.
 * A day is 24 hours; times are UTC instants, so there is no daylight-saving shift to account for.
 */
export function couponExpiresAt(
  policy: Pick<CouponPolicy, 'validUntil' | 'validDaysAfterIssue'>,
  issuedAt: Date,
): Date {
  const until = policy.validUntil.getTime();
  if (policy.validDaysAfterIssue === null) return new Date(until);
  // Compared as numbers first: a huge N would make an out-of-range (invalid) Date.
  const relative = issuedAt.getTime() + policy.validDaysAfterIssue * MS_PER_DAY;
  return new Date(Math.min(until, relative));
}

/**
 * Whether requests by policy id (DIRECT) or by public code (CODE with a public code) are all
 * turned away with QUOTA_EXHAUSTED and nothing else: the policy is ACTIVE, in its window and has
 * no coupon left. `totalQuantity` never changes and `issuedCount` never falls, so only a change of
 * status or the end of the window alters the answer. A CODE policy's generated codes are not
 * covered: a request naming one may fail CODE_INVALID or CODE_ALREADY_USED first.
 */
export function isSoldOut(
  policy: Pick<
    CouponPolicy,
    | 'issueType'
    | 'status'
    | 'validFrom'
    | 'validUntil'
    | 'totalQuantity'
    | 'issuedCount'
    | 'publicCode'
  >,
  now: Date,
): boolean {
  return (
    (policy.issueType === 'DIRECT' || policy.publicCode !== null) &&
    checkIssuable(policy, now) === null &&
    grantCount(policy.totalQuantity, policy.issuedCount, 1) < 1
  );
}

/**
 * How many of `requested` issuances the quota still allows: never negative and never more than
 * what remains, even if `issuedCount` has somehow overshot `totalQuantity`.
 */
export function grantCount(totalQuantity: number, issuedCount: number, requested: number): number {
  return Math.max(0, Math.min(requested, totalQuantity - issuedCount));
}
