import type { Redis } from 'ioredis';
import { jobCounterKey } from '../metrics.js';
import { QUEUE_NAMES } from './queues.js';

/** As long as a failed job stays readable (the queues' `removeOnFail` age). */
export const VERDICT_TTL_S = 7 * 24 * 3600;

/**
 * An issuance job decided at intake, without a queue entry: it reads like a failed job.
 * `actor` is who asked, for the same ownership check as queued jobs.
 */
export interface Verdict {
  jobId: string;
  actor: string;
  code: string;
  message: string;
  /** When it was decided (ms); it is both created and finished then. */
  at: number;
}

const verdictKey = (prefix: string, jobId: string) => `${prefix}:verdict:${jobId}`;

/**
 * Stores the verdict and counts it as a finished job. Two plain commands sent together, not a
 * pipeline: an ioredis pipeline copies every Lua command BullMQ defined on the connection, which
 * cost more than the rest of the request.
 */
export async function recordVerdict(redis: Redis, prefix: string, verdict: Verdict) {
  await Promise.all([
    redis.set(verdictKey(prefix, verdict.jobId), JSON.stringify(verdict), 'EX', VERDICT_TTL_S),
    redis.hincrby(jobCounterKey(prefix), `${QUEUE_NAMES.issuance}|${verdict.code}`, 1),
  ]);
}

export async function readVerdict(
  redis: Redis,
  prefix: string,
  jobId: string,
): Promise<Verdict | null> {
  const value = await redis.get(verdictKey(prefix, jobId));
  return value === null ? null : (JSON.parse(value) as Verdict);
}
