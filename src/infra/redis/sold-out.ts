import type { SoldOutMark } from '../../app/ports.js';
import type { RedisClient } from './connection.js';

/**
 * How long a sold-out mark lives unless a worker sees the policy sold out again. It bounds how long
 * a mark can outlive a deactivation that raced with the worker setting it.
 */
export const SOLD_OUT_TTL_S = 30;

const soldOutKey = (prefix: string, policyId: string) => `${prefix}:sold-out:${policyId}`;

/**
 * What a public code's mark is kept under in {@link SoldOutGate} and Redis: policy ids reaching
 * the gate are UUIDs, so they never take this form.
 */
export const publicCodeMark = (publicCodeHash: string) => `public:${publicCodeHash}`;

/**
 * Marks DIRECT policies, and public codes, that will turn every further request away with
 * QUOTA_EXHAUSTED (see the domain's `isSoldOut`). Called by a worker only after the transaction
 * that saw them so committed. The value is the end of the policy's window: after it the worker
 * answers POLICY_NOT_ACTIVE.
 */
export async function markSoldOut(
  redis: RedisClient,
  prefix: string,
  policies: SoldOutMark[],
): Promise<void> {
  if (policies.length === 0) return;
  // A cluster client sends a pipeline to one node: the keys share the prefix's hash tag.
  const pipeline = redis.pipeline();
  for (const { id, validUntil, publicCodeHash } of policies) {
    const mark = publicCodeHash === undefined ? id : publicCodeMark(publicCodeHash);
    pipeline.set(soldOutKey(prefix, mark), String(validUntil.getTime()), 'EX', SOLD_OUT_TTL_S);
  }
  await pipeline.exec();
}

/** Forgets marks (a policy's status changed, so the worker's answer may differ). */
export async function clearSoldOut(
  redis: RedisClient,
  prefix: string,
  marks: string[],
): Promise<void> {
  await redis.del(...marks.map((mark) => soldOutKey(prefix, mark)));
}

interface Entry {
  /** End of the window of a sold-out policy (ms), or null when not marked. */
  until: number | null;
  fetchedAt: number;
  refreshing: boolean;
}

/**
 * The API's view of the sold-out marks, so that a flash sale's surplus requests are answered at
 * intake instead of each costing a job and a transaction. Each policy's mark is read from Redis at
 * most once per `refreshMs` per process; a stale entry answers while its refresh runs. Any doubt
 * (Redis unreachable, an entry not read yet failing) answers "not sold out": the request then takes
 * the ordinary path and the worker decides.
 */
export class SoldOutGate {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly options: { refreshMs: number; maxEntries: number } = {
      refreshMs: 250,
      maxEntries: 10_000,
    },
  ) {}

  async soldOut(policyId: string, now = Date.now()): Promise<boolean> {
    let entry = this.entries.get(policyId);
    if (!entry) {
      entry = { until: await this.read(policyId), fetchedAt: now, refreshing: false };
      // Policy ids come from requests: bound what a caller can make this process remember.
      if (this.entries.size >= this.options.maxEntries) this.entries.clear();
      this.entries.set(policyId, entry);
    } else if (now - entry.fetchedAt >= this.options.refreshMs && !entry.refreshing) {
      const stale = entry;
      stale.refreshing = true;
      void this.read(policyId).then((until) => {
        stale.until = until;
        stale.fetchedAt = Date.now();
        stale.refreshing = false;
      });
    }
    return entry.until !== null && now <= entry.until;
  }

  /** Drops this process's entry (after the policy's status changed). */
  forget(policyId: string): void {
    this.entries.delete(policyId);
  }

  private async read(policyId: string): Promise<number | null> {
    try {
      const value = await this.redis.get(soldOutKey(this.prefix, policyId));
      return value === null ? null : Number(value);
    } catch {
      return null;
    }
  }
}
