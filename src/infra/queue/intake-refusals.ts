import type { BusinessCode } from '../../domain/index.js';
import { coalesceCalls } from '../coalesce-calls.js';
import { newId } from '../ids.js';
import { jobCounterKey } from '../metrics.js';
import type { RedisClient } from '../redis/connection.js';
import { JOB_ID_PREFIX } from './jobs.js';
import { FINISHED_JOB_AGE_S, QUEUE_NAMES } from './queues.js';

/** As long as a failed job stays readable (the queues' `removeOnFail` age). */
export const INTAKE_REFUSAL_TTL_S = FINISHED_JOB_AGE_S;
const DAY_MS = 24 * 3600 * 1000;

/**
 * An issuance job decided at intake, without a queue entry: it reads like a failed job.
 * `actor` is who asked, for the same ownership check as queued jobs.
 */
export interface IntakeRefusal {
  jobId: string;
  actor: string;
  code: BusinessCode;
  message: string;
  /** When it was decided (ms); it is both created and finished then. */
  at: number;
}

/** A refusal's job id: `iss_` and a UUIDv7, whose first 48 bits (the time) name its day's hash. */
export const newIntakeRefusalJobId = (): string => `${JOB_ID_PREFIX.issuance}${newId()}`;

const V7_ID = new RegExp(`^${JOB_ID_PREFIX.issuance}([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-`);

/** The UTC day (days since 1970) a refusal id was made on, or null for any other id. */
function dayOf(jobId: string): number | null {
  const match = V7_ID.exec(jobId);
  if (!match) return null;
  return Math.floor(Number.parseInt(`${match[1]}${match[2]}`, 16) / DAY_MS);
}

/** Refusals of one day share a hash, which expires {@link INTAKE_REFUSAL_TTL_S} after the day ends. */
const dayKey = (prefix: string, day: number) => `${prefix}:verdicts:${day}`;
/** One key per refusal, as refusals were first stored; still read. */
const legacyKey = (prefix: string, jobId: string) => `${prefix}:verdict:${jobId}`;

/**
 * Stores refusals and counts them as finished jobs. Every refusal of one event-loop turn goes in one
 * HSET (plus the day hash's EXPIREAT and one HINCRBY per code), and each `record` resolves only once
 * that write is acknowledged: two commands per request cost a sold-out request's share of a flash
 * sale more than everything else it does.
 */
export class IntakeRefusalLog {
  private readonly write = coalesceCalls((refusals: IntakeRefusal[]) => this.flush(refusals));

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  record(refusal: IntakeRefusal): Promise<void> {
    if (dayOf(refusal.jobId) === null) {
      return Promise.reject(new Error(`not a refusal job id: ${refusal.jobId}`));
    }
    return this.write(refusal);
  }

  private async flush(refusals: IntakeRefusal[]): Promise<undefined[]> {
    const byDay = new Map<number, string[]>();
    const byCode = new Map<string, number>();
    for (const refusal of refusals) {
      const day = dayOf(refusal.jobId) as number;
      const fields = byDay.get(day) ?? [];
      fields.push(refusal.jobId, JSON.stringify(refusal));
      byDay.set(day, fields);
      byCode.set(refusal.code, (byCode.get(refusal.code) ?? 0) + 1);
    }
    const writes: Promise<unknown>[] = [];
    for (const [day, fields] of byDay) {
      const key = dayKey(this.prefix, day);
      writes.push(
        this.redis.hset(key, ...fields),
        this.redis.expireat(key, Math.ceil(((day + 1) * DAY_MS) / 1000) + INTAKE_REFUSAL_TTL_S),
      );
    }
    for (const [code, n] of byCode) {
      writes.push(
        this.redis.hincrby(jobCounterKey(this.prefix), `${QUEUE_NAMES.issuance}|${code}`, n),
      );
    }
    await Promise.all(writes);
    return [];
  }
}

export async function readIntakeRefusal(
  redis: RedisClient,
  prefix: string,
  jobId: string,
): Promise<IntakeRefusal | null> {
  const day = dayOf(jobId);
  const value =
    (day === null ? null : await redis.hget(dayKey(prefix, day), jobId)) ??
    (await redis.get(legacyKey(prefix, jobId)));
  return value === null ? null : (JSON.parse(value) as IntakeRefusal);
}
