import type { PolicyStatistics, Statistics } from './ports.js';

/**
 * A policy's statistics, served from the cache while no change committed since, else computed
 * from PostgreSQL and cached. Null: no such policy.
 */
export function couponStatistics(
  ports: { statistics: Statistics },
  policyId: string,
): Promise<PolicyStatistics | null> {
  return ports.statistics.cached(policyId, () => ports.statistics.compute(policyId));
}
