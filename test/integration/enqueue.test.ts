import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { addsWithGatheredWrites } from '../../src/infra/queue/enqueue.js';
import { gatherSocketWrites } from '../../src/infra/redis/gather-socket-writes.js';
import { services, uniqueName, unreachableRedis } from '../support/services.js';

describe('addsWithGatheredWrites', () => {
  const redis = new Redis(services().redisUrl, { maxRetriesPerRequest: null });
  const prefix = uniqueName('enqueue');
  const queue = new Queue<{ n: number }>('issuance', {
    connection: redis,
    prefix,
    defaultJobOptions: { attempts: 3, removeOnComplete: { age: 60 } },
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it('sends the adds of one turn in one write, each job under its id with the queue’s options', async () => {
    const sink = addsWithGatheredWrites(queue, redis);
    await queue.waitUntilReady();
    const ids = Array.from({ length: 40 }, (_, n) => `job-${n}`);
    const adds = ids.map((jobId, n) => sink.add('job', { n }, { jobId }));
    // Corked once for the whole turn; the commands leave when the turn ends.
    expect(redis.stream.writableCorked).toBe(1);
    await Promise.all(adds);
    expect(redis.stream.writableCorked).toBe(0);
    expect(await queue.getWaitingCount()).toBe(40);
    for (const [n, jobId] of ids.entries()) {
      const job = await queue.getJob(jobId);
      expect(job?.data).toEqual({ n });
      expect(job?.opts.attempts).toBe(3);
    }
    // The same id again (an Idempotency-Key repeat) names the job already there.
    await sink.add('job', { n: 99 }, { jobId: 'job-0' });
    expect((await queue.getJob('job-0'))?.data).toEqual({ n: 0 });
    expect(await queue.getWaitingCount()).toBe(40);
  });

  it('corks a connection once per turn, and commands of the turn are answered as usual', async () => {
    await redis.ping();
    gatherSocketWrites(redis);
    gatherSocketWrites(redis);
    expect(redis.stream.writableCorked).toBe(1);
    const answers = Promise.all([redis.set(`${prefix}:k`, 'v'), redis.get(`${prefix}:k`)]);
    expect(await answers).toEqual(['OK', 'v']);
    expect(redis.stream.writableCorked).toBe(0);
    await redis.del(`${prefix}:k`);
  });

  it('rejects each add when Redis cannot take it', async () => {
    const dead = unreachableRedis();
    const deadQueue = new Queue<{ n: number }>('issuance', { connection: dead, prefix });
    deadQueue.on('error', () => undefined);
    try {
      const sink = addsWithGatheredWrites(deadQueue, dead);
      const results = await Promise.allSettled(
        [1, 2, 3].map((n) => sink.add('job', { n }, { jobId: `dead-${n}` })),
      );
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    } finally {
      dead.disconnect();
      await deadQueue.close().catch(() => undefined);
    }
  });
});
