import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { changePolicyStatus } from '../../app/change-policy-status.js';
import { couponStatistics } from '../../app/coupon-statistics.js';
import { createPolicy } from '../../app/create-policy.js';
import { exportCodeBatch } from '../../app/export-code-batch.js';
import { generateCodes } from '../../app/generate-codes.js';
import type { Ports } from '../../app/ports.js';
import { getPolicy, listPolicies } from '../../app/read-policies.js';
import { requestCodeBatch } from '../../app/request-code-batch.js';
import { policyView } from '../../app/views.js';
import type { CursorCodec } from '../cursor.js';
import { orThrow } from '../errors.js';
import { requireAdmin } from '../middleware/auth.js';
import {
  bearer,
  commonErrors,
  conflict,
  errorResponse,
  json,
  jsonBody,
  notFound,
  page,
  paginationQuery,
  uuid,
  uuidParam,
} from '../schemas/common.js';
import { statisticsSchema } from '../schemas/coupon.js';
import {
  codeBatchAcceptedSchema,
  codeBatchBody,
  codesSchema,
  createPolicyBody,
  generateCodesBody,
  patchPolicyBody,
  policySchema,
} from '../schemas/policy.js';
import { auditBy, createRouter } from '../validation.js';

const params = uuidParam('policyId');

export function policyRoutes({ ports, cursors }: { ports: Ports; cursors: CursorCodec }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/policies',
      operationId: 'createPolicy',
      tags: ['policies'],
      summary: 'Create a coupon policy (admin)',
      security: bearer,
      request: { body: jsonBody(createPolicyBody) },
      responses: { 201: json(policySchema, 'The policy'), ...commonErrors },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const policy = orThrow(await createPolicy(ports, c.req.valid('json'), auditBy(c)));
      return c.json(policyView(policy), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policies',
      operationId: 'listPolicies',
      tags: ['policies'],
      summary: 'List policies, newest first',
      security: bearer,
      request: { query: paginationQuery },
      responses: { 200: json(page(policySchema), 'A page of policies'), ...commonErrors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const result = await listPolicies(ports, {
        limit,
        cursor: cursors.decode('policies', cursor),
      });
      return c.json(
        {
          items: result.items.map(policyView),
          nextCursor: cursors.encode('policies', result.nextCursor),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policies/{policyId}',
      operationId: 'getPolicy',
      tags: ['policies'],
      summary: 'Get a policy',
      security: bearer,
      request: { params },
      responses: { 200: json(policySchema, 'The policy'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const policy = orThrow(await getPolicy(ports, c.req.valid('param').policyId as string));
      return c.json(policyView(policy), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/policies/{policyId}',
      operationId: 'changePolicyStatus',
      tags: ['policies'],
      summary: 'Activate or deactivate a policy (admin)',
      security: bearer,
      request: { params, body: jsonBody(patchPolicyBody) },
      responses: { 200: json(policySchema, 'The policy'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const { policyId } = c.req.valid('param');
      const policy = orThrow(
        await changePolicyStatus(
          ports,
          { policyId: policyId as string, status: c.req.valid('json').status },
          auditBy(c),
        ),
      );
      return c.json(policyView(policy), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/policies/{policyId}/codes',
      operationId: 'generateCodes',
      tags: ['policies'],
      summary: 'Generate single-use codes for a CODE policy (admin); plaintext returned once',
      security: bearer,
      request: { params, body: jsonBody(generateCodesBody) },
      responses: {
        201: json(codesSchema, 'The new codes'),
        ...commonErrors,
        ...notFound,
        ...conflict('More codes than the quota, or not a CODE policy (CONFLICT)'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const result = await generateCodes(
        ports,
        { policyId: c.req.valid('param').policyId as string, count: c.req.valid('json').count },
        auditBy(c),
      );
      return c.json({ codes: orThrow(result) }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/policies/{policyId}/code-batches',
      operationId: 'createCodeBatch',
      tags: ['policies'],
      summary:
        'Generate up to 1,000,000 codes for a CODE policy in a job (admin); export them as CSV',
      security: bearer,
      request: { params, body: jsonBody(codeBatchBody) },
      responses: {
        202: json(codeBatchAcceptedSchema, 'Accepted; poll statusUrl for its progress'),
        ...commonErrors,
        ...notFound,
        ...conflict('More codes than the quota, or not a CODE policy (CONFLICT)'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const body = c.req.valid('json');
      const { batchId, jobId } = orThrow(
        await requestCodeBatch(
          ports,
          { policyId: c.req.valid('param').policyId as string, ...body },
          auditBy(c),
        ),
      );
      return c.json({ batchId, jobId, statusUrl: `/v1/jobs/${jobId}` }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policies/{policyId}/code-batches/{batchId}/codes.csv',
      operationId: 'exportCodeBatch',
      tags: ['policies'],
      summary: 'A finished code batch’s codes as CSV (admin), streamed; kept CODE_EXPORT_TTL_HOURS',
      security: bearer,
      request: { params: z.object({ policyId: uuid(), batchId: uuid() }) },
      responses: {
        200: {
          description: 'Header line `code`, then one code a line',
          content: { 'text/csv': { schema: z.string() } },
        },
        ...commonErrors,
        ...notFound,
        ...conflict('The batch’s codes are still being made (CONFLICT)'),
        410: errorResponse('The export expired and its codes were deleted (GONE)'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const { policyId, batchId } = c.req.valid('param');
      const { pages } = orThrow(
        await exportCodeBatch(
          ports,
          { policyId: policyId as string, batchId: batchId as string },
          auditBy(c),
        ),
      );
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="codes-${batchId}.csv"`);
      // Each write waits for the client to take the previous ones: one page in memory at a time.
      return stream(c, async (out) => {
        await out.write('code\n');
        for await (const codes of pages()) await out.write(`${codes.join('\n')}\n`);
      });
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policies/{policyId}/statistics',
      operationId: 'getPolicyStatistics',
      tags: ['policies'],
      summary: 'Counts of the policy’s coupons by status (admin), served from a cache kept current',
      security: bearer,
      request: { params },
      responses: { 200: json(statisticsSchema, 'The statistics'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const policyId = c.req.valid('param').policyId as string;
      return c.json(orThrow(await couponStatistics(ports, policyId)), 200);
    },
  );

  return router;
}
