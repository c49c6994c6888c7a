/**
 * The closed set of business rejections. These are final outcomes (a job that ends with one is not
 * retried) and their spelling is part of the public contract.
 */
export const BUSINESS_CODES = [
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
] as const;

/** One of {@link BUSINESS_CODES}. */
export type BusinessCode = (typeof BUSINESS_CODES)[number];

/**
 * The contract's codes of a refused request (each has its HTTP status in the API's table), and
 * `INTERNAL` for a fault of the service itself.
 */
export const REQUEST_ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'GONE',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'INTERNAL',
  'UNAVAILABLE',
] as const;

/** One of {@link REQUEST_ERROR_CODES}. */
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

/** Every error code a client can see, in a response body or a job's `error`: one list. */
export const ERROR_CODES = [...REQUEST_ERROR_CODES, ...BUSINESS_CODES] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const BUSINESS_CODE_SET: ReadonlySet<unknown> = new Set(BUSINESS_CODES);

/** True when `x` is one of the contract's business codes (e.g. when reading a stored job error). */
export function isBusinessCode(x: unknown): x is BusinessCode {
  return BUSINESS_CODE_SET.has(x);
}

/** Human text used when a rejection carries no more specific message. */
export const DEFAULT_MESSAGES: Record<BusinessCode, string> = {
  QUOTA_EXHAUSTED: 'The policy has no coupons left to issue.',
  PER_USER_LIMIT_REACHED: 'The user already holds the maximum number of coupons for this policy.',
  POLICY_NOT_FOUND: 'No such coupon policy.',
  POLICY_NOT_ACTIVE: 'The policy is inactive or outside its validity window.',
  CODE_INVALID: 'The code is not valid.',
  CODE_ALREADY_USED: 'The code has already been redeemed.',
  COUPON_NOT_FOUND: 'No such coupon.',
  COUPON_NOT_USABLE: "The coupon's status does not allow this action.",
  COUPON_EXPIRED: 'The coupon has expired.',
  MIN_ORDER_AMOUNT_NOT_MET: "The order amount is below the policy's minimum.",
  ORDER_MISMATCH: 'The coupon is reserved for a different order.',
  STACKING_NOT_ALLOWED: "The order's coupons do not combine with this one.",
  BUDGET_EXHAUSTED: "The policy's spend budget does not cover this discount.",
};

/** A business rule said no. */
export type Rejection = { ok: false; code: BusinessCode; message: string };

/** The accepted branch of an {@link Outcome}. */
export type Success<T> = { ok: true; value: T };

/** Expected results are values, not exceptions: either the value or the rule that refused it. */
export type Outcome<T> = Success<T> | Rejection;

/** Wraps an accepted value. */
export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

/** Builds a rejection, falling back to the code's {@link DEFAULT_MESSAGES} entry. */
export function reject(code: BusinessCode, message?: string): Rejection {
  return { ok: false, code, message: message ?? DEFAULT_MESSAGES[code] };
}

/**
 * A business rejection that has to travel as an exception: a queue processor throws it to end its
 * job as failed with the rejection's code (the queue adapter makes it final). Never retryable:
 * retrying cannot change the rule's answer.
 */
export class BusinessRuleError extends Error {
  override readonly name = 'BusinessRuleError';
  /** Always `false`; lets a generic error handler tell this apart from an outage. */
  readonly retryable = false;

  constructor(
    readonly code: BusinessCode,
    message?: string,
  ) {
    super(message ?? DEFAULT_MESSAGES[code]);
  }
}

/**
 * Returns the value of an accepted outcome, or throws the rejection as a {@link BusinessRuleError}.
 *
 * @throws {@link BusinessRuleError} when `outcome` is a rejection.
 */
export function valueOrThrow<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new BusinessRuleError(outcome.code, outcome.message);
  return outcome.value;
}
