import { createRoute, z } from '@hono/zod-openapi';
import { type CheckReport, sharedAnswer } from '../../infra/health.js';
import type { Metrics } from '../../infra/metrics.js';
import { createRouter } from '../validation.js';

export type Readiness = () => Promise<CheckReport>;

/**
 * `/ready` and `/metrics` need no token and any client may call them: they answer from checks at
 * most this old, with one run in flight that concurrent callers share.
 */
export const PROBE_MAX_AGE_MS = 1000;

const readySchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['up', 'down'])),
    reasons: z.record(z.string(), z.string()).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi('Readiness');

export function healthRoutes(probe: Readiness) {
  const readiness = sharedAnswer(probe, PROBE_MAX_AGE_MS);
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      tags: ['operations'],
      // Public probes: no token.
      security: [],
      summary: 'Liveness: 200 while the process lives',
      responses: {
        200: {
          description: 'Alive',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/ready',
      operationId: 'getReadiness',
      tags: ['operations'],
      // Public probes: no token.
      security: [],
      summary: 'Readiness: PostgreSQL, Redis and Kafka each answer',
      responses: {
        200: {
          description: 'Every dependency answers',
          content: { 'application/json': { schema: readySchema } },
        },
        503: {
          description: 'A dependency is down',
          content: { 'application/json': { schema: readySchema } },
        },
      },
    }),
    async (c) => {
      const report = await readiness();
      if (report.ok) return c.json({ status: 'ok' as const, checks: report.checks }, 200);
      return c.json(
        {
          status: 'unavailable' as const,
          checks: report.checks,
          reasons: report.reasons,
          error: {
            code: 'UNAVAILABLE',
            message: `Not ready: ${Object.keys(report.reasons).join(', ')} down`,
          },
        },
        503,
      );
    },
  );
  return router;
}

export function metricsRoutes(metrics: Metrics) {
  const scrape = sharedAnswer(() => metrics.registry.metrics(), PROBE_MAX_AGE_MS);
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      tags: ['operations'],
      // Public probes: no token.
      security: [],
      summary: 'Prometheus metrics: HTTP, jobs, queue depth, outbox backlog, Kafka lag, process',
      responses: {
        200: {
          description: 'Prometheus text format',
          content: { 'text/plain': { schema: z.string() } },
        },
      },
    }),
    async (c) => {
      const body = await scrape();
      return c.text(body, 200, { 'content-type': metrics.registry.contentType });
    },
  );
  return router;
}
