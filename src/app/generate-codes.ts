import type { AuditBy, PolicyStore } from './ports.js';

export type CodeGeneration =
  | { ok: true; codes: string[] }
  | { ok: false; reason: 'NOT_FOUND' | 'NOT_CODE_POLICY' | 'OVER_QUOTA'; available?: number };

/**
 * Makes `count` new single-use codes for a CODE policy. The policy row is locked so concurrent
 * calls cannot together pass the quota; only keyed hashes are stored, the plaintext is returned
 * once (and the audit record holds the count only).
 */
export function generateCodes(
  ports: { policies: PolicyStore },
  { policyId, count }: { policyId: string; count: number },
  by: AuditBy,
): Promise<CodeGeneration> {
  return ports.policies.transaction(async (tx): Promise<CodeGeneration> => {
    const policy = await tx.lock(policyId);
    if (!policy) return { ok: false, reason: 'NOT_FOUND' };
    if (policy.issueType !== 'CODE') return { ok: false, reason: 'NOT_CODE_POLICY' };
    if (policy.codesGenerated + count > policy.totalQuantity) {
      return {
        ok: false,
        reason: 'OVER_QUOTA',
        available: policy.totalQuantity - policy.codesGenerated,
      };
    }
    const codes = await tx.addCodes(policyId, count);
    await tx.audit({
      ...by,
      action: 'policy.codes',
      target: `policy:${policyId}`,
      details: { count },
    });
    return { ok: true, codes };
  });
}
