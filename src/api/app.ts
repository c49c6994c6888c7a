import type { ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { timeout } from 'hono/timeout';
import type { Logger } from 'pino';
import { isOutage } from '../infra/failures.js';
import type { Metrics } from '../infra/metrics.js';
import type { AppEnv } from './context.js';
import { ApiError, errorBody } from './errors.js';
import { readBody } from './middleware/read-body.js';
import { healthRoutes, metricsRoutes, type Readiness } from './routes/health.js';
import { createRouter } from './validation.js';

export const BODY_LIMIT_BYTES = 64 * 1024;
export const REQUEST_TIMEOUT_MS = 15_000;

export interface AppDeps {
  logger: Logger;
  readiness: Readiness;
  /** Allowed CORS origins; none → no CORS headers at all. */
  corsOrigins?: string[];
  /** Runs before routing for requests that are not under `/v1` (those are limited per user). */
  limitByIp?: MiddlewareHandler<AppEnv>;
  /** Prometheus metrics; when given, every request is measured and `/metrics` is served. */
  metrics?: Metrics;
  /** Mounts the routes beyond health: `/v1`, operators' pages. */
  mount?: (app: ReturnType<typeof createRouter>) => void;
}

/** The matched route's template (`/v1/jobs/:jobId`), so label values stay few; `unmatched` for 404s. */
function routeTemplate(c: Context): string {
  const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
  return route?.path ?? 'unmatched';
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** On every answer: the defaults of `hono/secure-headers`, as one fixed list. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

/**
 * On @hono/node-server, the fixed headers go on the Node response before the route runs: Node adds
 * them to whatever the route answers (a header the route sets itself wins). Twelve sets on a WHATWG
 * Headers object after every route cost a twentieth of an enqueue request.
 */
function setNodeHeaders(outgoing: ServerResponse, requestId: string): void {
  for (const [name, value] of SECURITY_HEADERS) outgoing.setHeader(name, value);
  outgoing.setHeader('X-Request-Id', requestId);
}

/** Elsewhere (`app.request`, other runtimes), on the answer itself. */
function setResponseHeaders(headers: Headers, requestId: string): void {
  for (const [name, value] of SECURITY_HEADERS) {
    if (!headers.has(name)) headers.set(name, value);
  }
  headers.set('X-Request-Id', requestId);
}

/** The groups of /docs, in the order a reader meets them. */
const OPENAPI_TAGS = [
  {
    name: 'policies',
    description: 'Coupon policies: create, list, change status, codes, statistics',
  },
  { name: 'issuance', description: 'Ask for a coupon (asynchronous: a job to poll)' },
  {
    name: 'coupons',
    description: 'A user’s coupons: read, history, validate, reserve, use, release, cancel',
  },
  { name: 'jobs', description: 'The outcome of an accepted request' },
  { name: 'audit', description: 'What administrators changed, for the record' },
  { name: 'operations', description: 'Liveness, readiness and metrics' },
];

/** Builds the HTTP app from its dependencies; knows nothing of how they were made. */
export function createApp(deps: AppDeps) {
  const app = createRouter();

  // The caller's X-Request-Id when it is a sane token, else a fresh UUID; echoed on every answer
  // with the security headers.
  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) setNodeHeaders(outgoing, id);
    // The service's logger: lines about a request carry its `requestId` (a child logger per
    // request cost more than the request's own logging).
    c.set('logger', deps.logger);
    const started = performance.now();
    await next();
    if (!outgoing) setResponseHeaders(c.res.headers, id);
    deps.metrics?.observeRequest(
      { method: c.req.method, route: routeTemplate(c), status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
    if (deps.logger.isLevelEnabled('info')) {
      deps.logger.info(
        {
          requestId: id,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        'request',
      );
    }
  });
  if (deps.corsOrigins?.length) {
    app.use(
      cors({
        origin: deps.corsOrigins,
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
        exposeHeaders: ['X-Request-Id', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }
  if (deps.limitByIp) app.use(deps.limitByIp);
  // A request stuck on a backing service answers 503 instead of holding the connection forever.
  app.use(
    '/v1/*',
    timeout(REQUEST_TIMEOUT_MS, () => new HTTPException(503, { message: 'The request timed out' })),
  );
  app.use(
    readBody(BODY_LIMIT_BYTES, (c) =>
      c.json(errorBody('PAYLOAD_TOO_LARGE', 'The body is over 64 KiB'), 413),
    ),
  );
  app.route('/', healthRoutes(deps.readiness));
  if (deps.metrics) app.route('/', metricsRoutes(deps.metrics));
  deps.mount?.(app);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Coupon service',
      version: '1',
      description:
        'Issue, reserve, use and expire discount coupons; see docs/API.md for the contract.',
      license: { name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' },
    },
    // Relative: the document is served by the service it describes, wherever that runs.
    servers: [{ url: '/', description: 'The service that serves this document' }],
    tags: OPENAPI_TAGS,
  });

  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'No such route'), 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message, error.details), error.status);
    }
    if (error instanceof HTTPException && error.status === 503) {
      return c.json(errorBody('UNAVAILABLE', error.message), 503);
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Hono raises these for malformed JSON and similar client faults.
      return c.json(
        errorBody('VALIDATION_ERROR', error.message || 'The request is malformed'),
        400,
      );
    }
    const logger = deps.logger.child({ requestId: c.get('requestId') });
    if (isOutage(error)) {
      logger.warn({ err: error }, 'backing service unavailable');
      return c.json(errorBody('UNAVAILABLE', 'A backing service is unavailable; try again'), 503);
    }
    logger.error({ err: error }, 'unhandled error');
    return c.json(errorBody('INTERNAL', 'An internal error occurred'), 500);
  });
  return app;
}
