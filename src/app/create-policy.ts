import { type NewPolicyInput, newPolicy, policyInputProblems } from '../domain/index.js';
import type { AuditBy, Clock, NewId, PolicyStore, StoredPolicy } from './ports.js';
import { accepted, type Result, refuse } from './refusal.js';

/** Creates a policy whose terms are consistent, with its audit record in the same transaction. */
export async function createPolicy(
  ports: { policies: PolicyStore; clock: Clock; newId: NewId },
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
  await ports.policies.transaction(async (tx) => {
    await tx.insert(policy);
    await tx.audit({
      ...by,
      action: 'policy.create',
      target: `policy:${policy.id}`,
      details: {
        name: policy.name,
        issueType: policy.issueType,
        totalQuantity: policy.totalQuantity,
      },
    });
  });
  return accepted(policy);
}
