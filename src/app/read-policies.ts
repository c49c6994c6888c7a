import type { Page, PolicyStore, StoredPolicy } from './ports.js';
import { accepted, notFound, type Result } from './refusal.js';

/** A policy: any authenticated caller may read it (a shop page shows it). */
export async function getPolicy(
  ports: { policies: PolicyStore },
  policyId: string,
): Promise<Result<StoredPolicy>> {
  const policy = await ports.policies.find(policyId);
  return policy ? accepted(policy) : notFound('policy');
}

/** Policies newest first, in pages. */
export function listPolicies(
  ports: { policies: PolicyStore },
  page: { limit: number; cursor?: string },
): Promise<Page<StoredPolicy>> {
  return ports.policies.list(page);
}
