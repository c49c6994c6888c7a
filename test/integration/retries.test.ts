import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, drained, policyBody, type Stack, user } from '../support/stack.js';

describe('failures: business rejections are final, outages are retried', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '20' });
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  it('does not retry a QUOTA_EXHAUSTED job', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 1 }),
    );
    await stack.request('POST', '/v1/issuances', user('a'), { policyId: policy.id });
    const { body } = await stack.request('POST', '/v1/issuances', user('b'), {
      policyId: policy.id,
    });
    await drained(stack.queues.issuance, 2);
    const job = await stack.queues.issuance.getJob(body.jobId);
    expect(job?.failedReason).toMatch(/^QUOTA_EXHAUSTED: /);
    expect(job?.attemptsMade).toBe(1);
  });

  it('retries a database failure with backoff, then fails with INTERNAL and no internals', async () => {
    const { body: policy } = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    const db = stack.db.orm.em.getConnection();
    // A real outage of the table the worker writes: every attempt fails inside PostgreSQL.
    await db.execute('alter table coupon_history rename to coupon_history_away');
    try {
      const { body } = await stack.request('POST', '/v1/issuances', user('c'), {
        policyId: policy.id,
      });
      for (;;) {
        const job = await stack.queues.issuance.getJob(body.jobId);
        if (job?.finishedOn) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const job = await stack.queues.issuance.getJob(body.jobId);
      expect(job?.attemptsMade).toBe(3);
      const res = await stack.request('GET', `/v1/jobs/${body.jobId}`, user('c'));
      expect(res.body).toMatchObject({ state: 'failed', error: { code: 'INTERNAL' } });
      expect(JSON.stringify(res.body)).not.toMatch(/coupon_history|relation|insert|select/i);
      const [count] = await db.execute<{ n: number }[]>(
        'select count(*)::int as n from coupons where policy_id = ?',
        [policy.id],
      );
      expect(count?.n).toBe(0);
    } finally {
      await db.execute('alter table coupon_history_away rename to coupon_history');
    }
    // Once the outage is over the same request goes through.
    const { body } = await stack.request('POST', '/v1/issuances', user('c'), {
      policyId: policy.id,
    });
    await drained(stack.queues.issuance, 4);
    expect((await stack.request('GET', `/v1/jobs/${body.jobId}`, user('c'))).body.state).toBe(
      'completed',
    );
  });
});
