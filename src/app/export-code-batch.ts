import type { AuditBy, AuditLog, Clock, CodeBatchStore } from './ports.js';
import { accepted, notFound, type Result, refuse } from './refusal.js';

/** Codes read per page: what one export holds in memory at a time. @defaultValue 1000 */
const PAGE_SIZE = 1000;

/**
 * A finished batch's codes for export, page by page (keyset on their position, so memory stays
 * one page however large the batch). Refused while the batch is being made (CONFLICT) and once
 * its export expired (GONE). The export is written to the audit log (the count, never a code).
 */
export async function exportCodeBatch(
  ports: { codeBatches: CodeBatchStore; audit: AuditLog; clock: Clock },
  {
    policyId,
    batchId,
    pageSize = PAGE_SIZE,
  }: { policyId: string; batchId: string; pageSize?: number },
  by: AuditBy,
): Promise<Result<{ count: number; pages: () => AsyncGenerator<string[]> }>> {
  const batch = await ports.codeBatches.find(batchId);
  if (!batch || batch.policyId !== policyId) return notFound('code batch');
  if (!batch.completedAt || !batch.exportExpiresAt) {
    return refuse('CONFLICT', 'The batch’s codes are still being made', {
      done: batch.done,
      total: batch.count,
    });
  }
  if (batch.exportExpiresAt.getTime() <= ports.clock.now().getTime()) {
    return refuse('GONE', 'The batch’s export has expired; its plaintext codes were deleted');
  }
  await ports.audit.write({
    ...by,
    action: 'policy.codes.export',
    target: `policy:${policyId}`,
    details: { batchId, count: batch.count },
  });
  const { codeBatches } = ports;
  async function* pages(): AsyncGenerator<string[]> {
    let after = 0;
    for (;;) {
      const rows = await codeBatches.codes(batchId, after, pageSize);
      if (rows.length === 0) return;
      yield rows.map((row) => row.code);
      after = rows.at(-1)?.seq ?? after;
      if (rows.length < pageSize) return;
    }
  }
  return accepted({ count: batch.count, pages });
}
