export interface SplitOptions<T> {
  /** Makes the effect of `items` durable, all or nothing; throws when it cannot. */
  effect: (items: T[]) => Promise<void>;
  /** True when the failure is an outage: retried later as a whole, nothing given up. */
  isOutage: (error: unknown) => boolean | Promise<boolean>;
  /** Attempts of a single item before it is given up. @defaultValue 3 */
  maxAttempts?: number;
  /** Waits before the next attempt of a single item (`attempt` is the one that failed). */
  backoff?: (attempt: number) => Promise<void>;
  /** Told of every failed attempt that is not an outage, for the log. */
  onFailure?: (items: T[], error: unknown, attempt: number) => void;
}

export interface GivenUp<T> {
  item: T;
  /** The last attempt's failure. */
  error: unknown;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies `items` (in order) with `effect`; when that fails for a reason other than an outage, the
 * items are split in halves, each applied on its own (the first before the second, so order is
 * kept), down to single items, and a single item that keeps failing is given up after
 * `maxAttempts`. So one item the effect can never take costs its neighbours a few smaller
 * transactions, not their progress. An outage is thrown at once: the caller retries it all later.
 * Returns the items given up, in order.
 */
export async function applySplitting<T>(
  items: T[],
  options: SplitOptions<T>,
): Promise<GivenUp<T>[]> {
  const { effect, isOutage, maxAttempts = 3, onFailure } = options;
  const backoff = options.backoff ?? ((attempt: number) => wait(100 * 2 ** (attempt - 1)));

  async function failed(range: T[], error: unknown, attempt: number): Promise<void> {
    if (await isOutage(error)) throw error;
    onFailure?.(range, error, attempt);
  }

  async function run(range: T[]): Promise<GivenUp<T>[]> {
    if (range.length === 0) return [];
    try {
      await effect(range);
      return [];
    } catch (error) {
      await failed(range, error, 1);
      if (range.length === 1) return retrySingle(range, error);
    }
    const middle = Math.ceil(range.length / 2);
    const first = await run(range.slice(0, middle));
    return [...first, ...(await run(range.slice(middle)))];
  }

  async function retrySingle(single: T[], firstError: unknown): Promise<GivenUp<T>[]> {
    let last = firstError;
    for (let attempt = 2; attempt <= maxAttempts; attempt++) {
      await backoff(attempt - 1);
      try {
        await effect(single);
        return [];
      } catch (error) {
        await failed(single, error, attempt);
        last = error;
      }
    }
    return [{ item: single[0] as T, error: last }];
  }

  return run(items);
}
