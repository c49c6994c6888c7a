import { createHash } from 'node:crypto';
import type {
  CodeBatchJobData,
  CouponAction,
  IssueJobData,
  PendingPayment,
} from '../../app/ports.js';

export type { CodeBatchJobData, IssueJobData };

/**
 * Payment events recorded in `payment_events` (a partition's chunk, in offset order). Jobs enqueued
 * before chunks carried one event as `eventId` and `orderId`; those are still read.
 */
export interface PaymentJobData {
  type: 'PAYMENT';
  actor: 'system:payment';
  events?: PendingPayment[] | undefined;
  eventId?: string | undefined;
  orderId?: string | undefined;
}

/** What the usage queue carries: a client's action, or payment events. */
export type UsageJobData = CouponAction | PaymentJobData;
/** Job ids say which queue they live on, so `GET /v1/jobs/:id` needs no lookup table. */
export const JOB_ID_PREFIX = { issuance: 'iss_', usage: 'use_', codes: 'cod_' } as const;

/** A code batch's job id: one job per batch. */
export const codeBatchJobId = (batchId: string) => `${JOB_ID_PREFIX.codes}${batchId}`;

/** The deterministic id of a payment event's job: the same event enqueued twice is one job. */
export const paymentJobId = (eventId: string) => `${JOB_ID_PREFIX.usage}pay_${eventId}`;

/**
 * The deterministic id of the job carrying these events: the same chunk enqueued twice (a
 * redelivery) is one job; a single event's job keeps {@link paymentJobId}.
 */
export function paymentChunkJobId(eventIds: string[]): string {
  if (eventIds.length === 1) return paymentJobId(eventIds[0] as string);
  const digest = createHash('sha256').update(eventIds.join(',')).digest('hex').slice(0, 32);
  return `${JOB_ID_PREFIX.usage}pay_chunk_${digest}`;
}
