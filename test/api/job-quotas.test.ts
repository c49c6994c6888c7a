import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, type Stack, settledJob, user } from '../support/stack.js';

/**
 * What one caller can keep in Redis is bounded: requests that make jobs per user and day, actions
 * per user and coupon and hour (a reserve/release loop). Past either: 429 with Retry-After.
 */
describe('per-caller job limits', () => {
  let stack: Stack;
  let policyId: string;
  beforeAll(async () => {
    stack = await createStack({ CALLER_DAILY_JOB_LIMIT: '12', COUPON_ACTION_LIMIT: '4' });
    policyId = await stack.createPolicy({ totalQuantity: 100, perUserLimit: 100 });
  });
  afterAll(() => stack.close());

  const issue = (as: [string, 'admin' | 'user'], userId?: string) =>
    stack.request('POST', '/v1/issuances', as, { policyId, ...(userId && { userId }) });

  it('limits one user’s jobs a day, not another user’s, nor an admin’s', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) statuses.push((await issue(user('greedy'))).status);
    expect(statuses.slice(0, 12)).toEqual(Array(12).fill(202));
    const refused = await issue(user('greedy'));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    // Reads are not jobs.
    expect((await stack.request('GET', '/v1/coupons', user('greedy'))).status).toBe(200);
    expect((await issue(user('modest'))).status).toBe(202);
    for (let i = 0; i < 15; i++) expect((await issue(ADMIN, 'for-someone')).status).toBe(202);
  });

  it('limits a user’s actions on one coupon an hour: a reserve/release loop ends in 429', async () => {
    stack.startWorkers();
    const issued = await issue(ADMIN, 'looper');
    const couponId = (await settledJob(stack, issued.body.jobId)).result.coupon.id as string;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (const action of ['reserve', 'release']) {
        const res = await stack.request(
          'POST',
          `/v1/coupons/${couponId}/${action}`,
          user('looper'),
          {
            orderId: 'o-loop',
            ...(action === 'reserve' && { orderAmount: 30000 }),
          },
        );
        statuses.push(res.status);
      }
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    // The validate dry run makes no job and is not counted.
    const dryRun = await stack.request('POST', `/v1/coupons/${couponId}/validate`, user('looper'), {
      orderAmount: 30000,
    });
    expect(dryRun.status).toBe(200);
  });
});
