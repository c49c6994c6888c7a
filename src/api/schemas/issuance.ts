import { z } from '@hono/zod-openapi';

export const issuanceBody = z
  .union([
    z.strictObject({
      policyId: z.string().uuid({ message: 'must be a UUID' }),
      userId: z.string().trim().min(1).max(200).optional(),
    }),
    z.strictObject({ code: z.string().trim().min(1).max(64) }),
  ])
  .openapi('IssuanceRequest', {
    description: 'DIRECT policies: `{policyId, userId?}` (userId for admins). CODE: `{code}`.',
  });

/**
 * The optional `Idempotency-Key` header of the write routes. Documented as a parameter of those
 * routes and checked in their handlers ({@link idempotencyKeyOf}): the generic header validator
 * copies every header of every request into an object to check this one.
 */
export const idempotencyKeySchema = z
  .string()
  .min(1, 'must be 1 to 200 characters')
  .max(200, 'must be 1 to 200 characters')
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
    type: z.enum(['ISSUE', 'RESERVE', 'USE', 'RELEASE', 'CANCEL', 'PAYMENT']),
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
      ])
      .optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Job');
