import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkerRedis } from '../../src/infra/redis/connection.js';
import { services, uniqueName } from '../support/services.js';

describe('BullMQ on the real Redis', () => {
  const prefix = uniqueName('test');
  const connection = createWorkerRedis({ REDIS_URL: services().redisUrl });
  afterAll(async () => {
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length) await connection.del(...keys);
    await connection.quit();
  });

  it('carries a job from a queue to a worker and its result back', async () => {
    const name = uniqueName('roundtrip');
    const queue = new Queue(name, { connection, prefix });
    // From the stream's start: a job finishing before the first read is still seen.
    const events = new QueueEvents(name, {
      connection: createWorkerRedis({ REDIS_URL: services().redisUrl }),
      prefix,
      lastEventId: '0',
    });
    const worker = new Worker(name, async (job) => ({ doubled: job.data.n * 2 }), {
      connection,
      prefix,
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      const result = await job.waitUntilFinished(events, 30_000);
      expect(result).toEqual({ doubled: 42 });
      expect(await job.getState()).toBe('completed');
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });
});
