import type { Refusal } from '../app/refusal.js';
import type { RequestErrorCode } from '../domain/index.js';

/** The one table from the contract's request error codes to their HTTP status. */
export const HTTP_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<RequestErrorCode, number>;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error the API raises on purpose; `app.onError` turns it into the contract's body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): (typeof HTTP_STATUS)[RequestErrorCode] {
    return HTTP_STATUS[this.code];
  }
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** A use case's value, or its refusal raised as the contract's error. */
export function orThrow<T>(result: { ok: true; value: T } | Refusal): T {
  if (result.ok) return result.value;
  throw new ApiError(result.code, result.message, result.details);
}
