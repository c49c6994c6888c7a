import type { AuditBy, PolicyStore } from './ports.js';
import { accepted, notFound, type Result, refuse } from './refusal.js';

/**
 * Makes `count` new single-use codes for a CODE policy. The policy row is locked so concurrent
 * calls cannot together pass the quota; only keyed hashes are stored, the plaintext is returned
 * once (and the audit record holds the count only).
 */
export function generateCodes(
  ports: { policies: PolicyStore },
  { policyId, count }: { policyId: string; count: number },
  by: AuditBy,
): Promise<Result<string[]>> {
  return ports.policies.transaction(async (tx): Promise<Result<string[]>> => {
    const policy = await tx.lock(policyId);
    if (!policy) return notFound('policy');
    if (policy.issueType !== 'CODE') {
      return refuse('CONFLICT', 'Codes exist only for CODE policies');
    }
    if (policy.codesGenerated + count > policy.totalQuantity) {
      return refuse('CONFLICT', 'More codes than the policy’s quota', {
        available: policy.totalQuantity - policy.codesGenerated,
      });
    }
    const codes = await tx.addCodes(policyId, count);
    await tx.audit({
      ...by,
      action: 'policy.codes',
      target: `policy:${policyId}`,
      details: { count },
    });
    return accepted(codes);
  });
}
