import { UnrecoverableError } from 'bullmq';
import type { ZodType } from 'zod';
import type { BusinessCode, Outcome } from '../domain/index.js';

/**
 * A business rejection ends the job at once (BullMQ does not retry an UnrecoverableError); its
 * message carries the contract's code first, so the API can read it back from `failedReason`.
 */
export function finalFailure(code: BusinessCode | 'INTERNAL', message: string): UnrecoverableError {
  return new UnrecoverableError(`${code}: ${message}`);
}

/** The job's value when the outcome is a success; a final failure when it is a rejection. */
export function settle<T, R>(outcome: Outcome<T>, view: (value: T) => R): R {
  if (outcome.ok) return view(outcome.value);
  throw finalFailure(outcome.code, outcome.message);
}

/** Job payloads come from Redis: parsed like any outside input. A malformed one is never retried. */
export function parseJobData<T>(schema: ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw finalFailure('INTERNAL', 'The job payload is malformed');
  return parsed.data;
}

/** A job as a processor sees it (BullMQ's `Job` is one). */
export interface QueuedJob {
  id?: string | undefined;
  data: unknown;
  attemptsStarted: number;
}

/** What a worker runs for each job of its queue, and how it finishes after its last job. */
export interface JobProcessor {
  process(job: QueuedJob): Promise<unknown>;
  /** Runs after the queue's worker stopped taking jobs and finished the ones it held. */
  drain(): Promise<void>;
}
