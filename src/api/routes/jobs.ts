import { createRoute, z } from '@hono/zod-openapi';
import type { Job } from 'bullmq';
import { JOB_ID_PREFIX, jobError } from '../../infra/queue/jobs.js';
import type { Queues } from '../../infra/queue/queues.js';
import { readVerdict, type Verdict } from '../../infra/queue/verdicts.js';
import type { RedisClient as Redis } from '../../infra/redis/connection.js';
import { ApiError } from '../errors.js';
import { assertActsFor } from '../middleware/auth.js';
import { bearer, commonErrors, json, notFound, text } from '../schemas/common.js';
import { jobSchema } from '../schemas/issuance.js';
import { createRouter } from '../validation.js';

const STATES = new Set(['waiting', 'active', 'delayed', 'completed', 'failed']);

/**
 * `raw` is read before the job itself: a job seen finished is then read with its outcome, whereas
 * the other order can pair a stale read (no outcome yet) with a finished state.
 */
function jobView(job: Job, raw: string) {
  const state = STATES.has(raw) ? (raw as z.infer<typeof jobSchema>['state']) : 'waiting';
  const data = job.data as { type: z.infer<typeof jobSchema>['type'] };
  return {
    jobId: job.id as string,
    type: data.type,
    state,
    ...(state === 'completed' && { result: job.returnvalue }),
    ...(state === 'failed' && { error: jobError(job.failedReason) }),
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

/** A job decided at intake reads like a failed job. */
function verdictView(verdict: Verdict) {
  const at = new Date(verdict.at).toISOString();
  return {
    jobId: verdict.jobId,
    type: 'ISSUE' as const,
    state: 'failed' as const,
    error: { code: verdict.code, message: verdict.message },
    createdAt: at,
    finishedAt: at,
  };
}

export function jobRoutes({
  queues,
  redis,
  queuePrefix,
}: {
  queues: Queues;
  redis: Redis;
  queuePrefix: string;
}) {
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
      const queue = jobId.startsWith(JOB_ID_PREFIX.issuance)
        ? queues.issuance
        : jobId.startsWith(JOB_ID_PREFIX.usage)
          ? queues.usage
          : undefined;
      const state = queue ? await queue.getJobState(jobId) : 'unknown';
      const job = queue && state !== 'unknown' ? await queue.getJob(jobId) : undefined;
      if (!job && queue === queues.issuance) {
        const verdict = await readVerdict(redis, queuePrefix, jobId);
        if (verdict) {
          assertActsFor(c.get('principal'), verdict.actor);
          return c.json(verdictView(verdict), 200);
        }
      }
      if (!job) throw new ApiError('NOT_FOUND', 'No such job');
      assertActsFor(c.get('principal'), (job.data as { actor: string }).actor);
      return c.json(jobView(job as Job, state), 200);
    },
  );
  return router;
}
