import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ClientModule from '../../client/src/index.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { policyBody, testServiceEnv } from '../support/stack.js';
import { token } from '../support/tokens.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The client as it ships: client/ compiled on its own (its tsconfig, DOM types, no Node types) and
 * imported from the build, driving the real program over HTTP.
 */
describe('@coupon-service/client against the running service', () => {
  let db: TestDatabase;
  let service: ServiceProcess;
  let built: string;
  let client: typeof ClientModule;

  beforeAll(async () => {
    built = mkdtempSync(join(tmpdir(), 'coupon-client-'));
    execFileSync(
      join(ROOT, 'node_modules/.bin/tsc'),
      ['-p', 'client/tsconfig.json', '--outDir', built],
      { cwd: ROOT, stdio: 'pipe' },
    );
    client = (await import(pathToFileURL(join(built, 'index.js')).href)) as typeof ClientModule;
    db = await createTestDatabase();
    service = await startService(testServiceEnv(db.url, { ROLES: 'all' }));
  });
  afterAll(async () => {
    await service?.stop();
    await db?.drop();
    rmSync(built, { recursive: true, force: true });
  });

  const as = async (sub: string, role: 'admin' | 'user' = 'user') =>
    new client.CouponClient({ baseUrl: service.baseUrl!, token: await token(sub, role) });

  it('issues a coupon and waits for it: issue(...).settled() gives the coupon', async () => {
    const admin = await as('admin-1', 'admin');
    const alice = await as('alice');
    const policy = await admin.createPolicy(
      policyBody({ totalQuantity: 5 }) as ClientModule.NewPolicy,
    );
    expect(policy).toMatchObject({ status: 'ACTIVE', issuedCount: 0 });

    const job = await alice.issue({ policyId: policy.id }, { idempotencyKey: 'k-1' }).settled();
    if (job.state !== 'completed') throw new Error(`issuance failed: ${job.error.code}`);
    const coupon = job.result.coupon;
    expect(coupon).toMatchObject({ policyId: policy.id, userId: 'alice', status: 'ISSUED' });
    expect(await alice.getCoupon(coupon.id)).toEqual(coupon);
    // A business rejection is a value of the settled job, not an exception.
    const again = await alice.issue({ policyId: policy.id }).settled({ timeoutMs: 20_000 });
    expect(again).toMatchObject({ state: 'failed', error: { code: 'PER_USER_LIMIT_REACHED' } });
    // Awaited without the waiter, a request gives the accepted job: the same key, the same job.
    const accepted = await alice.issue({ policyId: policy.id }, { idempotencyKey: 'k-1' });
    expect(accepted).toEqual({ jobId: job.jobId, statusUrl: `/v1/jobs/${job.jobId}` });

    // An action job the same way, and the synchronous dry run.
    expect(await alice.validateCoupon(coupon.id, { orderAmount: 30_000 })).toEqual({
      valid: true,
      discountAmount: 3000,
      payableAmount: 27000,
    });
    const reserved = await alice
      .reserveCoupon(coupon.id, { orderId: 'order-1', orderAmount: 30_000 })
      .settled();
    expect(reserved).toMatchObject({
      state: 'completed',
      result: { coupon: { status: 'RESERVED', orderId: 'order-1', discountAmount: 3000 } },
    });
    // The order the reserve made: its coupon, and what is left to pay.
    expect(await alice.getOrder('order-1')).toEqual({
      orderId: 'order-1',
      userId: 'alice',
      orderAmount: 30_000,
      coupons: [
        { couponId: coupon.id, policyId: policy.id, status: 'RESERVED', discountAmount: 3000 },
      ],
      totalDiscountAmount: 3000,
      payableAmount: 27_000,
      payments: [],
    });
    expect((await alice.listCouponReservations(coupon.id)).items).toHaveLength(1);
    expect((await alice.listCoupons({ status: 'RESERVED' })).items.map((c) => c.id)).toEqual([
      coupon.id,
    ]);
    expect(await admin.getPolicyStatistics(policy.id)).toMatchObject({ issuedCount: 1 });
    expect(await admin.getHealth()).toEqual({ status: 'ok' });
    expect(await admin.getMetrics()).toContain('http_requests_total');
  });

  it('throws CouponApiError with the code and status of the error body', async () => {
    const alice = await as('alice');
    const unknown = '00000000-0000-4000-8000-000000000000';
    const caught = async (call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (error) {
        return error;
      }
      throw new Error('the call did not throw');
    };

    const notFound = await caught(() => alice.getPolicy(unknown));
    expect(notFound).toBeInstanceOf(client.CouponApiError);
    expect(notFound).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((notFound as ClientModule.CouponApiError).requestId).toBeTruthy();

    // An order that never held a coupon is unknown to the service.
    expect(await caught(() => alice.getOrder('order-never-reserved'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });

    const forbidden = await caught(() =>
      alice.createPolicy(policyBody() as ClientModule.NewPolicy),
    );
    expect(forbidden).toMatchObject({ name: 'CouponApiError', status: 403, code: 'FORBIDDEN' });

    const invalid = await caught(() => alice.validateCoupon(unknown, { orderAmount: -1 } as never));
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect((invalid as ClientModule.CouponApiError).details).toBeDefined();

    const anonymous = new client.CouponClient({ baseUrl: service.baseUrl! });
    expect(await caught(() => anonymous.listPolicies())).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
  });
});
