import { type ConnectionOptions, type DefaultJobOptions, Queue } from 'bullmq';
import type { Env } from '../config/env.js';
import type { IssueJobData, UsageJobData } from './jobs.js';

export const QUEUE_NAMES = {
  issuance: 'issuance',
  usage: 'usage',
  maintenance: 'maintenance',
} as const;
export type QueueSettings = Pick<Env, 'QUEUE_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS'>;

/** How long a completed job stays readable through `GET /v1/jobs/:id`. */
export const COMPLETED_JOB_AGE_S = 24 * 3600;
/** How long a failed job stays readable. */
export const FAILED_JOB_AGE_S = 7 * 24 * 3600;
/**
 * The longest a job stays in Redis: waiting and retrying (bounded by its attempts' backoff, well
 * under a day with the defaults), then kept as failed. What points at a job lives this long.
 */
export const JOB_LIFETIME_S = FAILED_JOB_AGE_S + 24 * 3600;

/** Finished jobs stay readable through `GET /v1/jobs/:id` for a day, failed ones for a week. */
export function jobOptions(settings: QueueSettings): DefaultJobOptions {
  return {
    attempts: settings.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: settings.JOB_BACKOFF_MS },
    removeOnComplete: { age: COMPLETED_JOB_AGE_S },
    removeOnFail: { age: FAILED_JOB_AGE_S },
  };
}

export interface Queues {
  issuance: Queue<IssueJobData>;
  usage: Queue<UsageJobData>;
  maintenance: Queue;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, settings: QueueSettings): Queues {
  const options = {
    connection,
    prefix: settings.QUEUE_PREFIX,
    defaultJobOptions: jobOptions(settings),
  };
  const issuance = new Queue<IssueJobData>(QUEUE_NAMES.issuance, options);
  const usage = new Queue<UsageJobData>(QUEUE_NAMES.usage, options);
  const maintenance = new Queue(QUEUE_NAMES.maintenance, options);
  return {
    issuance,
    usage,
    maintenance,
    async close() {
      await Promise.all([issuance.close(), usage.close(), maintenance.close()]);
    },
  };
}
