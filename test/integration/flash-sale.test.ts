import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { workerProcesses } from '../support/process.js';
import { ADMIN, createStack, drained, policyBody, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/**
 * The flash sale, with the workers as separate OS processes (as a deployment runs them): the quota
 * must hold exactly however the jobs are spread, and through a worker killed mid-sale.
 */
describe('flash sale across worker processes', () => {
  let stack: Stack;
  const workers = workerProcesses(() => stack.envVars);
  beforeAll(async () => {
    stack = await createStack();
  });
  afterEach(() => workers.stopAll());
  afterAll(() => stack.close());

  const worker = () => workers.start();

  /** Every user presses "get coupon" at once; resolves when all requests were answered 202. */
  async function rush(policyId: string, users: number, tag: string): Promise<string[]> {
    const answers = await Promise.all(
      Array.from({ length: users }, async (_, i) => {
        const res = await stack.app.request('/v1/issuances', {
          method: 'POST',
          headers: await authHeaders(`${tag}-${i}`),
          body: JSON.stringify({ policyId }),
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { jobId: string }).jobId;
      }),
    );
    return answers;
  }

  async function outcome(policyId: string, jobIds: string[]) {
    const failedReasons = (await stack.queues.issuance.getFailed(0, -1))
      .filter((job) => jobIds.includes(job.id as string))
      .map((job) => job.failedReason.split(':')[0]);
    const completed = (await stack.queues.issuance.getCompleted(0, -1)).filter((job) =>
      jobIds.includes(job.id as string),
    );
    const connection = stack.db.orm.em.getConnection();
    const [db] = await connection.execute<
      { coupons: number; users: number; issued: number; events: number }[]
    >(
      `select (select count(*)::int from coupons where policy_id = ?) as coupons,
              (select count(distinct user_id)::int from coupons where policy_id = ?) as users,
              (select issued_count from coupon_policies where id = ?) as issued,
              (select count(*)::int from outbox o join coupons c on c.id::text = o.message_key
                where c.policy_id = ?) as events`,
      [policyId, policyId, policyId, policyId],
    );
    const couponIds = new Set(
      completed.map((job) => (job.returnvalue as { coupon: { id: string } }).coupon.id),
    );
    return { failedReasons, completed: completed.length, couponIds, db };
  }

  it('issues exactly 500 of 500 to 2,000 users racing, through two worker processes', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 500 }),
    );
    await Promise.all([worker(), worker()]);
    const jobIds = await rush(policy.id, 2000, 'sale');
    await drained(stack.queues.issuance, 2000, 120_000);

    const result = await outcome(policy.id, jobIds);
    expect(result.completed).toBe(500);
    expect(result.couponIds.size).toBe(500);
    expect(result.failedReasons).toHaveLength(1500);
    expect(new Set(result.failedReasons)).toEqual(new Set(['QUOTA_EXHAUSTED']));
    expect(result.db).toEqual({ coupons: 500, users: 500, issued: 500, events: 500 });
  });

  it('keeps the count exact when a worker is killed with SIGKILL mid-sale and two others take over', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 1000 }),
    );
    // All 3,000 requests are queued first, so the kill lands while the sale is in full swing.
    const jobIds = await rush(policy.id, 3000, 'crash');
    // The victim runs alone until it is mid-sale, so every active job is one it holds when killed.
    const victim = await worker();
    for (;;) {
      const counts = await stack.queues.issuance.getJobCounts('completed', 'failed', 'active');
      const finished = (counts.completed ?? 0) + (counts.failed ?? 0) - 2000; // the first test's
      expect(finished, 'the sale ended before the kill').toBeLessThan(3000);
      if (finished >= 300 && (counts.active ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await victim.stop('SIGKILL')).toBe('SIGKILL');
    await Promise.all([worker(), worker()]);
    await drained(stack.queues.issuance, 3000 + 2000 /* the first test's jobs */, 120_000);

    const result = await outcome(policy.id, jobIds);
    expect(result.completed).toBe(1000);
    expect(result.couponIds.size).toBe(1000);
    expect(result.failedReasons).toHaveLength(2000);
    expect(new Set(result.failedReasons)).toEqual(new Set(['QUOTA_EXHAUSTED']));
    expect(result.db).toEqual({ coupons: 1000, users: 1000, issued: 1000, events: 1000 });
    // The victim's jobs were recovered as stalled, not lost or failed.
    const all = [
      ...(await stack.queues.issuance.getCompleted(0, -1)),
      ...(await stack.queues.issuance.getFailed(0, -1)),
    ];
    const recovered = all.filter(
      (job) => jobIds.includes(job.id as string) && job.stalledCounter > 0,
    );
    expect(recovered.length).toBeGreaterThan(0);
  });
});
