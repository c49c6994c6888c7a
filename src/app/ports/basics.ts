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
