import { z } from '@hono/zod-openapi';
import { textProblem, textProblemMessage } from '../../domain/text.js';

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

export interface TextOptions {
  /** The documented bound (OpenAPI `maxLength`); longer → 400. */
  max: number;
  /** @defaultValue 0 */
  min?: number;
  /** Free text (descriptions, reasons) may hold tab and line breaks. @defaultValue false */
  freeText?: boolean;
  /** Leading and trailing white space is dropped before `min` and `max` apply. @defaultValue false */
  trim?: boolean;
  /** The message of a `min`/`max` failure, when the default one does not say enough. */
  lengthMessage?: string;
}

/**
 * A string that can be stored as it is: no NUL, lone surrogate or control character (see
 * `textProblem`), within its documented length. The 400's `details` then names the field and why.
 */
export function text({ max, min = 0, freeText = false, trim = false, lengthMessage }: TextOptions) {
  let schema = z.string().superRefine((value, ctx) => {
    const problem = textProblem(value, { freeText });
    if (problem) ctx.addIssue({ code: 'custom', message: textProblemMessage(problem) });
  });
  if (trim) schema = schema.trim();
  if (min > 0) schema = schema.min(min, lengthMessage);
  return schema.max(max, lengthMessage);
}

export const UUID_LENGTH = 36;
/** A UUID (ids the service made): documented with its length. */
export const uuid = () => z.uuid({ message: 'must be a UUID' }).max(UUID_LENGTH);

export const uuidParam = (name: string) => z.object({ [name]: uuid() });

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Signed by the service (`cursorCodec`): checked in the route, before any query. */
  cursor: text({ min: 1, max: 100 }).optional(),
});

export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const acceptedSchema = z
  .object({ jobId: z.string(), statusUrl: z.string() })
  .openapi('Accepted');

export const errorResponse = (description: string) => ({
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
