/** The codes of the API's error body (docs/API.md, "Errors"). */
export type ApiErrorCode =
  | 'VALIDATION_ERROR'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  /** The answer was not the API's error body (a proxy's page, say). */
  | 'UNEXPECTED_RESPONSE';

/** Why a job failed: a final business rejection, or `INTERNAL` once its retries are spent. */
export type JobErrorCode =
  | 'QUOTA_EXHAUSTED'
  | 'PER_USER_LIMIT_REACHED'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_NOT_ACTIVE'
  | 'CODE_INVALID'
  | 'CODE_ALREADY_USED'
  | 'COUPON_NOT_FOUND'
  | 'COUPON_NOT_USABLE'
  | 'COUPON_EXPIRED'
  | 'MIN_ORDER_AMOUNT_NOT_MET'
  | 'ORDER_MISMATCH'
  | 'STACKING_NOT_ALLOWED'
  | 'BUDGET_EXHAUSTED'
  | 'INTERNAL';

/** A 4xx/5xx answer of the API: `{"error": {"code", "message", "details"}}`, with its status. */
export class CouponApiError extends Error {
  override name = 'CouponApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    /** The answer's `X-Request-Id`, to find the request in the service's logs. */
    readonly requestId?: string,
    /** Seconds to wait, from `Retry-After` (with `RATE_LIMITED`). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A job that did not finish within the wait given to `settled()`; it may still finish later. */
export class CouponJobTimeoutError extends Error {
  override name = 'CouponJobTimeoutError';
  constructor(
    readonly jobId: string,
    /** The job's state at the last poll. */
    readonly state: string,
    timeoutMs: number,
  ) {
    super(`job ${jobId} still ${state} after ${timeoutMs} ms`);
  }
}

/** Reads a non-2xx answer into a {@link CouponApiError}. */
export async function apiError(res: Response): Promise<CouponApiError> {
  const requestId = res.headers.get('x-request-id') ?? undefined;
  const retry = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    ?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new CouponApiError(
      res.status,
      error.code as ApiErrorCode,
      error.message,
      error.details,
      requestId,
      retryAfter,
    );
  }
  return new CouponApiError(
    res.status,
    'UNEXPECTED_RESPONSE',
    `HTTP ${res.status}: ${text.slice(0, 200)}`,
    undefined,
    requestId,
    retryAfter,
  );
}
