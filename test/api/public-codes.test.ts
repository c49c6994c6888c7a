import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  createStack,
  drained,
  policyBody,
  type Stack,
  settledJob,
  user,
} from '../support/stack.js';

/** A fresh public code, so tests never clash with each other. */
const freshCode = (prefix = 'pc') => `${prefix}-${randomBytes(4).toString('hex')}`;

/**
 * A CODE policy's public code: any user redeems it, each within the quota and the per-user limit;
 * matched without regard to case, unique among policies, and gated at intake once sold out.
 */
describe('public codes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  async function codePolicy(publicCode: string, overrides: Record<string, unknown> = {}) {
    const res = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'CODE', publicCode, ...overrides }),
    );
    expect(res.status).toBe(201);
    return res.body;
  }

  async function redeem(sub: string, code: string, headers?: Record<string, string>) {
    const res = await stack.request('POST', '/v1/issuances', user(sub), { code }, headers);
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  }

  it('shows the public code uppercased, dashes kept; null without one', async () => {
    const code = freshCode('bf');
    const policy = await codePolicy(code);
    expect(policy.publicCode).toBe(code.toUpperCase());
    const read = await stack.request('GET', `/v1/policies/${policy.id}`, user('reader'));
    expect(read.body.publicCode).toBe(code.toUpperCase());
    const plain = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    expect(plain.body.publicCode).toBeNull();
  });

  it('refuses a public code another policy has, whatever its case (409)', async () => {
    const code = freshCode();
    await codePolicy(code.toUpperCase());
    const clash = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'CODE', publicCode: code.toLowerCase() }),
    );
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('CONFLICT');
  });

  it('refuses a bad pattern, and a public code on a DIRECT policy (400)', async () => {
    await codePolicy(freshCode('ok'));
    for (const publicCode of ['abc', 'A'.repeat(33), 'BF 2026', 'BF_2026', 'BFÄ2026']) {
      const res = await stack.request(
        'POST',
        '/v1/policies',
        ADMIN,
        policyBody({ issueType: 'CODE', publicCode }),
      );
      expect(res.status, publicCode).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const direct = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'DIRECT', publicCode: freshCode() }),
    );
    expect(direct.status).toBe(400);
    expect(JSON.stringify(direct.body.error.details)).toContain('publicCode');
  });

  it('issues a coupon for the code typed in lower case, within the per-user limit', async () => {
    const code = freshCode('Sale');
    const policy = await codePolicy(code.toUpperCase(), { perUserLimit: 2, totalQuantity: 10 });
    const first = await settledJob(
      stack,
      await redeem('pc-alice', code.toLowerCase()),
      user('pc-alice'),
    );
    expect(first.state).toBe('completed');
    expect(first.result.coupon).toMatchObject({ policyId: policy.id, userId: 'pc-alice' });
    const second = await settledJob(stack, await redeem('pc-alice', code), user('pc-alice'));
    expect(second.state).toBe('completed');
    const third = await settledJob(stack, await redeem('pc-alice', code), user('pc-alice'));
    expect(third.error.code).toBe('PER_USER_LIMIT_REACHED');
    const other = await settledJob(stack, await redeem('pc-bob', code), user('pc-bob'));
    expect(other.state).toBe('completed');
    const read = await stack.request('GET', `/v1/policies/${policy.id}`, ADMIN);
    expect(read.body.issuedCount).toBe(3);
  });

  it('fails an unknown public code with CODE_INVALID', async () => {
    await codePolicy(freshCode());
    const job = await settledJob(stack, await redeem('pc-guess', freshCode()), user('pc-guess'));
    expect(job.error.code).toBe('CODE_INVALID');
  });

  it('answers at intake once the quota is gone, without Idempotency-Key only', async () => {
    const code = freshCode('gone');
    const policy = await codePolicy(code, { totalQuantity: 2 });
    const queued = async () => {
      const counts = await stack.queues.issuance.getJobCounts(
        'completed',
        'failed',
        'waiting',
        'active',
        'delayed',
      );
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    };
    const before = await queued();
    for (let i = 0; i < 3; i++) await redeem(`gone-${policy.id}-${i}`, code);
    // The third failed QUOTA_EXHAUSTED in the worker, which then marked the public code.
    await drained(stack.queues.issuance, before + 3);

    // Each API process reads the mark at most every 250 ms: ask until one is answered at intake.
    let answered: { jobId: string; sub: string } | undefined;
    const deadline = Date.now() + 5000;
    for (let i = 0; !answered && Date.now() < deadline; i++) {
      const jobsBefore = await queued();
      const sub = `late-${policy.id}-${i}`;
      const jobId = await redeem(sub, code.toLowerCase());
      if ((await queued()) === jobsBefore) answered = { jobId, sub };
    }
    expect(answered, 'no request was answered at intake within 5 s').toBeDefined();
    const { jobId, sub } = answered as { jobId: string; sub: string };
    expect(jobId).toMatch(/^iss_/);
    const job = await stack.request('GET', `/v1/jobs/${jobId}`, user(sub));
    expect(job.body).toMatchObject({ state: 'failed', error: { code: 'QUOTA_EXHAUSTED' } });

    const keyedBefore = await queued();
    const keyed = await redeem('keyed-late', code, { 'idempotency-key': `k-${policy.id}` });
    expect(await queued()).toBe(keyedBefore + 1);
    expect((await settledJob(stack, keyed, user('keyed-late'))).error.code).toBe('QUOTA_EXHAUSTED');

    // A status change forgets the mark: the worker decides again (POLICY_NOT_ACTIVE).
    const patched = await stack.request('PATCH', `/v1/policies/${policy.id}`, ADMIN, {
      status: 'INACTIVE',
    });
    expect(patched.status).toBe(200);
    const patchedBefore = await queued();
    const afterPatch = await redeem('after-patch', code);
    expect(await queued()).toBe(patchedBefore + 1);
    expect((await settledJob(stack, afterPatch, user('after-patch'))).error.code).toBe(
      'POLICY_NOT_ACTIVE',
    );

    const coupons = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>('select count(*)::int as n from coupons where policy_id = ?', [
        policy.id,
      ]);
    expect(coupons[0]?.n).toBe(2);
  });
});
