import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCouponAction } from '../../src/app/apply-coupon-action.js';
import { expireCoupons } from '../../src/app/expire-coupons.js';
import { createMetrics } from '../../src/infra/metrics.js';
import {
  createPaymentServiceClient,
  type PaymentServiceOutcome,
  redisPaymentServiceObserver,
} from '../../src/infra/payment-service.js';
import { StatsCache } from '../../src/infra/redis/stats-cache.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { startScheduler } from '../../src/wiring/workers.js';
import { insertIssuedCoupon, insertPolicy } from '../support/fixtures-sql.js';
import { waitFor } from '../support/payments.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';
import { createStack } from '../support/stack.js';

const TTL = 60_000;

/**
 * The payment service, on loopback: the order id says how it answers — `completed-…`,
 * `pending-…`, `failed-…`, `cancelled-…` with that status, `unknown-…` with 404, `slow-…` after
 * 3 s, `broken-…` with 500.
 */
async function startPaymentService(): Promise<{ url: string; server: Server; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const match = /^\/orders\/([^/]+)\/payment$/.exec(req.url ?? '');
    const orderId = decodeURIComponent(match?.[1] ?? '');
    asked.push(orderId);
    const kind = orderId.split('-')[0] ?? '';
    const answer = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (!match || req.method !== 'GET' || kind === 'unknown') return answer(404, { error: 'no' });
    if (kind === 'broken') return answer(500, { error: 'boom' });
    if (kind === 'slow') {
      const timer = setTimeout(() => answer(200, { status: 'COMPLETED' }), 3000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    answer(200, { status: kind.toUpperCase() });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server, asked };
}

const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('the payment service adapter (real HTTP on loopback)', () => {
  let service: Awaited<ReturnType<typeof startPaymentService>>;
  beforeAll(async () => {
    service = await startPaymentService();
  });
  afterAll(() => stop(service.server));

  it('answers each status, 404 as NOT_FOUND, and counts each outcome', async () => {
    const seen: PaymentServiceOutcome[] = [];
    const client = createPaymentServiceClient({
      baseUrl: service.url,
      observer: { call: (o) => seen.push(o), circuit: () => undefined },
    });
    for (const [order, expected] of [
      ['completed-1', 'COMPLETED'],
      ['pending-1', 'PENDING'],
      ['failed-1', 'FAILED'],
      ['cancelled-1', 'CANCELLED'],
      ['unknown-1', 'NOT_FOUND'],
      ['broken-1', 'UNAVAILABLE'],
    ] as const) {
      expect(await client.orderPayment(order)).toBe(expected);
    }
    expect(seen).toEqual(['COMPLETED', 'PENDING', 'FAILED', 'CANCELLED', 'NOT_FOUND', 'ERROR']);
    // An order id is one path segment, whatever it holds.
    expect(await client.orderPayment('completed-a/b?c')).toBe('COMPLETED');
    expect(service.asked.at(-1)).toBe('completed-a/b?c');
  });

  it('asks for /orders/<one segment>/payment whatever the order id holds, dots included', async () => {
    const paths: string[] = [];
    const recorder = createServer((req, res) => {
      paths.push(req.url ?? '');
      const ok = /^\/pay\/orders\/[^/]+\/payment$/.test(req.url ?? '');
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { status: 'COMPLETED' } : { error: 'no' }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = recorder.address() as AddressInfo;
      const client = createPaymentServiceClient({ baseUrl: `http://127.0.0.1:${port}/pay/` });
      for (const orderId of [
        '..',
        '.',
        '../../admin',
        'a/../..',
        '%2E%2E',
        '%2e',
        '.%2E',
        '..%2F',
        'a\\..',
        'a/b',
        'a?b=1',
        'a#frag',
        '50%',
        '%',
        'a b',
        '주문-1',
      ]) {
        expect(await client.orderPayment(orderId), orderId).toBe('COMPLETED');
        const path = paths.at(-1) ?? '';
        expect(path, orderId).toMatch(/^\/pay\/orders\/[^/?#]+\/payment$/);
        expect(decodeURIComponent(path.split('/')[3] ?? ''), orderId).toBe(orderId);
      }
    } finally {
      await stop(recorder);
    }
  });

  it('gives up on a slow answer after 2 s', async () => {
    const seen: PaymentServiceOutcome[] = [];
    const client = createPaymentServiceClient({
      baseUrl: service.url,
      observer: { call: (o) => seen.push(o), circuit: () => undefined },
    });
    const started = Date.now();
    expect(await client.orderPayment('slow-1')).toBe('UNAVAILABLE');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(2900);
    expect(seen).toEqual(['TIMEOUT']);
  });

  it('opens its circuit after failures in a row, then refuses at once', async () => {
    const down = await startPaymentService();
    await stop(down.server);
    const seen: PaymentServiceOutcome[] = [];
    const states: string[] = [];
    const client = createPaymentServiceClient({
      baseUrl: down.url,
      failuresToOpen: 3,
      observer: { call: (o) => seen.push(o), circuit: (s) => states.push(s) },
    });
    for (let i = 0; i < 5; i++)
      expect(await client.orderPayment(`pending-${i}`)).toBe('UNAVAILABLE');
    expect(seen).toEqual(['ERROR', 'ERROR', 'ERROR', 'CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
    expect(states).toEqual(['open']);
    expect(client.circuitState()).toBe('open');
  });

  it('reports the counts and the breaker state on /metrics through Redis', async () => {
    const redis = new Redis(services().redisUrl);
    const prefix = uniqueName('test');
    try {
      const observer = redisPaymentServiceObserver(redis, prefix);
      observer.call('COMPLETED');
      observer.call('COMPLETED');
      observer.call('TIMEOUT');
      observer.circuit('open');
      const metrics = createMetrics({
        redis,
        prefix,
        queues: [],
        outboxBacklog: async () => 0,
        consumerLag: async () => 0,
      });
      let text = '';
      const deadline = Date.now() + 5000;
      while (!text.includes('coupon_payment_service_circuit_state 2') && Date.now() < deadline) {
        text = await metrics.registry.metrics();
      }
      expect(text).toContain('coupon_payment_service_requests_total{outcome="COMPLETED"} 2');
      expect(text).toContain('coupon_payment_service_requests_total{outcome="TIMEOUT"} 1');
      expect(text).toContain('coupon_payment_service_circuit_state 2');
    } finally {
      await redis.del(
        `${prefix}:metrics:payment-service`,
        `${prefix}:metrics:payment-service-circuit`,
      );
      redis.disconnect();
    }
  });
});

describe('the scheduler asks the payment service before a reservation times out', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let service: Awaited<ReturnType<typeof startPaymentService>>;
  let policyId: string;
  let slot = 0;

  beforeAll(async () => {
    service = await startPaymentService();
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    policyId = await insertPolicy(client, 'ask');
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
    await stop(service.server);
  });

  /** A coupon reserved now for an order named `<kind>-<uuid>`; returns its id and order. */
  async function reservedFor(kind: string) {
    const couponId = await insertIssuedCoupon(client, { policyId, userId: 'buyer', slot: ++slot });
    const orderId = `${kind}-${randomUUID()}`;
    const reserved = await applyCouponAction(
      databasePorts(db.orm),
      { type: 'RESERVE', actor: 'buyer', couponId, orderId, orderAmount: 30000 },
      new Date(),
      { reservationTtlMs: TTL },
    );
    expect(reserved.ok).toBe(true);
    return { couponId, orderId };
  }

  const sweep = (afterMs: number, url: string | null = service.url) =>
    expireCoupons(databasePorts(db.orm), {
      now: new Date(Date.now() + afterMs),
      ttlMs: TTL,
      maxExtensions: 2,
      paymentService: url ? createPaymentServiceClient({ baseUrl: url }) : undefined,
    });

  async function state(couponId: string) {
    const { rows } = await client.query(
      `select c.status, r.state, r.extensions, r.closed_by as "closedBy",
              (select actor from coupon_history h where h.coupon_id = c.id order by id desc limit 1)
                as actor
         from coupons c join coupon_reservations r on r.coupon_id = c.id
        where c.id = $1 order by r.reserved_at desc limit 1`,
      [couponId],
    );
    return rows[0];
  }

  it('COMPLETED → USED by system:payment; FAILED, CANCELLED, 404 → released as TIMED_OUT', async () => {
    const paid = await reservedFor('completed');
    const others = await Promise.all(['failed', 'cancelled', 'unknown'].map(reservedFor));
    // Not yet due: nobody is asked.
    const asked = service.asked.length;
    await sweep(TTL / 2);
    expect(service.asked.length).toBe(asked);

    const result = await sweep(TTL + 1000);
    expect(result).toMatchObject({ used: 1, released: 3 });
    expect(await state(paid.couponId)).toEqual({
      status: 'USED',
      state: 'CONFIRMED',
      extensions: 0,
      closedBy: 'system:payment',
      actor: 'system:payment',
    });
    for (const { couponId } of others) {
      expect(await state(couponId)).toMatchObject({
        status: 'ISSUED',
        state: 'TIMED_OUT',
        closedBy: 'system:expiry',
      });
    }
  });

  it('PENDING → kept one more TTL, at most RESERVATION_MAX_EXTENSIONS times, then released', async () => {
    const { couponId } = await reservedFor('pending');
    await sweep(TTL + 1000);
    expect(await state(couponId)).toMatchObject({
      status: 'RESERVED',
      state: 'ACTIVE',
      extensions: 1,
    });
    // Extended: not due again within the new TTL.
    await sweep(TTL + 1000 + TTL / 2);
    expect(await state(couponId)).toMatchObject({ status: 'RESERVED', extensions: 1 });
    await sweep(2 * TTL + 2000);
    expect(await state(couponId)).toMatchObject({ status: 'RESERVED', extensions: 2 });
    await sweep(3 * TTL + 3000);
    expect(await state(couponId)).toMatchObject({
      status: 'ISSUED',
      state: 'TIMED_OUT',
      extensions: 2,
    });
  });

  it('while the service does not answer, keeps the reservation until its maximum age', async () => {
    const { couponId } = await reservedFor('pending');
    const down = await startPaymentService();
    await stop(down.server);
    await sweep(TTL + 1000, down.url);
    expect(await state(couponId)).toMatchObject({
      status: 'RESERVED',
      state: 'ACTIVE',
      extensions: 0,
    });
    await sweep(3 * TTL - 1000, down.url);
    expect(await state(couponId)).toMatchObject({ status: 'RESERVED', state: 'ACTIVE' });
    await sweep(3 * TTL + 1000, down.url);
    expect(await state(couponId)).toMatchObject({ status: 'ISSUED', state: 'TIMED_OUT' });
  });

  it('a slow service counts as not answering: the reservation is kept', async () => {
    const { couponId } = await reservedFor('slow');
    await sweep(TTL + 1000);
    expect(await state(couponId)).toMatchObject({ status: 'RESERVED', state: 'ACTIVE' });
  });

  it('without PAYMENT_SERVICE_URL, reservations are released at the TTL as before', async () => {
    const { couponId } = await reservedFor('completed');
    const asked = service.asked.length;
    await sweep(TTL + 1000, null);
    expect(await state(couponId)).toMatchObject({ status: 'ISSUED', state: 'TIMED_OUT' });
    expect(service.asked.length).toBe(asked);
  });
});

describe('the scheduler role with PAYMENT_SERVICE_URL set', () => {
  it('asks the service on its own schedule, uses a paid reservation, and counts the call', async () => {
    const service = await startPaymentService();
    const stack = await createStack({
      PAYMENT_SERVICE_URL: service.url,
      EXPIRY_INTERVAL_MS: '200',
      RESERVATION_TTL_MS: '500',
    });
    const scheduler = await startScheduler({
      env: stack.env,
      logger: pino({ level: 'silent' }),
      orm: stack.db.orm,
      stats: new StatsCache(stack.redis, stack.env.QUEUE_PREFIX),
      redis: stack.redis,
    });
    try {
      const sql = <T>(text: string, params: unknown[] = []) =>
        stack.db.orm.em.getConnection().execute<T[]>(text, params);
      const policyId = randomUUID();
      const couponId = randomUUID();
      await sql(
        `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                      total_quantity, valid_from, valid_until)
         values (?, 'wired', 'FIXED_AMOUNT', 1000, 'DIRECT', 10,
                 now() - interval '1 hour', now() + interval '7 days')`,
        [policyId],
      );
      await sql(
        `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                              issue_job_id)
         values (?, ?, 'buyer', 1, 'ISSUED', now(), now() + interval '7 days', ?)`,
        [couponId, policyId, `job-${couponId}`],
      );
      const orderId = `completed-${randomUUID()}`;
      await applyCouponAction(
        databasePorts(stack.db.orm),
        { type: 'RESERVE', actor: 'buyer', couponId, orderId, orderAmount: 30000 },
        new Date(),
        { reservationTtlMs: stack.env.RESERVATION_TTL_MS },
      );
      await waitFor(
        'the paid reservation to be used',
        async () => {
          const [row] = await sql<{ status: string }>('select status from coupons where id = ?', [
            couponId,
          ]);
          return row?.status === 'USED';
        },
        20_000,
      );
      expect(service.asked).toContain(orderId);
      const counts = await stack.redis.hgetall(`${stack.env.QUEUE_PREFIX}:metrics:payment-service`);
      expect(Number(counts.COMPLETED)).toBeGreaterThanOrEqual(1);
    } finally {
      await scheduler.close();
      await stack.close();
      await stop(service.server);
    }
  });
});
