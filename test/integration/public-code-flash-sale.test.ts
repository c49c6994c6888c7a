import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { workerProcesses } from '../support/process.js';
import { ADMIN, createStack, drained, policyBody, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/**
 * A flash sale through one public code, with the workers as separate OS processes: the quota holds
 * exactly, as it does for a DIRECT policy.
 */
describe('public code flash sale across worker processes', () => {
  let stack: Stack;
  const workers = workerProcesses(() => stack.envVars);
  beforeAll(async () => {
    stack = await createStack();
  });
  afterEach(() => workers.stopAll());
  afterAll(() => stack.close());

  const worker = () => workers.start();

  it('issues exactly 50 of 50 to 200 users redeeming one public code, through two workers', async () => {
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'CODE', publicCode: 'FLASH-2026', totalQuantity: 50 }),
    );
    expect(created.status).toBe(201);
    const policyId = created.body.id as string;
    await Promise.all([worker(), worker()]);
    const jobIds = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await stack.app.request('/v1/issuances', {
          method: 'POST',
          headers: await authHeaders(`flash-${i}`),
          body: JSON.stringify({ code: 'flash-2026' }),
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { jobId: string }).jobId;
      }),
    );
    await drained(stack.queues.issuance, 200, 120_000);

    const failed = (await stack.queues.issuance.getFailed(0, -1))
      .filter((job) => jobIds.includes(job.id as string))
      .map((job) => job.failedReason.split(':')[0]);
    const completed = (await stack.queues.issuance.getCompleted(0, -1)).filter((job) =>
      jobIds.includes(job.id as string),
    );
    expect(completed).toHaveLength(50);
    expect(failed).toHaveLength(150);
    expect(new Set(failed)).toEqual(new Set(['QUOTA_EXHAUSTED']));
    const [db] = await stack.db.orm.em
      .getConnection()
      .execute<{ coupons: number; users: number; issued: number }[]>(
        `select (select count(*)::int from coupons where policy_id = ?) as coupons,
              (select count(distinct user_id)::int from coupons where policy_id = ?) as users,
              (select issued_count from coupon_policies where id = ?) as issued`,
        [policyId, policyId, policyId],
      );
    expect(db).toEqual({ coupons: 50, users: 50, issued: 50 });
  });
});
