import { createRoute } from '@hono/zod-openapi';
import { listAuditRecords } from '../../app/list-audit-records.js';
import type { Ports } from '../../app/ports.js';
import type { CursorCodec } from '../cursor.js';
import { requireAdmin } from '../middleware/auth.js';
import { auditEntrySchema } from '../schemas/audit.js';
import { bearer, errorResponse, json, page, paginationQuery } from '../schemas/common.js';
import { createRouter } from '../validation.js';

export function auditRoutes({ ports, cursors }: { ports: Ports; cursors: CursorCodec }) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit',
      operationId: 'listAuditEntries',
      tags: ['audit'],
      summary: 'The audit log of state-changing admin actions (admin), newest first',
      security: bearer,
      request: { query: paginationQuery },
      responses: {
        200: json(page(auditEntrySchema), 'A page of audit entries'),
        400: errorResponse(
          'A malformed limit, or a cursor this service did not issue (VALIDATION_ERROR)',
        ),
        401: errorResponse('No valid bearer token (UNAUTHORIZED)'),
        403: errorResponse('Not an admin (FORBIDDEN)'),
        429: errorResponse('Over the rate limit (RATE_LIMITED)'),
        503: errorResponse('A backing service is down (UNAVAILABLE)'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('principal'));
      const { limit, cursor } = c.req.valid('query');
      const page = await listAuditRecords(ports, {
        limit,
        cursor: cursors.decode('audit', cursor),
      });
      return c.json(
        { items: page.items, nextCursor: cursors.encode('audit', page.nextCursor) },
        200,
      );
    },
  );
  return router;
}
