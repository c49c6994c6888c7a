import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCouponAction } from '../../src/app/apply-coupon-action.js';
import type { AuditRecord, CouponAction, CouponStore } from '../../src/app/ports.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { waitFor } from '../support/payments.js';
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
    expect((await settledJob(stack, cancel.body.jobId)).state).toBe('completed');

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

  /** The coupon's cancel records. */
  const cancelRecords = async (couponId: string) =>
    (await all()).filter(
      (item) => item.action === 'coupon.cancel' && item.target === `coupon:${couponId}`,
    );

  const issuedCoupon = async (owner: string) => {
    const policyId = await stack.createPolicy();
    const issued = await stack.request('POST', '/v1/issuances', user(owner), { policyId });
    return (await settledJob(stack, issued.body.jobId)).result.coupon.id as string;
  };

  const cancel = (couponId: string, requestId: string, headers: Record<string, string> = {}) =>
    stack.request(
      'POST',
      `/v1/coupons/${couponId}/cancel`,
      ADMIN,
      { reason: 'fraud' },
      { 'x-request-id': requestId, ...headers },
    );

  it('records a cancel once, with its change: not for a repeated key, not again when the job runs again', async () => {
    const couponId = await issuedCoupon('dave');
    const first = await cancel(couponId, 'cancel-once', { 'idempotency-key': 'cancel-dave' });
    expect((await settledJob(stack, first.body.jobId)).state).toBe('completed');
    const repeat = await cancel(couponId, 'cancel-repeat', { 'idempotency-key': 'cancel-dave' });
    expect(repeat.body.jobId).toBe(first.body.jobId);
    // As if the acknowledgement had been lost: the queue hands the committed job out once more.
    const job = await stack.queues.usage.getJob(first.body.jobId);
    const started = job?.attemptsStarted ?? 0;
    await job?.retry('completed');
    await waitFor('the cancel job to run again', async () => {
      const again = await stack.queues.usage.getJob(first.body.jobId);
      return (again?.attemptsStarted ?? 0) > started && !!again?.finishedOn;
    });
    expect((await settledJob(stack, first.body.jobId)).state).toBe('completed');
    const records = await cancelRecords(couponId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actor: 'admin-1',
      requestId: 'cancel-once',
      details: { reason: 'fraud', jobId: first.body.jobId },
    });
  });

  it('records nothing for a cancel the worker refuses (COUPON_NOT_USABLE)', async () => {
    const couponId = await issuedCoupon('erin');
    const done = await cancel(couponId, 'cancel-erin');
    expect((await settledJob(stack, done.body.jobId)).state).toBe('completed');
    const refused = await cancel(couponId, 'cancel-erin-again');
    expect(refused.status).toBe(202);
    const job = await settledJob(stack, refused.body.jobId);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'COUPON_NOT_USABLE' } });
    expect((await cancelRecords(couponId)).map((r) => r.requestId)).toEqual(['cancel-erin']);
  });

  it('writes the record in the cancel’s transaction: rolled back with it, written once by the retry', async () => {
    const couponId = await issuedCoupon('frank');
    const ports = databasePorts(stack.db.orm);
    // The transaction fails after the change and its record are written, before the commit.
    const failing: CouponStore = {
      ...ports.coupons,
      transaction: (work, fence) =>
        ports.coupons.transaction(
          (tx) =>
            work({
              ...tx,
              storeActionResult: async () => {
                throw new Error('Connection terminated unexpectedly');
              },
            }),
          fence,
        ),
    };
    const action = {
      type: 'CANCEL',
      actor: 'admin-1',
      couponId,
      reason: 'chargeback',
      requestId: 'cancel-frank',
    } as CouponAction;
    const run = (coupons: CouponStore) =>
      applyCouponAction({ ...ports, coupons }, action, new Date(), {
        reservationTtlMs: 60_000,
        jobId: 'use_cancel-frank',
      });
    await expect(run(failing)).rejects.toThrow('Connection terminated');
    expect(await cancelRecords(couponId)).toEqual([]);
    expect((await stack.request('GET', `/v1/coupons/${couponId}`, ADMIN)).body.status).toBe(
      'ISSUED',
    );
    expect(await run(ports.coupons)).toMatchObject({ ok: true, value: { repeated: false } });
    expect(await run(ports.coupons)).toMatchObject({ ok: true, value: { repeated: true } });
    const records = await cancelRecords(couponId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actor: 'admin-1',
      requestId: 'cancel-frank',
      details: { reason: 'chargeback', jobId: 'use_cancel-frank' },
    });
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
