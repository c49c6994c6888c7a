import type { AuditLog, AuditRecord, Page } from './ports.js';

/** The audit log of state-changing admin actions, newest first, in pages. */
export function listAuditRecords(
  ports: { audit: AuditLog },
  page: { limit: number; cursor?: string },
): Promise<Page<AuditRecord>> {
  return ports.audit.list(page);
}
