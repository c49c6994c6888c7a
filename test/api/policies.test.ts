import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, policyBody, type Stack, user } from '../support/stack.js';

describe('policies', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  it('lets an admin create a policy and anyone authenticated read it', async () => {
    const created = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Black Friday 10%',
      discountType: 'PERCENTAGE',
      status: 'ACTIVE',
      issuedCount: 0,
      perUserLimit: 1,
      minOrderAmount: 20000,
      validDaysAfterIssue: null,
    });
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const read = await stack.request('GET', `/v1/policies/${created.body.id}`, user('u1'));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('refuses writes from users (403) and callers without a token (401)', async () => {
    expect((await stack.request('POST', '/v1/policies', user('u1'), policyBody())).status).toBe(
      403,
    );
    const res = await stack.app.request('/v1/policies', { method: 'GET' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String) },
    });
  });

  it.each([
    [{ discountType: 'BOGUS' }, 'json.discountType'],
    [{ discountValue: 1.5 }, 'json.discountValue'],
    [{ discountValue: 101 }, 'json.discountValue'],
    [{ totalQuantity: 0 }, 'json.totalQuantity'],
    [{ validUntil: 'tomorrow' }, 'json.validUntil'],
    [{ validUntil: new Date(Date.now() - 1000).toISOString() }, 'json.validUntil'],
    [
      { discountType: 'FIXED_AMOUNT', discountValue: 1000, maxDiscountAmount: 10 },
      'json.maxDiscountAmount',
    ],
    [{ extra: true }, 'json'],
  ])('answers 400 VALIDATION_ERROR naming the field for %j', async (change, field) => {
    const res = await stack.request('POST', '/v1/policies', ADMIN, policyBody(change));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('answers malformed JSON with 400 and a non-JSON body with 415', async () => {
    const headers = {
      ...(await import('../support/tokens.js').then((t) => t.authHeaders('a', 'admin'))),
    };
    const malformed = await stack.app.request('/v1/policies', {
      method: 'POST',
      headers,
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe(
      'VALIDATION_ERROR',
    );
    const text = await stack.app.request('/v1/policies', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('answers a body over 64 KiB with 413', async () => {
    const res = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ description: 'x'.repeat(70_000) }),
    );
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('pages through policies with a cursor, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await stack.createPolicy({ name: `p${i}` }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const res = await stack.request('GET', `/v1/policies?limit=2${query}`, user('u'));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect((await stack.request('GET', '/v1/policies?limit=0', user('u'))).status).toBe(400);
  });

  it('deactivates and reactivates; unknown policies are 404', async () => {
    const { body } = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    const off = await stack.request('PATCH', `/v1/policies/${body.id}`, ADMIN, {
      status: 'INACTIVE',
    });
    expect(off.status).toBe(200);
    expect(off.body.status).toBe('INACTIVE');
    expect(
      (await stack.request('PATCH', `/v1/policies/${body.id}`, ADMIN, { status: 'ACTIVE' })).body
        .status,
    ).toBe('ACTIVE');
    expect(
      (await stack.request('PATCH', `/v1/policies/${body.id}`, user('u'), { status: 'ACTIVE' }))
        .status,
    ).toBe(403);
    const missing = await stack.request(
      'GET',
      '/v1/policies/00000000-0000-7000-8000-000000000000',
      user('u'),
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect((await stack.request('GET', '/v1/policies/not-a-uuid', user('u'))).status).toBe(400);
  });

  it('generates unique codes up to the quota and stores only their keyed hashes', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'CODE', totalQuantity: 30 }),
    );
    const first = await stack.request('POST', `/v1/policies/${policy.id}/codes`, ADMIN, {
      count: 20,
    });
    expect(first.status).toBe(201);
    const codes: string[] = first.body.codes;
    expect(codes).toHaveLength(20);
    expect(new Set(codes).size).toBe(20);
    for (const code of codes) expect(code).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{12}$/);

    const over = await stack.request('POST', `/v1/policies/${policy.id}/codes`, ADMIN, {
      count: 11,
    });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('CONFLICT');
    expect(
      (await stack.request('POST', `/v1/policies/${policy.id}/codes`, ADMIN, { count: 10 })).status,
    ).toBe(201);

    const stored = await stack.db.orm.em
      .getConnection()
      .execute<{ h: string }[]>(
        "select encode(code_hash, 'escape') as h from coupon_codes where policy_id = ?",
        [policy.id],
      );
    expect(stored).toHaveLength(30);
    for (const row of stored) for (const code of codes) expect(row.h).not.toContain(code);

    const { body: direct } = await stack.request('POST', '/v1/policies', ADMIN, policyBody());
    expect(
      (await stack.request('POST', `/v1/policies/${direct.id}/codes`, ADMIN, { count: 1 })).status,
    ).toBe(409);
    expect(
      (await stack.request('POST', `/v1/policies/${policy.id}/codes`, ADMIN, { count: 10_001 }))
        .status,
    ).toBe(400);
    expect(
      (await stack.request('POST', `/v1/policies/${policy.id}/codes`, user('u'), { count: 1 }))
        .status,
    ).toBe(403);
  });
});
