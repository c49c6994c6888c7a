import { UnrecoverableError } from 'bullmq';
import type { ZodType } from 'zod';
import { type Outcome, valueOrThrow } from '../domain/index.js';

/**
 * The job's value when the outcome is a success. A rejection is thrown as the domain's
 * `BusinessRuleError`: the queue adapter ends the job at once as failed with its code.
 */
export function settle<T, R>(outcome: Outcome<T>, view: (value: T) => R): R {
  return view(valueOrThrow(outcome));
}

/**
 * A job no retry can cure that is not a business rejection (a malformed payload, data PostgreSQL
 * refuses): failed at once, and read as `INTERNAL`.
 */
export const unrecoverable = (message: string): UnrecoverableError =>
  new UnrecoverableError(message);

/** Job payloads come from Redis: parsed like any outside input. A malformed one is never retried. */
export function parseJobData<T>(schema: ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw unrecoverable('The job payload is malformed');
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
  /**
   * Runs after the queue's worker stopped taking jobs and finished the ones it held (a processor
   * that gathers jobs into groups commits its last one).
   */
  drain?(): Promise<void>;
}
