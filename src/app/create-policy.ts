import { type NewPolicyInput, newPolicy, policyInputProblems } from '../domain/index.js';
import type { AuditBy, Clock, CodeHasher, NewId, PolicyStore, StoredPolicy } from './ports.js';
import { accepted, type Result, refuse } from './refusal.js';

/**
 * Creates a policy whose terms are consistent, with its audit record in the same transaction. A
 * public code another policy has is refused (CONFLICT).
 */
export async function createPolicy(
  ports: { policies: PolicyStore; clock: Clock; newId: NewId; hashPublicCode: CodeHasher },
  input: NewPolicyInput,
  by: AuditBy,
): Promise<Result<StoredPolicy>> {
  const now = ports.clock.now();
  const problems = policyInputProblems(input, now);
  if (problems.length > 0) {
    return refuse(
      'VALIDATION_ERROR',
      'The policy is not consistent',
      problems.map((p) => ({ field: `json.${p.path}`, message: p.message })),
    );
  }
  const policy: StoredPolicy = {
    ...newPolicy(input, { id: ports.newId(), now }),
    codesGenerated: 0,
    budgetSpent: 0,
  };
  const publicCodeHash =
    policy.publicCode === null ? null : ports.hashPublicCode(policy.publicCode);
  const inserted = await ports.policies.transaction(async (tx) => {
    if (!(await tx.insert(policy, publicCodeHash))) return false;
    await tx.audit({
      ...by,
      action: 'policy.create',
      target: `policy:${policy.id}`,
      details: {
        name: policy.name,
        issueType: policy.issueType,
        totalQuantity: policy.totalQuantity,
        publicCode: policy.publicCode,
      },
    });
    return true;
  });
  if (!inserted) return refuse('CONFLICT', 'Another policy has this public code');
  return accepted(policy);
}
