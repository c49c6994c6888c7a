import { describe, expect, it } from 'vitest';
import { isolateFailures } from '../../src/app/isolate.js';
import { OutageError } from '../../src/infra/failures.js';

/** An effect over numbers that refuses any range holding one of `bad`, and records what it took. */
function effectRefusing(bad: number[], outage?: () => boolean) {
  const applied: number[] = [];
  const calls: number[][] = [];
  return {
    applied,
    calls,
    effect: async (items: number[]) => {
      calls.push(items);
      if (outage?.()) throw new OutageError('database down');
      if (items.some((item) => bad.includes(item))) throw new Error(`refused ${items.join(',')}`);
      applied.push(...items);
    },
  };
}

/**
 * The payment bridge's use of the one halving helper: an effect applied in halves, a single item
 * retried after a backoff up to `maxAttempts` in all, then given up; an outage thrown.
 */
async function applySplitting<T>(
  items: T[],
  options: {
    effect: (items: T[]) => Promise<void>;
    isOutage: (error: unknown) => boolean;
    maxAttempts?: number;
    backoff?: (attempt: number) => Promise<void>;
    onFailure?: (items: T[], error: unknown, attempt: number) => void;
  },
) {
  const { maxAttempts = 3, backoff = noWait } = options;
  const settled = await isolateFailures(items, {
    run: async (range) => {
      await options.effect(range);
      return range;
    },
    itemCaused: (error) => !options.isOutage(error),
    again: async (item, failures) => {
      if (failures >= maxAttempts) return undefined;
      await backoff(failures);
      return item;
    },
    ...(options.onFailure && { onFailure: options.onFailure }),
  });
  return settled.flatMap((result, i) =>
    result.ok ? [] : [{ item: items[i] as T, error: result.error }],
  );
}

const isOutage = (error: unknown) => error instanceof OutageError;
const noWait = async () => undefined;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('isolateFailures, as the payment bridge records events', () => {
  it('applies a range in one call when nothing fails', async () => {
    const { effect, applied, calls } = effectRefusing([]);
    expect(await applySplitting(range(10), { effect, isOutage })).toEqual([]);
    expect(calls).toEqual([range(10)]);
    expect(applied).toEqual(range(10));
  });

  it('applies every neighbour of a refused item, in order, and gives that one up after its attempts', async () => {
    const { effect, applied, calls } = effectRefusing([7]);
    const failures: [number[], number][] = [];
    const givenUp = await applySplitting(range(20), {
      effect,
      isOutage,
      backoff: noWait,
      maxAttempts: 3,
      onFailure: (items, _error, attempt) => failures.push([items, attempt]),
    });
    expect(givenUp.map(({ item }) => item)).toEqual([7]);
    expect(String(givenUp[0]?.error)).toContain('refused 7');
    expect(applied).toEqual(range(20).filter((i) => i !== 7));
    expect(calls.filter((items) => items.length === 1 && items[0] === 7)).toHaveLength(3);
    expect(failures.filter(([items]) => items.length === 1).map(([, n]) => n)).toEqual([1, 2, 3]);
    // Halving finds it in about log2(20) steps, not one call per item.
    expect(calls.length).toBeLessThan(20);
  });

  it('gives up several refused items and keeps the order of the rest', async () => {
    const { effect, applied } = effectRefusing([0, 5, 6, 19]);
    const givenUp = await applySplitting(range(20), { effect, isOutage, backoff: noWait });
    expect(givenUp.map(({ item }) => item)).toEqual([0, 5, 6, 19]);
    expect(applied).toEqual(range(20).filter((i) => ![0, 5, 6, 19].includes(i)));
  });

  it('applies a single item that succeeds on a later attempt', async () => {
    let failuresLeft = 2;
    const applied: number[] = [];
    const givenUp = await applySplitting([1], {
      isOutage,
      backoff: noWait,
      effect: async (items) => {
        if (failuresLeft-- > 0) throw new Error('deadlock');
        applied.push(...items);
      },
    });
    expect(givenUp).toEqual([]);
    expect(applied).toEqual([1]);
  });

  it('throws an outage at once, without splitting or giving anything up', async () => {
    let down = true;
    const { effect, calls } = effectRefusing([3], () => down);
    await expect(applySplitting(range(8), { effect, isOutage, backoff: noWait })).rejects.toThrow(
      OutageError,
    );
    expect(calls).toEqual([range(8)]);
    down = false;
    const again = await applySplitting(range(8), { effect, isOutage, backoff: noWait });
    expect(again.map(({ item }) => item)).toEqual([3]);
  });

  it('throws an outage met while retrying a single item', async () => {
    let calls = 0;
    await expect(
      applySplitting([1], {
        backoff: noWait,
        isOutage,
        effect: async () => {
          calls++;
          throw calls === 1 ? new Error('refused') : new OutageError('gone');
        },
      }),
    ).rejects.toThrow('gone');
  });
});
