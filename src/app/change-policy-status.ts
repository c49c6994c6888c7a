import type { PolicyStatus } from '../domain/index.js';
import type { AuditBy, Clock, CodeHasher, IntakeGate, PolicyStore, StoredPolicy } from './ports.js';
import { accepted, notFound, type Result } from './refusal.js';

/**
 * Activates or deactivates a policy (audited in the same transaction); afterwards the intake
 * gate forgets its sold-out mark, since the worker's answer may now differ.
 */
export async function changePolicyStatus(
  ports: {
    policies: PolicyStore;
    clock: Clock;
    intake: Pick<IntakeGate, 'reopen'>;
    hashPublicCode: CodeHasher;
  },
  input: { policyId: string; status: PolicyStatus },
  by: AuditBy,
): Promise<Result<StoredPolicy>> {
  const { policyId, status } = input;
  const policy = await ports.policies.transaction(async (tx) => {
    const found = await tx.lock(policyId);
    if (!found) return null;
    await tx.setStatus(policyId, status, ports.clock.now());
    await tx.audit({
      ...by,
      action: 'policy.status',
      target: `policy:${policyId}`,
      details: { from: found.status, to: status },
    });
    return { ...found, status };
  });
  if (!policy) return notFound('policy');
  await ports.intake.reopen(
    policy.id,
    policy.publicCode === null ? null : ports.hashPublicCode(policy.publicCode),
  );
  return accepted(policy);
}
