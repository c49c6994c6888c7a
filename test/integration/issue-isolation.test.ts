import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssueJobData } from '../../src/infra/queue/jobs.js';
import { ADMIN, createStack, drained, policyBody, type Stack } from '../support/stack.js';

const POISONED = 'poisoned-user';

/**
 * One job PostgreSQL refuses, among 500 committed as groups by a real worker: the others complete
 * on their first attempt and the bad one ends alone.
 */
describe('a commit group isolates a failing job', () => {
  let stack: Stack;
  let policyId: string;
  const jobData = (userId: string): IssueJobData => ({
    type: 'ISSUE',
    actor: 'admin-1',
    userId,
    policyId,
  });
  const couponCount = async () =>
    (
      await stack.db.orm.em
        .fork()
        .execute<{ n: number }[]>('select count(*)::int as n from coupons where policy_id = ?', [
          policyId,
        ])
    )[0]?.n;

  beforeAll(async () => {
    stack = await createStack({
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '50',
      ISSUE_BATCH_MAX: '500',
      ISSUE_BATCH_WAIT_MS: '200',
    });
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 1000 }),
    );
    policyId = created.body.id;
    // Only in this test's own database: a row PostgreSQL refuses, as a NUL once was.
    await stack.db.orm.em
      .getConnection()
      .execute(`alter table coupons add constraint test_poison check (user_id <> '${POISONED}')`);
  });
  afterAll(() => stack.close());

  it('completes the 499 others on their first attempt; the poisoned job fails alone', async () => {
    const jobs = Array.from({ length: 500 }, (_, i) => ({
      name: 'job',
      data: jobData(i === 250 ? POISONED : `user-${i}`),
      opts: { jobId: `iss_isolation_${i}` },
    }));
    // Planted straight on the queue before any worker runs, so they meet in the same groups.
    await stack.queues.issuance.addBulk(jobs);
    stack.startWorkers();
    await drained(stack.queues.issuance, 500);

    const completed = await stack.queues.issuance.getJobs(['completed'], 0, -1);
    expect(completed).toHaveLength(499);
    expect(completed.filter((job) => job.attemptsStarted !== 1).map((job) => job.id)).toEqual([]);
    const [failed] = await stack.queues.issuance.getJobs(['failed'], 0, -1);
    expect(failed?.id).toBe('iss_isolation_250');
    // Retried alone (a constraint may be lifted), then failed: INTERNAL for the client.
    expect(failed?.attemptsMade).toBe(2);
    expect(await couponCount()).toBe(499);
  });

  it('answers a job id that comes back (its Idempotency-Key record expired) from its coupon', async () => {
    const first = await stack.queues.issuance.getJob('iss_isolation_7');
    const couponId = (first?.returnvalue as { coupon: { id: string } } | undefined)?.coupon.id;
    await first?.remove();
    // The same job id afresh, in a group with new jobs.
    await stack.queues.issuance.addBulk([
      ...Array.from({ length: 20 }, (_, i) => ({
        name: 'job',
        data: jobData(`late-${i}`),
        opts: { jobId: `iss_late_${i}` },
      })),
      { name: 'job', data: jobData('user-7'), opts: { jobId: 'iss_isolation_7' } },
    ]);
    await drained(stack.queues.issuance, 520);
    const again = await stack.queues.issuance.getJob('iss_isolation_7');
    expect(again?.finishedOn).toBeDefined();
    expect(again?.returnvalue).toMatchObject({ coupon: { id: couponId, userId: 'user-7' } });
    expect(again?.attemptsStarted).toBe(1);
    const late = await stack.queues.issuance.getJobs(['completed'], 0, -1);
    expect(
      late.filter((job) => job.id?.startsWith('iss_late_') && job.attemptsStarted === 1),
    ).toHaveLength(20);
    expect(await couponCount()).toBe(519);
  });

  it('answers it from its coupon also where the user could hold another one', async () => {
    // perUserLimit 5: the repeat passes every rule, and the unique issue_job_id refuses its insert.
    const roomy = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 100, perUserLimit: 5 }),
    );
    const data = { ...jobData('roomy-user'), policyId: roomy.body.id };
    await stack.queues.issuance.add('job', data, { jobId: 'iss_roomy' });
    await drained(stack.queues.issuance, 521);
    const first = await stack.queues.issuance.getJob('iss_roomy');
    const couponId = (first?.returnvalue as { coupon: { id: string } } | undefined)?.coupon.id;
    await first?.remove();
    await stack.queues.issuance.addBulk([
      ...Array.from({ length: 10 }, (_, i) => ({
        name: 'job',
        data: { ...jobData(`roomy-${i}`), policyId: roomy.body.id },
        opts: { jobId: `iss_roomy_${i}` },
      })),
      { name: 'job', data, opts: { jobId: 'iss_roomy' } },
    ]);
    await drained(stack.queues.issuance, 531);
    const again = await stack.queues.issuance.getJob('iss_roomy');
    expect(again?.returnvalue).toMatchObject({ coupon: { id: couponId } });
    expect(again?.attemptsStarted).toBe(1);
    const others = await stack.queues.issuance.getJobs(['completed'], 0, -1);
    expect(
      others.filter((job) => job.id?.startsWith('iss_roomy_') && job.attemptsStarted === 1),
    ).toHaveLength(10);
  });
});
