/** One item's end in a group: its value, or the error that is its alone. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface IsolateOptions<I, O> {
  /** Runs a group in one transaction; one result per item, in order. */
  run: (items: I[]) => Promise<O[]>;
  /**
   * Whether a failure may be caused by one of the items (bad data, a constraint it breaks) rather
   * than by an outage, which would fail any part of the group alike.
   */
  itemCaused: (error: unknown) => boolean;
  /**
   * An item that failed alone is run once more as this (e.g. now looking up what it did before);
   * undefined: it keeps its failure.
   */
  again?: (item: I) => I | undefined;
}

/**
 * Runs a group; when it fails because of an item, runs its halves apart (in order, so arrival order
 * still decides who gets what), down to the items that fail alone. One bad job costs about two
 * transactions per halving, and the others commit with their first attempt. An outage fails the
 * whole group as before (thrown), so that every job retries with backoff.
 */
export async function runIsolating<I, O>(
  items: I[],
  options: IsolateOptions<I, O>,
): Promise<Settled<O>[]> {
  try {
    return ok(await options.run(items));
  } catch (error) {
    if (!options.itemCaused(error)) throw error;
    return split(items, error, options);
  }
}

const ok = <O>(values: O[]): Settled<O>[] => values.map((value) => ({ ok: true, value }));

async function split<I, O>(
  items: I[],
  error: unknown,
  options: IsolateOptions<I, O>,
): Promise<Settled<O>[]> {
  if (items.length === 1) {
    const again = options.again?.(items[0] as I);
    return again === undefined ? [{ ok: false, error }] : attempt([again], options, false);
  }
  const middle = Math.ceil(items.length / 2);
  return [
    ...(await attempt(items.slice(0, middle), options, true)),
    ...(await attempt(items.slice(middle), options, true)),
  ];
}

async function attempt<I, O>(
  items: I[],
  options: IsolateOptions<I, O>,
  splitOnFailure: boolean,
): Promise<Settled<O>[]> {
  try {
    return ok(await options.run(items));
  } catch (error) {
    if (splitOnFailure && options.itemCaused(error)) return split(items, error, options);
    return items.map(() => ({ ok: false, error }));
  }
}
