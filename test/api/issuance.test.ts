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

type Res = Awaited<ReturnType<Stack['request']>>;

describe('issuance through the API and one in-process worker', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  async function newPolicy(overrides: Record<string, unknown> = {}) {
    const res = await stack.request('POST', '/v1/policies', ADMIN, policyBody(overrides));
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  /** Polls the job through the API until it is finished, as a client would. */
  const settled = (jobId: string, as: [string, 'admin' | 'user']) => settledJob(stack, jobId, as);

  async function issue(
    body: Record<string, unknown>,
    as: [string, 'admin' | 'user'],
    headers = {},
  ) {
    const res = await stack.request('POST', '/v1/issuances', as, body, headers);
    expect(res.status).toBe(202);
    expect(res.body.statusUrl).toBe(`/v1/jobs/${res.body.jobId}`);
    return settled(res.body.jobId, as);
  }

  it('issues a coupon for the caller and records the issuance in history and outbox', async () => {
    const policy = await newPolicy({ validDaysAfterIssue: 3 });
    const job = await issue({ policyId: policy.id }, user('alice'));
    expect(job).toMatchObject({ type: 'ISSUE', state: 'completed' });
    const coupon = job.result.coupon;
    expect(coupon).toMatchObject({
      policyId: policy.id,
      userId: 'alice',
      status: 'ISSUED',
      usedAt: null,
    });
    const ttl = Date.parse(coupon.expiresAt) - Date.parse(coupon.issuedAt);
    expect(ttl).toBe(3 * 86400_000);

    const read = await stack.request('GET', `/v1/coupons/${coupon.id}`, user('alice'));
    expect(read.body).toEqual(coupon);
    const history = await stack.request('GET', `/v1/coupons/${coupon.id}/history`, user('alice'));
    expect(history.body.items).toEqual([
      { from: null, to: 'ISSUED', actor: 'alice', reason: 'issued', at: expect.any(String) },
    ]);
    const outbox = await stack.db.orm.em
      .getConnection()
      .execute<{ event_type: string; message_key: string }[]>(
        'select * from outbox where message_key = ?',
        [coupon.id],
      );
    expect(outbox.map((row) => row.event_type)).toEqual(['COUPON_ISSUED']);
    expect(
      (await stack.request('GET', `/v1/policies/${policy.id}`, user('alice'))).body.issuedCount,
    ).toBe(1);
  });

  it('lets an admin issue for any user, and forbids a user naming someone else', async () => {
    const policy = await newPolicy();
    const job = await issue({ policyId: policy.id, userId: 'bob' }, ADMIN);
    expect(job.result.coupon.userId).toBe('bob');
    const res = await stack.request('POST', '/v1/issuances', user('mallory'), {
      policyId: policy.id,
      userId: 'bob',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('gives one user at most perUserLimit coupons, with 10 requests at once', async () => {
    const policy = await newPolicy({ perUserLimit: 2, totalQuantity: 50 });
    const accepted = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.request('POST', '/v1/issuances', user('carol'), { policyId: policy.id }),
      ),
    );
    const jobs = await Promise.all(accepted.map((res) => settled(res.body.jobId, user('carol'))));
    expect(jobs.filter((job) => job.state === 'completed')).toHaveLength(2);
    const failed = jobs.filter((job) => job.state === 'failed');
    expect(failed).toHaveLength(8);
    for (const job of failed) expect(job.error.code).toBe('PER_USER_LIMIT_REACHED');
    const list = await stack.request('GET', '/v1/coupons', user('carol'));
    expect(
      list.body.items.filter((c: { policyId: string }) => c.policyId === policy.id),
    ).toHaveLength(2);
  });

  it('lets exactly one of 10 users racing for one code have it', async () => {
    const policy = await newPolicy({ issueType: 'CODE', totalQuantity: 5 });
    const { body } = await stack.request('POST', `/v1/policies/${policy.id}/codes`, ADMIN, {
      count: 1,
    });
    const [code] = body.codes as string[];
    const users = Array.from({ length: 10 }, (_, i) => user(`racer-${i}`));
    const accepted = await Promise.all(
      users.map((u) => stack.request('POST', '/v1/issuances', u, { code })),
    );
    const jobs = await Promise.all(accepted.map((res, i) => settled(res.body.jobId, users[i]!)));
    expect(jobs.filter((job) => job.state === 'completed')).toHaveLength(1);
    const losers = jobs.filter((job) => job.state === 'failed');
    expect(losers).toHaveLength(9);
    for (const job of losers) expect(job.error.code).toBe('CODE_ALREADY_USED');
    // Typed with dashes and lower case, it is the same (already used) code.
    const again = await issue(
      { code: `${code!.slice(0, 4).toLowerCase()}-${code!.slice(4)}` },
      user('late'),
    );
    expect(again.error.code).toBe('CODE_ALREADY_USED');
  });

  it('answers the same Idempotency-Key five times at once with one job and one coupon', async () => {
    const policy = await newPolicy({ perUserLimit: 5 });
    const headers = { 'Idempotency-Key': 'order-42-coupon' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        stack.request('POST', '/v1/issuances', user('dave'), { policyId: policy.id }, headers),
      ),
    );
    for (const res of answers) expect(res.status).toBe(202);
    const jobIds = new Set(answers.map((res) => res.body.jobId));
    expect(jobIds.size).toBe(1);
    const job = await settled([...jobIds][0] as string, user('dave'));
    expect(job.state).toBe('completed');
    const repeat = await stack.request(
      'POST',
      '/v1/issuances',
      user('dave'),
      { policyId: policy.id },
      headers,
    );
    expect(repeat.body.jobId).toBe([...jobIds][0]);

    const other = await newPolicy();
    const conflict = await stack.request(
      'POST',
      '/v1/issuances',
      user('dave'),
      { policyId: other.id },
      headers,
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('CONFLICT');
    // The key is the caller's: another user with the same key gets a job of their own.
    const erin = await stack.request(
      'POST',
      '/v1/issuances',
      user('erin'),
      { policyId: policy.id },
      headers,
    );
    expect(erin.body.jobId).not.toBe([...jobIds][0]);

    await drained(stack.queues.issuance, 2);
    const count = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>("select count(*)::int as n from coupons where user_id = 'dave'");
    expect(count[0]?.n).toBe(1);
    const long = await stack.request(
      'POST',
      '/v1/issuances',
      user('dave'),
      { policyId: policy.id },
      {
        'Idempotency-Key': 'k'.repeat(201),
      },
    );
    expect(long.status).toBe(400);
    expect(long.body.error.details[0].field).toBe('header.idempotency-key');
  });

  it.each([
    [
      'QUOTA_EXHAUSTED',
      async (ctx: { newPolicy: typeof newPolicy }) => {
        const policy = await ctx.newPolicy({ totalQuantity: 1 });
        return [{ policyId: policy.id }, { policyId: policy.id }];
      },
    ],
    ['POLICY_NOT_FOUND', async () => [{ policyId: '00000000-0000-7000-8000-00000000beef' }]],
    [
      'POLICY_NOT_ACTIVE',
      async (ctx: { newPolicy: typeof newPolicy }) => {
        const policy = await ctx.newPolicy();
        await stack.request('PATCH', `/v1/policies/${policy.id}`, ADMIN, { status: 'INACTIVE' });
        return [{ policyId: policy.id }];
      },
    ],
    [
      'POLICY_NOT_ACTIVE',
      async (ctx: { newPolicy: typeof newPolicy }) => {
        const policy = await ctx.newPolicy({
          validFrom: new Date(Date.now() + 86400_000).toISOString(),
        });
        return [{ policyId: policy.id }];
      },
    ],
    ['CODE_INVALID', async () => [{ code: 'NOPE-NOPE-NOPE' }]],
    ['CODE_INVALID', async () => [{ code: 'ABCDEFGHJKMN' }]],
    [
      'CODE_INVALID',
      async (ctx: { newPolicy: typeof newPolicy }) => {
        const policy = await ctx.newPolicy({ issueType: 'CODE' });
        return [{ policyId: policy.id }];
      },
    ],
  ])('fails the job, not the request, with %s', async (code, make) => {
    const bodies = await make({ newPolicy });
    let last: Res['body'];
    for (const body of bodies) last = await issue(body as Record<string, unknown>, user('frank'));
    expect(last).toMatchObject({ state: 'failed', error: { code, message: expect.any(String) } });
    expect(last.finishedAt).toEqual(expect.any(String));
  });

  it('keeps jobs and coupons to their owners', async () => {
    const policy = await newPolicy();
    const res = await stack.request('POST', '/v1/issuances', user('gina'), { policyId: policy.id });
    const job = await settled(res.body.jobId, user('gina'));
    const other = user('henry');
    expect((await stack.request('GET', `/v1/jobs/${res.body.jobId}`, other)).status).toBe(403);
    expect((await stack.request('GET', `/v1/jobs/${res.body.jobId}`, ADMIN)).status).toBe(200);
    const couponId = job.result.coupon.id;
    for (const path of [`/v1/coupons/${couponId}`, `/v1/coupons/${couponId}/history`]) {
      const denied = await stack.request('GET', path, other);
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('FORBIDDEN');
      expect((await stack.request('GET', path, ADMIN)).status).toBe(200);
    }
    expect((await stack.request('GET', '/v1/coupons?userId=gina', other)).status).toBe(403);
    const adminList = await stack.request('GET', '/v1/coupons?userId=gina&status=ISSUED', ADMIN);
    expect(adminList.body.items.map((c: { id: string }) => c.id)).toContain(couponId);
    expect((await stack.request('GET', '/v1/coupons?status=WRONG', other)).status).toBe(400);
    expect((await stack.request('GET', '/v1/jobs/iss_nope', other)).status).toBe(404);
    expect((await stack.request('GET', '/v1/jobs/whatever', other)).status).toBe(404);
    expect(
      (await stack.request('GET', '/v1/coupons/00000000-0000-7000-8000-000000000000', other))
        .status,
    ).toBe(404);
  });

  it.each([
    [{}, 'json'],
    [{ policyId: 'not-a-uuid' }, 'json.policyId'],
    [{ policyId: '00000000-0000-7000-8000-000000000000', extra: 1 }, 'json'],
    [{ code: '' }, 'json.code'],
  ])('answers 400 with field details for %j', async (body, field) => {
    const res = await stack.request('POST', '/v1/issuances', user('ivan'), body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|select |insert /i);
  });
});
