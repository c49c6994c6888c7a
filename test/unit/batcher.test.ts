import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/workers/batcher.js';

function deferred() {
  let release = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('the group-commit batcher', () => {
  it('gives each submitter its own result, in order', async () => {
    const batcher = createBatcher<number, number>({
      maxSize: 10,
      maxWaitMs: 1,
      run: async (xs) => xs.map((x) => x * 2),
    });
    expect(await Promise.all([1, 2, 3].map((x) => batcher.submit(x)))).toEqual([2, 4, 6]);
  });

  it('merges what arrives while a group runs into the next group, never above maxSize', async () => {
    const groups: number[][] = [];
    const gate = deferred();
    const batcher = createBatcher<number, number>({
      maxSize: 3,
      maxWaitMs: 1,
      run: async (xs) => {
        groups.push(xs);
        if (groups.length === 1) await gate.promise;
        return xs;
      },
    });
    const first = batcher.submit(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const rest = [1, 2, 3, 4, 5].map((x) => batcher.submit(x));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(groups).toEqual([[0]]);
    gate.release();
    expect(await Promise.all([first, ...rest])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(groups).toEqual([[0], [1, 2, 3], [4, 5]]);
  });

  it('fails every item of a group whose run throws, and goes on with the next group', async () => {
    let calls = 0;
    const batcher = createBatcher<number, number>({
      maxSize: 2,
      maxWaitMs: 1,
      run: async (xs) => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
        return xs;
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((x) => batcher.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    await batcher.drain();
  });
});
