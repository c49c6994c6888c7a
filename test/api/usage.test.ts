import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, policyBody, type Stack, settledJob, user } from '../support/stack.js';

type As = [string, 'admin' | 'user'];

describe('coupon usage: reserve, release, use, cancel, validate, statistics', () => {
  let stack: Stack;
  let policyId: string;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
    // 10% up to 5,000 off, from 20,000.
    policyId = await stack.createPolicy({ totalQuantity: 1000, perUserLimit: 100 });
  });
  afterAll(() => stack.close());

  const settled = (jobId: string, as: [string, 'admin' | 'user']) => settledJob(stack, jobId, as);

  async function act(couponId: string, action: string, body: unknown, as: As) {
    const res = await stack.request('POST', `/v1/coupons/${couponId}/${action}`, as, body);
    expect(res.status).toBe(202);
    return settled(res.body.jobId, as);
  }

  async function couponFor(owner: string) {
    const res = await stack.request('POST', '/v1/issuances', user(owner), { policyId });
    const job = await settled(res.body.jobId, user(owner));
    expect(job.state).toBe('completed');
    return job.result.coupon.id as string;
  }

  it('reserves with the discount, refuses a second reservation, releases only for its order, then uses', async () => {
    const id = await couponFor('ann');
    const reserved = await act(id, 'reserve', { orderId: 'o-1', orderAmount: 42000 }, user('ann'));
    expect(reserved).toMatchObject({ type: 'RESERVE', state: 'completed' });
    expect(reserved.result.coupon).toMatchObject({
      status: 'RESERVED',
      orderId: 'o-1',
      discountAmount: 4200,
    });

    expect(
      (await act(id, 'reserve', { orderId: 'o-2', orderAmount: 42000 }, user('ann'))).error.code,
    ).toBe('COUPON_NOT_USABLE');
    expect((await act(id, 'release', { orderId: 'o-2' }, user('ann'))).error.code).toBe(
      'ORDER_MISMATCH',
    );
    expect(
      (await act(id, 'use', { orderId: 'o-2', orderAmount: 42000 }, user('ann'))).error.code,
    ).toBe('ORDER_MISMATCH');
    expect((await act(id, 'release', { orderId: 'o-1' }, user('ann'))).result.coupon.status).toBe(
      'ISSUED',
    );
    const used = await act(id, 'use', { orderId: 'o-3', orderAmount: 100000 }, user('ann'));
    expect(used.result.coupon).toMatchObject({
      status: 'USED',
      orderId: 'o-3',
      discountAmount: 5000,
    });
    expect(used.result.coupon.usedAt).toEqual(expect.any(String));
    expect(
      (await act(id, 'use', { orderId: 'o-3', orderAmount: 100000 }, user('ann'))).error.code,
    ).toBe('COUPON_NOT_USABLE');

    const history = await stack.request('GET', `/v1/coupons/${id}/history`, user('ann'));
    expect(
      history.body.items.map((h: { from: string; to: string; actor: string }) => [
        h.from,
        h.to,
        h.actor,
      ]),
    ).toEqual([
      [null, 'ISSUED', 'ann'],
      ['ISSUED', 'RESERVED', 'ann'],
      ['RESERVED', 'ISSUED', 'ann'],
      ['ISSUED', 'USED', 'ann'],
    ]);
  });

  it('refuses orders under the minimum, expired coupons, unknown coupons and other users', async () => {
    const id = await couponFor('bea');
    expect(
      (await act(id, 'reserve', { orderId: 'o', orderAmount: 19999 }, user('bea'))).error.code,
    ).toBe('MIN_ORDER_AMOUNT_NOT_MET');
    const other = await stack.request('POST', `/v1/coupons/${id}/reserve`, user('eve'), {
      orderId: 'o',
      orderAmount: 1,
    });
    expect(other.status).toBe(403);
    const missing = await stack.request(
      'POST',
      '/v1/coupons/00000000-0000-7000-8000-000000000000/use',
      user('bea'),
      {
        orderId: 'o',
        orderAmount: 1,
      },
    );
    expect(missing.status).toBe(404);
    expect(
      (
        await stack.request('POST', `/v1/coupons/${id}/use`, user('bea'), {
          orderId: 'o',
          orderAmount: -1,
        })
      ).status,
    ).toBe(400);

    await stack.db.orm.em
      .getConnection()
      .execute("update coupons set expires_at = now() - interval '1 second' where id = ?", [id]);
    expect(
      (await act(id, 'use', { orderId: 'o', orderAmount: 30000 }, user('bea'))).error.code,
    ).toBe('COUPON_EXPIRED');
    const dry = await stack.request('POST', `/v1/coupons/${id}/validate`, user('bea'), {
      orderAmount: 30000,
    });
    expect(dry.body).toEqual({ valid: false, reason: 'COUPON_EXPIRED' });

    // A job naming a coupon that does not exist (the API checks first; the worker checks again).
    const job = await stack.queues.usage.add(
      'job',
      {
        type: 'USE',
        actor: 'bea',
        couponId: '00000000-0000-7000-8000-000000000000',
        orderId: 'o',
        orderAmount: 1,
      } as never,
      { jobId: 'use_missing-coupon' },
    );
    expect((await settled(job.id as string, ADMIN)).error.code).toBe('COUPON_NOT_FOUND');
  });

  it('lets only admins cancel', async () => {
    const id = await couponFor('cid');
    expect(
      (await stack.request('POST', `/v1/coupons/${id}/cancel`, user('cid'), { reason: 'mine' }))
        .status,
    ).toBe(403);
    const cancelled = await act(id, 'cancel', { reason: 'fraud' }, ADMIN);
    expect(cancelled.result.coupon.status).toBe('CANCELLED');
    const history = await stack.request('GET', `/v1/coupons/${id}/history`, user('cid'));
    expect(history.body.items.at(-1)).toMatchObject({
      from: 'ISSUED',
      to: 'CANCELLED',
      actor: 'admin-1',
      reason: 'fraud',
    });
    expect((await act(id, 'cancel', { reason: 'again' }, ADMIN)).error.code).toBe(
      'COUPON_NOT_USABLE',
    );
  });

  it('validates as a dry run that changes nothing', async () => {
    const id = await couponFor('dan');
    const ok = await stack.request('POST', `/v1/coupons/${id}/validate`, user('dan'), {
      orderAmount: 30000,
    });
    expect(ok.body).toEqual({ valid: true, discountAmount: 3000, payableAmount: 27000 });
    const low = await stack.request('POST', `/v1/coupons/${id}/validate`, user('dan'), {
      orderAmount: 100,
    });
    expect(low.body).toEqual({ valid: false, reason: 'MIN_ORDER_AMOUNT_NOT_MET' });
    await act(id, 'reserve', { orderId: 'o-9', orderAmount: 30000 }, user('dan'));
    const mismatch = await stack.request('POST', `/v1/coupons/${id}/validate`, user('dan'), {
      orderAmount: 30000,
      orderId: 'o-8',
    });
    expect(mismatch.body).toEqual({ valid: false, reason: 'ORDER_MISMATCH' });
    const same = await stack.request('POST', `/v1/coupons/${id}/validate`, user('dan'), {
      orderAmount: 30000,
      orderId: 'o-9',
    });
    expect(same.body).toEqual({ valid: true, discountAmount: 3000, payableAmount: 27000 });
    expect((await stack.request('GET', `/v1/coupons/${id}`, user('dan'))).body.status).toBe(
      'RESERVED',
    );
  });

  it('serves statistics equal to a direct count after a mixed workload', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 50, perUserLimit: 50, minOrderAmount: 0 }),
    );
    const first = await stack.request('GET', `/v1/policies/${policy.id}/statistics`, ADMIN);
    expect(first.body).toMatchObject({ issuedCount: 0, remainingQuantity: 50, usageRate: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await stack.request('POST', '/v1/issuances', user('stat'), {
        policyId: policy.id,
      });
      ids.push((await settled(res.body.jobId, user('stat'))).result.coupon.id);
    }
    // Reading in between fills the cache; every later change must still show.
    await stack.request('GET', `/v1/policies/${policy.id}/statistics`, ADMIN);
    await Promise.all([
      ...ids
        .slice(0, 4)
        .map((id, i) => act(id, 'use', { orderId: `u${i}`, orderAmount: 10000 + i }, user('stat'))),
      ...ids
        .slice(4, 7)
        .map((id, i) => act(id, 'reserve', { orderId: `r${i}`, orderAmount: 20000 }, user('stat'))),
      ...ids.slice(7, 9).map((id) => act(id, 'cancel', { reason: 'test' }, ADMIN)),
    ]);
    await act(ids[4] as string, 'release', { orderId: 'r0' }, user('stat'));

    const stats = await stack.request('GET', `/v1/policies/${policy.id}/statistics`, ADMIN);
    const [sql] = await stack.db.orm.em.getConnection().execute<Record<string, number>[]>(
      `select count(*)::int as issued,
              count(*) filter (where status = 'RESERVED')::int as reserved,
              count(*) filter (where status = 'USED')::int as used,
              count(*) filter (where status = 'EXPIRED')::int as expired,
              count(*) filter (where status = 'CANCELLED')::int as cancelled,
              coalesce(sum(discount_amount) filter (where status = 'USED'), 0)::int as discount,
              coalesce(sum(discount_amount) filter (where status in ('RESERVED', 'USED')), 0)::int
                as spent
         from coupons where policy_id = ?`,
      [policy.id],
    );
    expect(stats.body).toEqual({
      policyId: policy.id,
      totalQuantity: 50,
      issuedCount: sql?.issued,
      reservedCount: sql?.reserved,
      usedCount: sql?.used,
      expiredCount: sql?.expired,
      cancelledCount: sql?.cancelled,
      remainingQuantity: 50 - (sql?.issued ?? 0),
      usageRate: (sql?.used ?? 0) / (sql?.issued ?? 1),
      totalDiscountAmount: sql?.discount,
      budget: null,
      budgetSpent: sql?.spent,
      budgetRemaining: null,
    });
    expect(stats.body).toMatchObject({
      issuedCount: 12,
      usedCount: 4,
      reservedCount: 2,
      cancelledCount: 2,
    });
    expect(
      (await stack.request('GET', `/v1/policies/${policy.id}/statistics`, user('stat'))).status,
    ).toBe(403);
  });
});
