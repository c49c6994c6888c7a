/** One item's end in a group: its value, or the error that is its alone. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface IsolateOptions<I, O> {
  /** Runs a group all or nothing (one transaction); one result per item, in order. */
  run: (items: I[]) => Promise<O[]>;
  /**
   * Whether a failure may be caused by one of the items (bad data, a constraint it breaks) rather
   * than by an outage, which would fail any part of the group alike and is thrown at once.
   */
  itemCaused: (error: unknown) => boolean | Promise<boolean>;
  /**
   * An item that failed alone is run once more as what this returns (the same item after a wait,
   * or the item made to look up what it did before); undefined: it keeps its failure. `failures`
   * counts its failed runs so far. @defaultValue never again
   */
  again?: (item: I, failures: number) => I | undefined | Promise<I | undefined>;
  /** Told of every failure caused by items (not of outages), for the log. */
  onFailure?: (items: I[], error: unknown, failures: number) => void;
}

/**
 * Runs a group; when it fails because of an item, runs its halves apart (in order, so arrival
 * order still decides who gets what), down to the items that fail alone, which `again` may run
 * once more. One bad item costs about two runs per halving, and the others commit with their
 * first attempt. An outage is thrown, wherever it is met: the caller retries the group later.
 */
export async function isolateFailures<I, O>(
  items: I[],
  options: IsolateOptions<I, O>,
): Promise<Settled<O>[]> {
  if (items.length === 0) return [];
  try {
    return (await options.run(items)).map((value) => ({ ok: true, value }));
  } catch (error) {
    if (!(await options.itemCaused(error))) throw error;
    options.onFailure?.(items, error, 1);
    if (items.length === 1) return [await alone(items[0] as I, error, options)];
    const middle = Math.ceil(items.length / 2);
    const first = await isolateFailures(items.slice(0, middle), options);
    return [...first, ...(await isolateFailures(items.slice(middle), options))];
  }
}

async function alone<I, O>(
  item: I,
  firstError: unknown,
  options: IsolateOptions<I, O>,
): Promise<Settled<O>> {
  let error = firstError;
  for (let failures = 1; ; failures++) {
    const next = await options.again?.(item, failures);
    if (next === undefined) return { ok: false, error };
    try {
      const [value] = await options.run([next]);
      return { ok: true, value: value as O };
    } catch (failure) {
      if (!(await options.itemCaused(failure))) throw failure;
      options.onFailure?.([next], failure, failures + 1);
      error = failure;
    }
  }
}
