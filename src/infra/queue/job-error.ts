import { UnrecoverableError } from 'bullmq';
import {
  type BusinessCode,
  BusinessRuleError,
  type ErrorCode,
  isBusinessCode,
} from '../../domain/index.js';

/**
 * A job ended by a business rejection. BullMQ does not retry an UnrecoverableError and keeps only
 * its message (`failedReason`, a string), so the message is the stored form of the rejection:
 * `<code>: <message>`, the form every job failed so far carries. {@link jobError} reads it back;
 * nothing else does.
 */
export class RejectedJob extends UnrecoverableError {
  constructor(
    readonly code: BusinessCode,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    // BullMQ names the error after its class; the service's checks look for this name.
    this.name = 'UnrecoverableError';
  }
}

/** What a processor threw, as BullMQ must see it: a business rejection becomes final. */
export function jobFailure(error: unknown): unknown {
  return error instanceof BusinessRuleError ? new RejectedJob(error.code, error.message) : error;
}

/** The outcome a failed job is counted under: its business code, else INTERNAL. */
export const failureCode = (error: unknown): string =>
  error instanceof RejectedJob ? error.code : 'INTERNAL';

const STORED_REJECTION = /^([A-Z_]+): (.*)$/s;

/** The contract's error of a failed job, from its stored reason. Infrastructure messages never reach the client. */
export function jobError(failedReason: string | undefined): { code: ErrorCode; message: string } {
  const match = STORED_REJECTION.exec(failedReason ?? '');
  if (match?.[1] && isBusinessCode(match[1])) return { code: match[1], message: match[2] ?? '' };
  return {
    code: 'INTERNAL',
    message: 'The job failed after its retries; it may be submitted again',
  };
}
