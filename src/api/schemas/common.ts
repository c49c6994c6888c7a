import { z } from '@hono/zod-openapi';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_ERROR' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

/** Integers a client may send as money or counts: never fractional, never beyond exact doubles. */
export const amount = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const INT32_MAX = 2_147_483_647;

export const uuidParam = (name: string) =>
  z.object({ [name]: z.string().uuid({ message: 'must be a UUID' }) });

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[0-9a-f-]{36}$/i, 'must be a cursor returned by a previous page')
    .optional(),
});

export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const acceptedSchema = z
  .object({ jobId: z.string(), statusUrl: z.string() })
  .openapi('Accepted');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema } },
});

/** The error responses every authenticated route can give. */
export const commonErrors = {
  400: errorResponse('The request does not match its schema (VALIDATION_ERROR)'),
  401: errorResponse('No valid bearer token (UNAUTHORIZED)'),
  403: errorResponse('Wrong role, or another user’s resource (FORBIDDEN)'),
  413: errorResponse('Body over 64 KiB (PAYLOAD_TOO_LARGE)'),
  415: errorResponse('Body is not application/json (UNSUPPORTED_MEDIA_TYPE)'),
  429: errorResponse('Over the rate limit (RATE_LIMITED)'),
  503: errorResponse('A backing service is down (UNAVAILABLE)'),
} as const;
export const notFound = { 404: errorResponse('Unknown resource (NOT_FOUND)') } as const;
export const conflict = (why: string) => ({ 409: errorResponse(why) }) as const;

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const bearer = [{ bearerAuth: [] }];
