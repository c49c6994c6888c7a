import { createRoute, z } from '@hono/zod-openapi';
import type { Ports } from '../../app/ports.js';
import { readJob } from '../../app/read-job.js';
import { orThrow } from '../errors.js';
import { bearer, commonErrors, json, notFound, text } from '../schemas/common.js';
import { jobSchema } from '../schemas/issuance.js';
import { createRouter } from '../validation.js';

export function jobRoutes({ ports }: { ports: Ports }) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{jobId}',
      operationId: 'getJob',
      tags: ['jobs'],
      summary: 'The state and outcome of an asynchronous job',
      security: bearer,
      request: { params: z.object({ jobId: text({ min: 1, max: 100 }) }) },
      responses: { 200: json(jobSchema, 'The job'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const { jobId } = c.req.valid('param');
      const job = orThrow(await readJob(ports, c.get('principal'), jobId));
      return c.json(job as z.infer<typeof jobSchema>, 200);
    },
  );
  return router;
}
