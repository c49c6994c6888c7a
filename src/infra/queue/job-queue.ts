import type { Job, Queue } from 'bullmq';
import type { JobQueue, JobStatus, PendingPayment } from '../../app/ports.js';
import type { RedisClient } from '../redis/connection.js';
import { addsWithGatheredWrites, enqueueOnce } from './enqueue.js';
import { type IntakeRefusal, readIntakeRefusal } from './intake-refusals.js';
import { jobError } from './job-error.js';
import { codeBatchJobId, JOB_ID_PREFIX, paymentChunkJobId, type UsageJobData } from './jobs.js';
import type { Queues } from './queues.js';

const STATES = new Set(['waiting', 'active', 'delayed', 'completed', 'failed']);

/**
 * `raw` is read before the job itself: a job seen finished is then read with its outcome, whereas
 * the other order can pair a stale read (no outcome yet) with a finished state.
 */
function jobStatus(job: Job, raw: string): JobStatus {
  const state = STATES.has(raw) ? (raw as JobStatus['state']) : 'waiting';
  const data = job.data as { type: JobStatus['type']; actor: string };
  return {
    jobId: job.id as string,
    type: data.type,
    state,
    ...(state === 'completed' && { result: job.returnvalue }),
    ...(state === 'failed' && { error: jobError(job.failedReason) }),
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    ...progressOf(job.progress),
    actor: data.actor,
  };
}

/** A job's progress as `{done, total}`, when it reported one. */
function progressOf(progress: unknown): Pick<JobStatus, 'progress'> {
  if (typeof progress !== 'object' || progress === null) return {};
  const { done, total } = progress as { done?: unknown; total?: unknown };
  return typeof done === 'number' && typeof total === 'number' ? { progress: { done, total } } : {};
}

/** A job decided at intake reads like a failed job. */
function refusalStatus(refusal: IntakeRefusal): JobStatus {
  const at = new Date(refusal.at).toISOString();
  return {
    jobId: refusal.jobId,
    type: 'ISSUE',
    state: 'failed',
    error: { code: refusal.code, message: refusal.message },
    createdAt: at,
    finishedAt: at,
    actor: refusal.actor,
  };
}

/** One PAYMENT job for these events; its id is derived from them, so a redelivery adds no second. */
export async function enqueuePayments(
  usage: Queue<UsageJobData>,
  events: PendingPayment[],
): Promise<void> {
  await usage.add(
    'job',
    { type: 'PAYMENT', actor: 'system:payment', events },
    { jobId: paymentChunkJobId(events.map(({ eventId }) => eventId)) },
  );
}

/**
 * The job queues in BullMQ. Adds from requests go through the queue's connection corked for the
 * rest of the event-loop turn (`addsWithGatheredWrites`); `connection` is the client the queues were
 * created with.
 */
export function bullJobQueue({
  queues,
  redis,
  keyPrefix,
  fingerprintSecret,
}: {
  queues: Pick<Queues, 'issuance' | 'usage' | 'codes'>;
  redis: RedisClient;
  keyPrefix: string;
  /** The key of Idempotency-Key fingerprints. */
  fingerprintSecret: string;
}): JobQueue {
  const issuance = addsWithGatheredWrites(queues.issuance, redis);
  const usage = addsWithGatheredWrites(queues.usage, redis);
  const common = { redis, keyPrefix, secret: fingerprintSecret };
  return {
    enqueueIssue: (job) =>
      enqueueOnce({ ...common, ...job, queue: issuance, idPrefix: JOB_ID_PREFIX.issuance }),
    enqueueAction: (job) =>
      enqueueOnce({ ...common, ...job, queue: usage, idPrefix: JOB_ID_PREFIX.usage }),
    enqueuePayments: (events) => enqueuePayments(queues.usage, events),
    async enqueueCodeBatch(data) {
      const jobId = codeBatchJobId(data.batchId);
      await queues.codes.add('job', data, { jobId });
      return jobId;
    },
    async read(jobId) {
      const queue: Queue | undefined = jobId.startsWith(JOB_ID_PREFIX.issuance)
        ? queues.issuance
        : jobId.startsWith(JOB_ID_PREFIX.usage)
          ? queues.usage
          : jobId.startsWith(JOB_ID_PREFIX.codes)
            ? queues.codes
            : undefined;
      if (!queue) return null;
      const state = await queue.getJobState(jobId);
      const job = state !== 'unknown' ? await queue.getJob(jobId) : undefined;
      if (job) return jobStatus(job as Job, state);
      if (queue === queues.issuance) {
        const refusal = await readIntakeRefusal(redis, keyPrefix, jobId);
        if (refusal) return refusalStatus(refusal);
      }
      return null;
    },
  };
}
