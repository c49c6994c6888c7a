import { z } from '@hono/zod-openapi';
import { text, uuid } from './common.js';

export const issuanceBody = z
  .union([
    z.strictObject({
      policyId: uuid(),
      userId: text({ min: 1, max: 200, trim: true }).optional(),
    }),
    z.strictObject({ code: text({ min: 1, max: 64, trim: true }) }),
  ])
  .openapi('IssuanceRequest', {
    description: 'DIRECT policies: `{policyId, userId?}` (userId for admins). CODE: `{code}`.',
  });

/**
 * The optional `Idempotency-Key` header of the write routes. Documented as a parameter of those
 * routes and checked in their handlers ({@link idempotencyKeyOf}): the generic header validator
 * copies every header of every request into an object to check this one.
 */
export const idempotencyKeySchema = text({
  min: 1,
  max: 200,
  lengthMessage: 'must be 1 to 200 characters',
})
  .optional()
  .openapi({
    param: { name: 'Idempotency-Key', in: 'header', required: false },
    description: 'Repeats with the same key and body answer the same job.',
  });

/** The route config's `parameters` entry that documents the header (see `mountV1`). */
export const idempotencyKeyParameter = { $ref: '#/components/parameters/IdempotencyKey' };

export const jobSchema = z
  .object({
    jobId: z.string(),
    type: z.enum(['ISSUE', 'RESERVE', 'USE', 'RELEASE', 'CANCEL', 'PAYMENT', 'CODE_BATCH']),
    state: z.enum(['waiting', 'active', 'delayed', 'completed', 'failed']),
    result: z
      .union([
        z.object({ coupon: z.record(z.string(), z.unknown()) }),
        z.object({
          payments: z.array(
            z.object({
              eventId: z.string(),
              orderId: z.string(),
              outcome: z.string(),
              coupon: z.record(z.string(), z.unknown()).nullable(),
            }),
          ),
        }),
        z.object({ batchId: z.string(), done: z.number().int(), total: z.number().int() }),
      ])
      .optional(),
    progress: z
      .object({ done: z.number().int(), total: z.number().int() })
      .optional()
      .openapi({ description: 'How far a job that reports progress (a code batch) got' }),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Job');
