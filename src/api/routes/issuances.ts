import { createRoute } from '@hono/zod-openapi';
import type { Ports } from '../../app/ports.js';
import { requestIssuance } from '../../app/request-issuance.js';
import { orThrow } from '../errors.js';
import {
  acceptedSchema,
  bearer,
  commonErrors,
  conflict,
  errorResponse,
  json,
  jsonBody,
} from '../schemas/common.js';
import { idempotencyKeyParameter, issuanceBody } from '../schemas/issuance.js';
import { createRouter, idempotencyKeyOf } from '../validation.js';

export function issuanceRoutes({ ports }: { ports: Ports }) {
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
        429: errorResponse(
          'Over the rate limit, or too many invalid codes from this caller (RATE_LIMITED); see Retry-After',
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const idempotencyKey = idempotencyKeyOf(c);
      const result = await requestIssuance(ports, c.get('principal'), body, idempotencyKey);
      if (!result.ok && result.retryAfterS !== undefined) {
        c.header('Retry-After', String(result.retryAfterS));
      }
      const { jobId } = orThrow(result);
      return c.json({ jobId, statusUrl: `/v1/jobs/${jobId}` }, 202);
    },
  );
  return router;
}
