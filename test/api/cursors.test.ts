import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, policyBody, type Stack, settledJob, user } from '../support/stack.js';

describe('cursors the service signs', () => {
  let stack: Stack;
  let couponId: string;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
    for (let i = 0; i < 5; i += 1) {
      await stack.request('POST', '/v1/policies', ADMIN, policyBody({ name: `p${i}` }));
    }
    const { body: policy } = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    const issued = await stack.request('POST', '/v1/issuances', user('hana'), {
      policyId: policy.id,
    });
    couponId = (await settledJob(stack, issued.body.jobId, user('hana'))).result.coupon.id;
    // Four more changes in its history, as reservations and releases would write them.
    const connection = stack.db.orm.em.getConnection();
    for (const [from, to] of [
      ['ISSUED', 'RESERVED'],
      ['RESERVED', 'ISSUED'],
      ['ISSUED', 'RESERVED'],
      ['RESERVED', 'ISSUED'],
    ]) {
      await connection.execute(
        `insert into coupon_history (coupon_id, from_status, to_status, actor, reason, at)
         values (?, ?, ?, 'hana', 'test', now())`,
        [couponId, from, to],
      );
    }
  });
  afterAll(() => stack.close());

  const pages = async (path: string, as: [string, 'admin' | 'user'] = ADMIN) => {
    const items: unknown[] = [];
    let cursor: string | null = null;
    let count = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await stack.request(
        'GET',
        `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
        as,
      );
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      count += 1;
    } while (cursor && count < 20);
    return { items, pages: count };
  };

  it('pages through every list with the cursors it hands out', async () => {
    const policies = await pages('/v1/policies?limit=2');
    expect(policies.items).toHaveLength(6);
    expect(policies.pages).toBe(3);
    const history = await pages(`/v1/coupons/${couponId}/history?limit=2`, user('hana'));
    expect(history.items.map((i) => (i as { to: string }).to)).toEqual([
      'ISSUED',
      'RESERVED',
      'ISSUED',
      'RESERVED',
      'ISSUED',
    ]);
    expect(history.pages).toBe(3);
  });

  it('keeps the whole history in one answer for clients that do not page', async () => {
    const res = await stack.request('GET', `/v1/coupons/${couponId}/history`, user('hana'));
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(5);
    expect(res.body.nextCursor).toBeNull();
  });

  it('answers 400 naming the cursor for one it did not issue, before any query', async () => {
    const first = await stack.request('GET', '/v1/policies?limit=2', ADMIN);
    const issued = first.body.nextCursor as string;
    const [position] = issued.split('.');
    const historyPage = await stack.request(
      'GET',
      `/v1/coupons/${couponId}/history?limit=1`,
      user('hana'),
    );
    const forged = [
      position, // the bare id, as cursors were before they were signed
      randomUUID(),
      `${randomUUID()}.${issued.split('.')[1]}`,
      `${position}.AAAAAAAAAAAAAAAAAAAAAA`,
      "1' or 1=1 --.x",
      '99999999999999999999999999.abc',
      historyPage.body.nextCursor, // another list's
    ];
    for (const path of ['/v1/policies', '/v1/coupons', '/v1/audit']) {
      for (const cursor of forged) {
        const res = await stack.request(
          'GET',
          `${path}?cursor=${encodeURIComponent(cursor)}`,
          ADMIN,
        );
        expect(res.status, `${path} ${cursor}`).toBe(400);
        expect(res.body.error.details).toContainEqual({
          field: 'query.cursor',
          message: expect.any(String),
        });
      }
    }
    const history = await stack.request(
      'GET',
      `/v1/coupons/${couponId}/history?cursor=${encodeURIComponent(issued)}`,
      user('hana'),
    );
    expect(history.status).toBe(400);
  });
});
