import type { PolicyStatistics, Statistics } from './ports.js';
import { accepted, notFound, type Result } from './refusal.js';

/**
 * A policy's statistics, served from the cache while no change committed since, else computed
 * from PostgreSQL and cached.
 */
export async function couponStatistics(
  ports: { statistics: Statistics },
  policyId: string,
): Promise<Result<PolicyStatistics>> {
  const statistics = await ports.statistics.cached(policyId, () =>
    ports.statistics.compute(policyId),
  );
  return statistics ? accepted(statistics) : notFound('policy');
}
