import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markSoldOut, SoldOutGate } from '../../src/infra/redis/sold-out.js';
import {
  ADMIN,
  createStack,
  drained,
  policyBody,
  type Stack,
  settledJob,
  user,
} from '../support/stack.js';

/**
 * A sold-out DIRECT policy answers further requests at intake: no queue entry, no transaction, and
 * the job still reads failed with QUOTA_EXHAUSTED, for its owner only.
 */
describe('issuance intake of a sold-out policy', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  async function soldOutPolicy(quota: number) {
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: quota }),
    );
    expect(created.status).toBe(201);
    const policyId = created.body.id as string;
    const before = await stack.queues.issuance.getJobCounts('completed', 'failed');
    const queued = (before.completed ?? 0) + (before.failed ?? 0);
    for (let i = 0; i <= quota; i++) {
      const res = await stack.request('POST', '/v1/issuances', user(`${policyId}-u${i}`), {
        policyId,
      });
      expect(res.status).toBe(202);
    }
    // The last of these failed QUOTA_EXHAUSTED in the worker, which then marked the policy.
    await drained(stack.queues.issuance, queued + quota + 1);
    return policyId;
  }

  async function queuedJobs() {
    const counts = await stack.queues.issuance.getJobCounts(
      'completed',
      'failed',
      'waiting',
      'active',
      'delayed',
    );
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /**
   * Asks as new users until a request is answered without a queue entry: each API process reads
   * the mark at most every 250 ms, so the first requests after the sell-out may still be queued.
   */
  async function answeredAtIntake(policyId: string) {
    const deadline = Date.now() + 5000;
    for (let i = 0; Date.now() < deadline; i++) {
      const jobsBefore = await queuedJobs();
      const sub = `late-${policyId}-${i}`;
      const res = await stack.request('POST', '/v1/issuances', user(sub), { policyId });
      expect(res.status).toBe(202);
      if ((await queuedJobs()) === jobsBefore) return { jobId: res.body.jobId as string, sub };
    }
    throw new Error('no request was answered at intake within 5 s');
  }

  it('answers at intake once the worker has seen the quota run out', async () => {
    const policyId = await soldOutPolicy(2);
    const { jobId, sub } = await answeredAtIntake(policyId);
    expect(jobId).toMatch(/^iss_/);
    // Settled already, with no worker step in between.
    const job = await stack.request('GET', `/v1/jobs/${jobId}`, user(sub));
    expect(job.status).toBe(200);
    expect(job.body).toEqual({
      jobId,
      type: 'ISSUE',
      state: 'failed',
      error: { code: 'QUOTA_EXHAUSTED', message: expect.any(String) },
      createdAt: expect.any(String),
      finishedAt: job.body.createdAt,
    });
    expect((await stack.request('GET', `/v1/jobs/${jobId}`, user('other'))).status).toBe(403);
    expect((await stack.request('GET', `/v1/jobs/${jobId}`, ADMIN)).status).toBe(200);
    const coupons = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>('select count(*)::int as n from coupons where policy_id = ?', [
        policyId,
      ]);
    expect(coupons[0]?.n).toBe(2);
    // Counted like a failed job: every QUOTA_EXHAUSTED in the queue, plus this one.
    const total = await queuedJobs();
    const { failed = 0 } = await drained(stack.queues.issuance, total);
    // Workers add their counts every 200 ms: wait for them to land.
    const line = `coupon_jobs_total{queue="issuance",outcome="QUOTA_EXHAUSTED"} ${failed + 1}`;
    let metrics = '';
    for (let i = 0; i < 100 && !metrics.includes(line); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      metrics = await (await stack.app.request('/metrics')).text();
    }
    expect(metrics).toContain(line);
  });

  it('still queues a request with an Idempotency-Key, and answers it the same', async () => {
    const policyId = await soldOutPolicy(1);
    const jobsBefore = await queuedJobs();
    const res = await stack.request(
      'POST',
      '/v1/issuances',
      user('keyed'),
      { policyId },
      { 'idempotency-key': 'k-1' },
    );
    expect(res.status).toBe(202);
    expect(await queuedJobs()).toBe(jobsBefore + 1);
    const job = await settledJob(stack, res.body.jobId, user('keyed'));
    expect(job.error.code).toBe('QUOTA_EXHAUSTED');
  });

  it('stops answering at intake when the policy is deactivated: the worker says POLICY_NOT_ACTIVE', async () => {
    const policyId = await soldOutPolicy(1);
    await answeredAtIntake(policyId);
    const patched = await stack.request('PATCH', `/v1/policies/${policyId}`, ADMIN, {
      status: 'INACTIVE',
    });
    expect(patched.status).toBe(200);
    const jobsBefore = await queuedJobs();
    const res = await stack.request('POST', '/v1/issuances', user('after-patch'), { policyId });
    expect(await queuedJobs()).toBe(jobsBefore + 1);
    const job = await settledJob(stack, res.body.jobId, user('after-patch'));
    expect(job.error.code).toBe('POLICY_NOT_ACTIVE');
  });

  it('ignores a mark past the end of the policy window, and unmarked policies', async () => {
    const gate = new SoldOutGate(stack.redis, stack.env.QUEUE_PREFIX);
    const ended = '00000000-0000-4000-8000-000000000001';
    const open = '00000000-0000-4000-8000-000000000002';
    await markSoldOut(stack.redis, stack.env.QUEUE_PREFIX, [
      { id: ended, validUntil: new Date(Date.now() - 1000) },
      { id: open, validUntil: new Date(Date.now() + 60_000) },
    ]);
    expect(await gate.soldOut(ended)).toBe(false);
    expect(await gate.soldOut(open)).toBe(true);
    expect(await gate.soldOut('00000000-0000-4000-8000-000000000003')).toBe(false);
  });
});
