import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/app/ports.js';
import { ADMIN, createStack, policyBody, type Stack, settledJob, user } from '../support/stack.js';

/** An entry as `GET /v1/audit` lists it. */
type AuditItem = AuditRecord;

describe('audit log of admin actions', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'secret-ops-password' });
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  const all = async (): Promise<AuditItem[]> => {
    const res = await stack.request('GET', '/v1/audit?limit=100', ADMIN);
    expect(res.status).toBe(200);
    return res.body.items;
  };

  it('records policy creation, status change, code generation, coupon cancel and bull-board writes', async () => {
    const rid = (n: string) => ({ 'x-request-id': `audit-${n}` });
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ issueType: 'CODE', totalQuantity: 5 }),
      rid('create'),
    );
    expect(created.status).toBe(201);
    const policyId = created.body.id;
    expect(
      (
        await stack.request(
          'POST',
          `/v1/policies/${policyId}/codes`,
          ADMIN,
          { count: 3 },
          rid('codes'),
        )
      ).status,
    ).toBe(201);
    // Refused: nothing changed, nothing recorded.
    expect(
      (
        await stack.request(
          'POST',
          `/v1/policies/${policyId}/codes`,
          ADMIN,
          { count: 3 },
          rid('over'),
        )
      ).status,
    ).toBe(409);
    expect(
      (
        await stack.request(
          'PATCH',
          `/v1/policies/${policyId}`,
          ADMIN,
          { status: 'INACTIVE' },
          rid('status'),
        )
      ).status,
    ).toBe(200);

    const direct = await stack.request('POST', '/v1/policies', ADMIN, policyBody(), rid('direct'));
    const issued = await stack.request('POST', '/v1/issuances', user('carol'), {
      policyId: direct.body.id,
    });
    const job = await settledJob(stack, issued.body.jobId);
    const couponId = job.result.coupon.id;
    const cancel = await stack.request(
      'POST',
      `/v1/coupons/${couponId}/cancel`,
      ADMIN,
      { reason: 'fraud\nsuspected' },
      rid('cancel'),
    );
    expect(cancel.status).toBe(202);

    const pause = await stack.app.request('/admin/queues/api/queues/maintenance/pause', {
      method: 'PUT',
      headers: {
        authorization: `Basic ${Buffer.from('ops:secret-ops-password').toString('base64')}`,
        ...rid('pause'),
      },
    });
    expect(pause.status).toBe(200);

    const items = await all();
    const byRequest = new Map(items.map((item) => [item.requestId, item]));
    expect(byRequest.get('audit-create')).toMatchObject({
      actor: 'admin-1',
      action: 'policy.create',
      target: `policy:${policyId}`,
      details: { issueType: 'CODE', totalQuantity: 5 },
    });
    expect(byRequest.get('audit-codes')).toMatchObject({
      action: 'policy.codes',
      target: `policy:${policyId}`,
      details: { count: 3 },
    });
    expect(JSON.stringify(byRequest.get('audit-codes'))).not.toMatch(/"codes"/);
    expect(byRequest.has('audit-over')).toBe(false);
    expect(byRequest.get('audit-status')).toMatchObject({
      action: 'policy.status',
      details: { from: 'ACTIVE', to: 'INACTIVE' },
    });
    expect(byRequest.get('audit-cancel')).toMatchObject({
      actor: 'admin-1',
      action: 'coupon.cancel',
      target: `coupon:${couponId}`,
      details: { reason: 'fraud\nsuspected', jobId: cancel.body.jobId },
    });
    expect(byRequest.get('audit-pause')).toMatchObject({
      actor: 'operator:ops',
      action: 'queues.write',
      target: 'queue:maintenance',
      details: { method: 'PUT', path: '/api/queues/maintenance/pause' },
    });
    // Newest first, each with its time.
    expect(items.map((i) => i.id)).toEqual([...items.map((i) => i.id)].sort().reverse());
    for (const item of items) expect(Number.isNaN(Date.parse(item.at))).toBe(false);
    // Reads and issuance are not admin changes.
    expect(items.some((i) => i.action.startsWith('issu'))).toBe(false);
  });

  it('pages with limit and cursor, and is for admins only', async () => {
    const everything = await all();
    expect(everything.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await stack.request(
        'GET',
        `/v1/audit?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        ADMIN,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: AuditItem) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(everything.map((i) => i.id));
    expect((await stack.request('GET', '/v1/audit', user('carol'))).status).toBe(403);
    expect((await stack.app.request('/v1/audit')).status).toBe(401);
  });
});
