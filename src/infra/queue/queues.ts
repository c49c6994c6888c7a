import { type ConnectionOptions, type DefaultJobOptions, Queue } from 'bullmq';
import type { Env } from '../config/env.js';
import type { CodeBatchJobData, IssueJobData, UsageJobData } from './jobs.js';

export const QUEUE_NAMES = {
  issuance: 'issuance',
  usage: 'usage',
  maintenance: 'maintenance',
  codes: 'codes',
} as const;
export type QueueSettings = Pick<Env, 'QUEUE_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS'>;

/**
 * How long a finished job (completed or failed) stays readable through `GET /v1/jobs/:id`: a
 * client polls it within seconds; a day bounds what one caller can keep in Redis (with the daily
 * job limit per caller, `CALLER_DAILY_JOB_LIMIT`).
 */
export const FINISHED_JOB_AGE_S = 24 * 3600;

/** Finished jobs, completed or failed, stay readable through `GET /v1/jobs/:id` for a day. */
export function jobOptions(settings: QueueSettings): DefaultJobOptions {
  return {
    attempts: settings.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: settings.JOB_BACKOFF_MS },
    removeOnComplete: { age: FINISHED_JOB_AGE_S },
    removeOnFail: { age: FINISHED_JOB_AGE_S },
  };
}

export interface Queues {
  issuance: Queue<IssueJobData>;
  usage: Queue<UsageJobData>;
  maintenance: Queue;
  /** Code batches: one long job per batch, made in chunks. */
  codes: Queue<CodeBatchJobData>;
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
  const codes = new Queue<CodeBatchJobData>(QUEUE_NAMES.codes, options);
  return {
    issuance,
    usage,
    maintenance,
    codes,
    async close() {
      await Promise.all([issuance.close(), usage.close(), maintenance.close(), codes.close()]);
    },
  };
}
