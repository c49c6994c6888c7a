import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isBusinessCode } from '../../domain/index.js';
import { textProblem } from '../../domain/text.js';

/** A string PostgreSQL can store as it is: a planted NUL must not fail a whole commit group. */
const storable = (max: number, freeText = false) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => textProblem(value, { freeText }) === null, 'cannot be stored');

/** Job payloads as they sit in Redis. Workers parse them again: Redis content is outside input. */
export const issueJobSchema = z.object({
  type: z.literal('ISSUE'),
  /** Who asked (the JWT `sub`); the only one besides admins who may read the job. */
  actor: storable(200),
  /** Who receives the coupon. */
  userId: storable(200),
  policyId: z.string().uuid().optional(),
  /** HMAC of the normalised code; the plaintext code never reaches Redis. */
  codeHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * Jobs added before the idempotency record alone carried the request's hash had it here too; it is
   * accepted and ignored.
   */
  requestHash: z.string().min(1).optional(),
});
export type IssueJobData = z.infer<typeof issueJobSchema>;

const paymentRef = z.object({ eventId: z.uuid(), orderId: z.string() });

export const usageJobSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('RESERVE'),
    actor: storable(200),
    couponId: z.string(),
    orderId: storable(200),
    orderAmount: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('USE'),
    actor: storable(200),
    couponId: z.string(),
    orderId: storable(200),
    orderAmount: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('RELEASE'),
    actor: storable(200),
    couponId: z.string(),
    orderId: storable(200),
  }),
  z.object({
    type: z.literal('CANCEL'),
    actor: storable(200),
    couponId: z.string(),
    reason: storable(500, true),
  }),
  /**
   * Payment events recorded in `payment_events` (a partition's chunk, in offset order); the worker
   * applies every pending event of their orders. Jobs enqueued before chunks carried one event as
   * `eventId` and `orderId`; those are still read.
   */
  z
    .object({
      type: z.literal('PAYMENT'),
      actor: z.literal('system:payment'),
      events: z.array(paymentRef).min(1).optional(),
      eventId: z.uuid().optional(),
      orderId: z.string().optional(),
    })
    .refine((data) => data.events || (data.eventId && data.orderId !== undefined)),
]);
export type UsageJobData = z.infer<typeof usageJobSchema>;
export type PaymentJobData = Extract<UsageJobData, { type: 'PAYMENT' }>;

/** The events a PAYMENT job carries, whichever shape it was enqueued in. */
export function paymentsOf(data: PaymentJobData): { eventId: string; orderId: string }[] {
  return data.events ?? [{ eventId: data.eventId as string, orderId: data.orderId as string }];
}

/** The outcome a worker stores for a job that completed. */
export interface JobResult {
  coupon: Record<string, unknown>;
}

/** Job ids say which queue they live on, so `GET /v1/jobs/:id` needs no lookup table. */
export const JOB_ID_PREFIX = { issuance: 'iss_', usage: 'use_' } as const;

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
/** The contract's error of a failed job. Infrastructure messages never reach the client. */
export function jobError(failedReason: string | undefined): { code: string; message: string } {
  const match = /^([A-Z_]+): (.*)$/s.exec(failedReason ?? '');
  if (match?.[1] && isBusinessCode(match[1])) return { code: match[1], message: match[2] ?? '' };
  return {
    code: 'INTERNAL',
    message: 'The job failed after its retries; it may be submitted again',
  };
}
