import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AppEnv } from './context.js';
import { ApiError } from './errors.js';

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
