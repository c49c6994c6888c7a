import { z } from 'zod';
import { textProblem } from '../domain/text.js';

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
  /** HMAC of the code as a public code (its own context); jobs from before public codes lack it. */
  publicCodeHash: z
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
    /** The admin request's id, for the audit record; jobs from before it carried none. */
    requestId: storable(128).nullable().optional(),
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

/** A code batch's job: the batch row holds the rest. */
export const codeBatchJobSchema = z.object({
  type: z.literal('CODE_BATCH'),
  actor: storable(200),
  batchId: z.string().uuid(),
});
