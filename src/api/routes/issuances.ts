import { createRoute } from '@hono/zod-openapi';
import { hashTypedCode } from '../../infra/codes.js';
import { enqueueOnce, type JobSink } from '../../infra/queue/enqueue.js';
import { type IssueJobData, JOB_ID_PREFIX } from '../../infra/queue/jobs.js';
import { newVerdictJobId, type VerdictRecorder } from '../../infra/queue/verdicts.js';
import type { RedisClient as Redis } from '../../infra/redis/connection.js';
import type { SoldOutGate } from '../../infra/redis/sold-out.js';
import { ApiError } from '../errors.js';
import { assertActsFor } from '../middleware/auth.js';
import {
  acceptedSchema,
  bearer,
  commonErrors,
  conflict,
  json,
  jsonBody,
} from '../schemas/common.js';
import { idempotencyKeyParameter, issuanceBody } from '../schemas/issuance.js';
import { createRouter, idempotencyKeyOf } from '../validation.js';

/** A hash no code can have: an impossible code fails in the worker like any unknown one. */
const NO_SUCH_CODE = '0'.repeat(64);

export function issuanceRoutes(deps: {
  /** The issuance queue (see `addsCorkedPerTurn`). */
  issuance: JobSink<IssueJobData>;
  redis: Redis;
  queuePrefix: string;
  codeHashSecret: string;
  soldOut: SoldOutGate;
  verdicts: VerdictRecorder;
}) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/issuances',
      operationId: 'requestIssuance',
      tags: ['issuance'],
      summary: 'Ask for a coupon; answered 202 with a job to poll',
      description:
        'Does not read the database: an unknown policy or code fails the job (POLICY_NOT_FOUND, ' +
        'CODE_INVALID), not the request. The same Idempotency-Key and body answer the same job. ' +
        'A request without Idempotency-Key for a DIRECT policy that has sold out is decided at ' +
        'once: its job reads failed with QUOTA_EXHAUSTED.',
      security: bearer,
      parameters: [idempotencyKeyParameter],
      request: { body: jsonBody(issuanceBody) },
      responses: {
        202: json(acceptedSchema, 'Accepted; poll statusUrl'),
        ...commonErrors,
        ...conflict('Idempotency-Key reused with another body (CONFLICT)'),
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      const idempotencyKey = idempotencyKeyOf(c);
      let data: IssueJobData;
      if ('policyId' in body) {
        const userId = body.userId ?? principal.sub;
        assertActsFor(principal, userId);
        // A sold-out policy's answer is already known: no job, no transaction. Only without an
        // Idempotency-Key, whose repeats must keep naming the one job a first request created.
        if (idempotencyKey === undefined && (await deps.soldOut.soldOut(body.policyId))) {
          const jobId = newVerdictJobId();
          await deps.verdicts.record({
            jobId,
            actor: principal.sub,
            code: 'QUOTA_EXHAUSTED',
            message: 'The policy has no coupon left',
            at: Date.now(),
          });
          return c.json({ jobId, statusUrl: `/v1/jobs/${jobId}` }, 202);
        }
        data = {
          type: 'ISSUE',
          actor: principal.sub,
          userId,
          policyId: body.policyId,
        };
      } else {
        data = {
          type: 'ISSUE',
          actor: principal.sub,
          userId: principal.sub,
          codeHash: hashTypedCode(deps.codeHashSecret, body.code) ?? NO_SUCH_CODE,
        };
      }
      const result = await enqueueOnce({
        queue: deps.issuance,
        redis: deps.redis,
        keyPrefix: deps.queuePrefix,
        idPrefix: JOB_ID_PREFIX.issuance,
        actor: principal.sub,
        idempotencyKey,
        data,
        request: body,
        secret: deps.codeHashSecret,
      });
      if (!result.ok) {
        throw new ApiError('CONFLICT', 'This Idempotency-Key was used with another body');
      }
      return c.json({ jobId: result.jobId, statusUrl: `/v1/jobs/${result.jobId}` }, 202);
    },
  );
  return router;
}
