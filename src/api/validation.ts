import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import type { AppEnv } from './context.js';
import { ApiError } from './errors.js';
import { idempotencyKeySchema } from './schemas/issuance.js';

export interface FieldProblem {
  field: string;
  message: string;
}

export function fieldProblems(error: ZodError, target?: string): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [target, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: issue.message,
  }));
}

/** A router whose schema failures all become `400 VALIDATION_ERROR` with the offending fields. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(
          'VALIDATION_ERROR',
          'The request does not match its schema',
          fieldProblems(result.error, result.target),
        );
      }
    },
  });
}

/** Who made this request and which request it was, for the audit log. */
export function auditBy(c: Context<AppEnv>): { actor: string; requestId: string } {
  return { actor: c.get('principal').sub, requestId: c.get('requestId') };
}

/** The request's `Idempotency-Key`, checked as its schema says (400 VALIDATION_ERROR otherwise). */
export function idempotencyKeyOf(c: Context): string | undefined {
  const result = idempotencyKeySchema.safeParse(c.req.header('idempotency-key'));
  if (!result.success) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'The request does not match its schema',
      fieldProblems(result.error, 'header.idempotency-key'),
    );
  }
  return result.data;
}
