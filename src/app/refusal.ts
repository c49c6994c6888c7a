import type { RequestErrorCode } from '../domain/index.js';

/**
 * A request a use case refuses before or instead of any business rule (unknown, someone else's, a
 * reused Idempotency-Key, inconsistent input). Its code is one of the contract's request codes;
 * the API answers it with the status its table gives that code.
 */
export interface Refusal {
  ok: false;
  code: Extract<
    RequestErrorCode,
    'VALIDATION_ERROR' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'GONE' | 'RATE_LIMITED'
  >;
  message: string;
  details?: unknown;
  /** With `RATE_LIMITED`: seconds until the caller may try again (`Retry-After`). */
  retryAfterS?: number;
}

/** A use case's answer: its value, or why the request is refused. */
export type Result<T> = { ok: true; value: T } | Refusal;

export const accepted = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export function refuse(code: Refusal['code'], message: string, details?: unknown): Refusal {
  return details === undefined
    ? { ok: false, code, message }
    : { ok: false, code, message, details };
}

/** Refusals every resource shares. */
export const notFound = (what: string): Refusal => refuse('NOT_FOUND', `No such ${what}`);
export const notYours = (): Refusal => refuse('FORBIDDEN', 'This resource belongs to another user');
export const tooManyAttempts = (retryAfterS: number): Refusal => ({
  ok: false,
  code: 'RATE_LIMITED',
  message: `Too many invalid codes; retry in ${retryAfterS} s`,
  retryAfterS,
});
export const keyReused = (): Refusal =>
  refuse('CONFLICT', 'This Idempotency-Key was used with another body');
