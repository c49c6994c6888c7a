import type { AuditBy, JobQueue, NewId, PolicyStore } from './ports.js';
import { accepted, notFound, type Result, refuse } from './refusal.js';

export interface CodeBatchInput {
  policyId: string;
  count: number;
  prefix?: string | undefined;
  length?: number | undefined;
}

/** Random characters after the prefix when the request names none. @defaultValue 12 */
export const DEFAULT_BATCH_CODE_LENGTH = 12;

/**
 * Records a batch of `count` codes for a CODE policy and hands it to a job that makes them. The
 * count is reserved on the policy (its `codes_generated`) in the transaction that records the
 * batch, under the policy's lock, so batches racing each other cannot together pass the quota.
 * If the job cannot be added after the commit, the request fails and the batch stays unmade (its
 * codes reserved).
 */
export async function requestCodeBatch(
  ports: { policies: PolicyStore; jobs: JobQueue; newId: NewId },
  input: CodeBatchInput,
  by: AuditBy,
): Promise<Result<{ batchId: string; jobId: string }>> {
  const batchId = ports.newId();
  const batch = {
    id: batchId,
    policyId: input.policyId,
    count: input.count,
    prefix: input.prefix ?? '',
    length: input.length ?? DEFAULT_BATCH_CODE_LENGTH,
    actor: by.actor,
  };
  const recorded = await ports.policies.transaction(async (tx): Promise<Result<null>> => {
    const policy = await tx.lock(input.policyId);
    if (!policy) return notFound('policy');
    if (policy.issueType !== 'CODE') {
      return refuse('CONFLICT', 'Codes exist only for CODE policies');
    }
    if (policy.codesGenerated + input.count > policy.totalQuantity) {
      return refuse('CONFLICT', 'More codes than the policy’s quota', {
        available: policy.totalQuantity - policy.codesGenerated,
      });
    }
    await tx.addBatch(batch);
    await tx.audit({
      ...by,
      action: 'policy.code-batches',
      target: `policy:${input.policyId}`,
      details: { batchId, count: batch.count, prefix: batch.prefix, length: batch.length },
    });
    return accepted(null);
  });
  if (!recorded.ok) return recorded;
  const jobId = await ports.jobs.enqueueCodeBatch({ type: 'CODE_BATCH', actor: by.actor, batchId });
  return accepted({ batchId, jobId });
}
