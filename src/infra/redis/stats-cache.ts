import type { RedisClient } from './connection.js';

/** A bound on staleness should a process die between a commit and its version bump. */
const CACHE_TTL_S = 60;

/**
 * The statistics cache is versioned per policy: every change to a policy's coupons bumps the
 * version right after its commit, and a cached value counts only while it carries the current
 * version. A reader that computed from data older than a concurrent commit therefore cannot leave
 * a stale value behind: its version is already outdated when it writes. On a Redis Cluster the
 * pipeline and the MGET below work because every key carries the prefix's hash tag (one slot).
 */
export class StatsCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private versionKey(policyId: string) {
    return `${this.prefix}:stats:ver:${policyId}`;
  }

  private valueKey(policyId: string) {
    // v2: the statistics gained the budget's figures; values cached before are not read.
    return `${this.prefix}:stats:val2:${policyId}`;
  }

  /** Called by every code path that changes coupons, after its transaction committed. */
  async changed(policyIds: Iterable<string>): Promise<void> {
    const ids = [...new Set(policyIds)];
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.incr(this.versionKey(id));
    await pipeline.exec();
  }

  async read<T>(policyId: string, compute: () => Promise<T | null>): Promise<T | null> {
    const [version, cached] = await this.redis.mget(
      this.versionKey(policyId),
      this.valueKey(policyId),
    );
    const current = version ?? '0';
    if (cached) {
      const entry = JSON.parse(cached) as { version: string; value: T };
      if (entry.version === current) return entry.value;
    }
    const value = await compute();
    if (value !== null) {
      await this.redis.set(
        this.valueKey(policyId),
        JSON.stringify({ version: current, value }),
        'EX',
        CACHE_TTL_S,
      );
    }
    return value;
  }
}
