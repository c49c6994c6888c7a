import { type NewPolicyInput, newPolicy, policyInputProblems } from '../domain/index.js';
import type { AuditBy, Clock, NewId, PolicyStore, StoredPolicy } from './ports.js';

export type CreatePolicyOutcome =
  | { ok: true; policy: StoredPolicy }
  | { ok: false; problems: { path: string; message: string }[] };

/** Creates a policy whose terms are consistent, with its audit record in the same transaction. */
export async function createPolicy(
  ports: { policies: PolicyStore; clock: Clock; newId: NewId },
  input: NewPolicyInput,
  by: AuditBy,
): Promise<CreatePolicyOutcome> {
  const now = ports.clock.now();
  const problems = policyInputProblems(input, now);
  if (problems.length > 0) return { ok: false, problems };
  const policy: StoredPolicy = {
    ...newPolicy(input, { id: ports.newId(), now }),
    codesGenerated: 0,
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
  return { ok: true, policy };
}
