import { z } from '@hono/zod-openapi';

export const auditEntrySchema = z
  .object({
    id: z.string(),
    actor: z.string(),
    action: z.string().openapi({ example: 'policy.status' }),
    target: z.string().openapi({ example: 'policy:01939e3c-0000-7000-8000-000000000000' }),
    requestId: z.string().nullable(),
    at: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');
