/**
 * Gathers the calls made during one event-loop turn and hands them to `flush` together, once the
 * turn is over (`setImmediate`). Each call settles with its own item's result, or with the error
 * of its batch: a batch fails or succeeds as one, so no caller is told "done" for a write that
 * did not happen. Serves writes to Redis that many concurrent requests make at once: one command
 * (or one pipeline) per turn instead of one round trip each.
 */
export function coalesceCalls<I, O>(flush: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  let pending: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];

  async function run(): Promise<void> {
    const batch = pending;
    pending = [];
    try {
      const results = await flush(batch.map(({ item }) => item));
      for (const [i, { resolve }] of batch.entries()) resolve(results[i] as O);
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void run());
      pending.push({ item, resolve, reject });
    });
}
