import { ConnectionException } from '@mikro-orm/core';

/** The contract's request-level error codes and their HTTP status. */
export const API_ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error a route raises on purpose; `app.onError` turns it into the contract's body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): (typeof API_ERROR_STATUS)[ApiErrorCode] {
    return API_ERROR_STATUS[this.code];
  }
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** A backing service (PostgreSQL, Redis) refused or dropped the call: the request may be retried. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionException) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P0[1-3])$/.test(code)
  ) {
    return true;
  }
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|connect ECONNREFUSED/.test(
      error.message,
    )
  );
}

/** A use case's refusal as the contract's error: unknown → 404 with `notFound`, someone else's → 403. */
export function refusal(reason: 'NOT_FOUND' | 'FORBIDDEN', notFound: string): ApiError {
  return reason === 'NOT_FOUND'
    ? new ApiError('NOT_FOUND', notFound)
    : new ApiError('FORBIDDEN', 'This resource belongs to another user');
}

/** The value of a read a use case allowed, else its refusal ({@link refusal}). */
export function allowed<T>(
  read: { ok: true; value: T } | { ok: false; reason: 'NOT_FOUND' | 'FORBIDDEN' },
  notFound: string,
): T {
  if (read.ok) return read.value;
  throw refusal(read.reason, notFound);
}
