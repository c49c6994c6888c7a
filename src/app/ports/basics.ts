/** The time, ids, pages, the failure classifier and the log: what every use case may need. */

/** The time, as the use cases read it. */
export interface Clock {
  now(): Date;
}

/** A new UUIDv7 (time-ordered). */
export type NewId = () => string;

/** A page of a list read newest first (or oldest first, as the list says), with the next cursor. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The keyed hash of a code a user typed, or null when it cannot be a code. */
export type CodeHasher = (typed: string) => string | null;

/** Tells of things an operator should know (a late payment whose coupon was taken). */
export interface Warn {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Tells failures apart, as the adapters that raised them know them. */
export interface FailureKinds {
  /** A dependency is unreachable or overloaded: waited out, never blamed on the data. */
  isOutage(error: unknown): boolean;
  /** The rows a statement writes caused it (bad data, a constraint they break). */
  isItemCaused(error: unknown): boolean;
  /** The same rows fail the same way however often they are written again. */
  isPermanent(error: unknown): boolean;
  /** One short line fit for a log field: never the statement or its parameters. */
  describe(error: unknown): string;
}

/**
 * The fencing token of a lock's holder: every write done under the lock carries it, and the store
 * refuses (rolls back) a write whose token is older than the newest it has seen for the resource.
 */
export interface Fence {
  resource: string;
  token: number;
}

/**
 * A lease lock per resource, for maintenance sweeps that must not run twice at once. `run` holds
 * the lock while `work` runs (renewing the lease) and answers how it ended: `skipped` when another
 * holder has it, `fenced` when a write was refused because a newer holder has written since this
 * one's lease ran out (what was committed before stays).
 */
export interface SweepLock {
  run<T>(
    resource: string,
    work: (fence: Fence) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false; why: 'skipped' | 'fenced' }>;
}
