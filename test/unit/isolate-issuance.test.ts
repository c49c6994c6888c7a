import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isolateFailures } from '../../src/app/isolate.js';

/** Issuance's use of the one halving helper: an item that failed alone runs `again` once. */
const runIsolating = <I, O>(
  items: I[],
  options: {
    run: (items: I[]) => Promise<O[]>;
    itemCaused: (error: unknown) => boolean;
    again?: (item: I) => I | undefined;
  },
) =>
  isolateFailures(items, {
    run: options.run,
    itemCaused: options.itemCaused,
    again: (item, failures) => (failures === 1 ? options.again?.(item) : undefined),
  });

class ItemError extends Error {}

/** A group runner that fails whenever its group holds a poisoned item, as a transaction would. */
function runner(poisoned: Set<number>) {
  const runs: number[][] = [];
  const committed: number[] = [];
  return {
    runs,
    committed,
    run: async (items: number[]) => {
      runs.push(items);
      const bad = items.find((item) => poisoned.has(item));
      if (bad !== undefined) throw new ItemError(`item ${bad}`);
      committed.push(...items);
      return items.map((item) => item * 10);
    },
  };
}

describe('isolateFailures, as issuance runs its groups', () => {
  it('commits every item but the poisoned ones, in order, each poisoned one failing alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 600 }),
        fc.uniqueArray(fc.nat(599), { maxLength: 4 }),
        async (size, poison) => {
          const items = Array.from({ length: size }, (_, i) => i);
          const poisoned = new Set(poison.filter((p) => p < size));
          const r = runner(poisoned);
          const settled = await runIsolating(items, {
            run: r.run,
            itemCaused: (e) => e instanceof ItemError,
          });
          expect(settled).toHaveLength(size);
          settled.forEach((result, i) => {
            if (poisoned.has(i)) expect(result.ok).toBe(false);
            else expect(result).toEqual({ ok: true, value: i * 10 });
          });
          expect(r.committed).toEqual(items.filter((i) => !poisoned.has(i)));
          // About two runs per halving and poisoned item, never one per item.
          expect(r.runs.length).toBeLessThanOrEqual(
            1 + poisoned.size * 2 * Math.ceil(Math.log2(size + 1)),
          );
        },
      ),
    );
  });

  it('fails the whole group at once on an outage (every job retries)', async () => {
    const outage = new Error('connect ECONNREFUSED');
    let runs = 0;
    await expect(
      runIsolating([1, 2, 3], {
        run: async () => {
          runs += 1;
          throw outage;
        },
        itemCaused: (e) => e instanceof ItemError,
      }),
    ).rejects.toBe(outage);
    expect(runs).toBe(1);
  });

  it('runs an item that failed alone once more as `again` makes it', async () => {
    const seen: string[] = [];
    const settled = await runIsolating(['a', 'b', 'dup'], {
      run: async (items) => {
        seen.push(items.join(','));
        if (items.includes('dup')) throw new ItemError('unique');
        return items.map((item) => `${item}!`);
      },
      itemCaused: (e) => e instanceof ItemError,
      again: (item) => (item === 'dup' ? 'dup-lookup' : undefined),
    });
    expect(settled).toEqual([
      { ok: true, value: 'a!' },
      { ok: true, value: 'b!' },
      { ok: true, value: 'dup-lookup!' },
    ]);
    expect(seen).toEqual(['a,b,dup', 'a,b', 'dup', 'dup-lookup']);
  });
});
