import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.js';
import { ApiError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Writes carry JSON: anything else is refused before a handler reads it. */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (
    ['POST', 'PUT', 'PATCH'].includes(c.req.method) &&
    !JSON_TYPE.test(c.req.header('content-type') ?? '')
  ) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'The body must be application/json');
  }
  await next();
};
