import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireCoupons } from '../../src/app/expire-coupons.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { recordAndApply } from '../support/payments.js';
import { ADMIN, createStack, type Stack, settledJob, user } from '../support/stack.js';

type As = [string, 'admin' | 'user'];

describe('GET /v1/coupons/:couponId/reservations', () => {
  let stack: Stack;
  let policyId: string;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
    policyId = await stack.createPolicy({
      totalQuantity: 100,
      perUserLimit: 10,
      minOrderAmount: 0,
    });
  });
  afterAll(() => stack.close());

  async function act(couponId: string, action: string, body: unknown, as: As) {
    const res = await stack.request('POST', `/v1/coupons/${couponId}/${action}`, as, body);
    expect(res.status).toBe(202);
    const job = await settledJob(stack, res.body.jobId, as);
    expect(job.state).toBe('completed');
    return job;
  }

  async function couponFor(owner: string) {
    const res = await stack.request('POST', '/v1/issuances', user(owner), { policyId });
    const job = await settledJob(stack, res.body.jobId, user(owner));
    expect(job.state).toBe('completed');
    return job.result.coupon.id as string;
  }

  it('lists reserve → timeout → reserve → pay, oldest first, with every field', async () => {
    const owner = user('res-owner');
    const id = await couponFor('res-owner');
    const first = new Date();
    await act(id, 'reserve', { orderId: 'order-slow', orderAmount: 30000 }, owner);
    // The scheduler's sweep, run as if the TTL had passed.
    const ttlMs = stack.env.RESERVATION_TTL_MS;
    const swept = await expireCoupons(databasePorts(stack.db.orm), {
      now: new Date(Date.now() + ttlMs + 1000),
      ttlMs,
    });
    expect(swept.released).toBe(1);
    await act(id, 'reserve', { orderId: 'order-paid', orderAmount: 40000 }, owner);
    await recordAndApply(
      stack.db.orm.em.fork(),
      {
        topic: 'payments',
        partition: 0,
        events: [
          {
            offset: '0',
            event: {
              eventId: randomUUID(),
              type: 'PAYMENT_COMPLETED',
              orderId: 'order-paid',
              userId: 'res-owner',
              amount: 36000,
              occurredAt: new Date().toISOString(),
            },
          },
        ],
      },
      new Date(),
    );

    const res = await stack.request('GET', `/v1/coupons/${id}/reservations`, owner);
    expect(res.status).toBe(200);
    const [timedOut, confirmed] = res.body.items;
    expect(res.body.items).toHaveLength(2);
    expect(timedOut).toEqual({
      id: expect.any(String),
      couponId: id,
      orderId: 'order-slow',
      userId: 'res-owner',
      orderAmount: 30000,
      discountAmount: 3000,
      state: 'TIMED_OUT',
      reservedAt: expect.any(String),
      expiresAt: expect.any(String),
      closedAt: expect.any(String),
      closedBy: 'system:expiry',
      reason: 'reservation timed out',
    });
    expect(Date.parse(timedOut.expiresAt) - Date.parse(timedOut.reservedAt)).toBe(ttlMs);
    expect(Date.parse(timedOut.reservedAt)).toBeGreaterThanOrEqual(first.getTime() - 1000);
    expect(confirmed).toMatchObject({
      orderId: 'order-paid',
      orderAmount: 40000,
      discountAmount: 4000,
      state: 'CONFIRMED',
      closedBy: 'system:payment',
    });
    expect(confirmed.reason).toMatch(/^PAYMENT_COMPLETED /);
    expect(Date.parse(confirmed.reservedAt)).toBeGreaterThan(Date.parse(timedOut.reservedAt));

    // An admin sees the same list.
    const asAdmin = await stack.request('GET', `/v1/coupons/${id}/reservations`, ADMIN);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual(res.body);
  });

  it('is the owner’s or an admin’s: another user → 403, unknown coupon → 404, bad id → 400', async () => {
    const id = await couponFor('res-private');
    const empty = await stack.request('GET', `/v1/coupons/${id}/reservations`, user('res-private'));
    expect(empty).toMatchObject({ status: 200, body: { items: [] } });
    const other = await stack.request('GET', `/v1/coupons/${id}/reservations`, user('someone'));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('FORBIDDEN');
    const unknown = await stack.request(
      'GET',
      `/v1/coupons/${randomUUID()}/reservations`,
      user('someone'),
    );
    expect(unknown.status).toBe(404);
    const bad = await stack.request('GET', '/v1/coupons/not-a-uuid/reservations', ADMIN);
    expect(bad.status).toBe(400);
  });

  it('comes in pages of `limit` with a signed cursor; a cursor it did not issue → 400', async () => {
    const owner = user('res-pages');
    const id = await couponFor('res-pages');
    for (let i = 0; i < 3; i++) {
      await act(id, 'reserve', { orderId: `order-page-${i}`, orderAmount: 30000 }, owner);
      await act(id, 'release', { orderId: `order-page-${i}` }, owner);
    }
    const url = `/v1/coupons/${id}/reservations`;
    const first = await stack.request('GET', `${url}?limit=2`, owner);
    expect(first.body.items.map((r: { orderId: string }) => r.orderId)).toEqual([
      'order-page-0',
      'order-page-1',
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await stack.request(
      'GET',
      `${url}?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      owner,
    );
    expect(second.body.items.map((r: { orderId: string }) => r.orderId)).toEqual(['order-page-2']);
    expect(second.body.nextCursor).toBeNull();
    const forged = await stack.request('GET', `${url}?cursor=${randomUUID()}`, owner);
    expect(forged.status).toBe(400);
    expect((await stack.request('GET', `${url}?limit=101`, owner)).status).toBe(400);
  });

  it('is in the OpenAPI document with its operationId, security and error responses', async () => {
    const res = await stack.app.request('/openapi.json');
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const op = doc.paths['/v1/coupons/{couponId}/reservations']?.get;
    expect(op?.operationId).toBe('listCouponReservations');
    expect(op?.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(op?.responses as object)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404']),
    );
  });
});
