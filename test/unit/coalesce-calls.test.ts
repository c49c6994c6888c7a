import { describe, expect, it } from 'vitest';
import { coalesceCalls } from '../../src/infra/coalesce-calls.js';

describe('coalesceCalls', () => {
  it('hands the calls of one event-loop turn to one flush, each settling with its own result', async () => {
    const flushes: number[][] = [];
    const double = coalesceCalls(async (items: number[]) => {
      flushes.push(items);
      return items.map((n) => n * 2);
    });
    const first = await Promise.all([1, 2, 3].map(double));
    expect(first).toEqual([2, 4, 6]);
    // A later turn is a batch of its own.
    expect(await double(10)).toBe(20);
    expect(flushes).toEqual([[1, 2, 3], [10]]);
  });

  it('rejects every call of a failed batch, and the next turn starts afresh', async () => {
    let fail = true;
    const write = coalesceCalls(async (items: string[]) => {
      if (fail) throw new Error('Redis is down');
      return items.map(() => 'ok');
    });
    const failed = await Promise.allSettled(['a', 'b'].map(write));
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason.message).toBe('Redis is down');
    fail = false;
    expect(await write('c')).toBe('ok');
  });

  it('puts a call made while a flush is in flight into the next batch', async () => {
    const flushes: string[][] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const write = coalesceCalls(async (items: string[]) => {
      flushes.push(items);
      if (items.includes('a')) await gate;
      return items;
    });
    const a = write('a');
    await new Promise((resolve) => setImmediate(resolve));
    const b = write('b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushes).toEqual([['a'], ['b']]);
    expect(await b).toBe('b');
    release();
    expect(await a).toBe('a');
  });
});
