import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../support/metrics.js';
import { waitFor } from '../support/payments.js';
import { createStack, type Stack, settledJob, user } from '../support/stack.js';

/**
 * Guessing codes is limited: a caller whose codes failed CODE_INVALID more than CODE_ATTEMPT_MAX
 * times in the window gets 429 for further code requests, before any job is made.
 */
describe('the code-guessing limit', () => {
  let stack: Stack;
  let policyId: string;
  beforeAll(async () => {
    stack = await createStack({ CODE_ATTEMPT_MAX: '3', CODE_ATTEMPT_WINDOW_MS: '60000' });
    stack.startWorkers();
    policyId = await stack.createPolicy({ totalQuantity: 100, perUserLimit: 10 });
  });
  afterAll(() => stack.close());

  const guess = (who: string, code = 'WRONGCODE123') =>
    stack.request('POST', '/v1/issuances', user(who), { code });

  it('refuses a guesser’s code requests past the limit, not its other requests, nor other callers', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await guess('guesser', `WRONGCODE${i}`);
      expect(res.status).toBe(202);
      expect((await settledJob(stack, res.body.jobId, user('guesser'))).error.code).toBe(
        'CODE_INVALID',
      );
    }
    const jobsBefore = await stack.queues.issuance.count();
    const refused = await guess('guesser');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await stack.queues.issuance.count()).toBe(jobsBefore);

    expect(
      (await stack.request('POST', '/v1/issuances', user('guesser'), { policyId })).status,
    ).toBe(202);
    expect((await guess('honest')).status).toBe(202);
    await waitFor('the counts', async () => {
      const { samples } = await scrape(stack.app);
      return (
        samples.get('coupon_code_attempts_total{outcome="CODE_INVALID"}') === 5 &&
        samples.get('coupon_code_attempts_total{outcome="RATE_LIMITED"}') === 1
      );
    });
  });
});
