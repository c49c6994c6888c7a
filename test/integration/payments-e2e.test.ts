import type { Consumer, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentJobId } from '../../src/infra/queue/jobs.js';
import { eachStoredMessageOnce } from '../support/kafka-reader.js';
import { scrape } from '../support/metrics.js';
import {
  groupLag,
  paymentMessage,
  reservedCoupon,
  sendPayments,
  testKafka,
  waitFor,
} from '../support/payments.js';
import { type ServiceProcess, startService } from '../support/process.js';
import { uniqueName } from '../support/services.js';
import { ADMIN, createStack, policyBody, type Stack, settledJob } from '../support/stack.js';

/**
 * The whole path on the real broker: a separate producer writes payment events, the bridge process
 * records and enqueues them, two worker processes apply them, and the relay publishes coupon events.
 */
describe('payments end to end on the real Kafka broker', () => {
  let stack: Stack;
  let kafka: Kafka;
  let producer: Producer;
  let policyId: string;
  const processes: ServiceProcess[] = [];
  const topics = {
    payments: uniqueName('test.payments'),
    events: uniqueName('test.coupon-events'),
    group: uniqueName('test-bridge'),
  };

  beforeAll(async () => {
    stack = await createStack({
      KAFKA_PAYMENT_TOPIC: topics.payments,
      KAFKA_COUPON_EVENTS_TOPIC: topics.events,
      KAFKA_CONSUMER_GROUP: topics.group,
    });
    const env = { ...stack.envVars, LOG_LEVEL: 'info' };
    processes.push(
      ...(await Promise.all([
        startService({ ...env, ROLES: 'worker' }),
        startService({ ...env, ROLES: 'worker' }),
        startService({ ...env, ROLES: 'bridge' }),
      ])),
    );
    kafka = testKafka(stack.env.KAFKA_BROKERS);
    producer = kafka.producer();
    await producer.connect();
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 5000, perUserLimit: 5000, minOrderAmount: 0 }),
    );
    policyId = created.body.id;
  });
  afterAll(async () => {
    await producer?.disconnect();
    await Promise.all(processes.map((p) => p.stop('SIGTERM')));
    await stack.close();
  });

  const db = () => stack.db.orm.em.getConnection();
  async function statuses(ids: string[]): Promise<Map<string, string>> {
    const rows = await db().execute<{ id: string; status: string }[]>(
      'select id, status from coupons where id in (select jsonb_array_elements_text(?::jsonb)::uuid)',
      [JSON.stringify(ids)],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  }
  const statusOf = async (id: string) => (await statuses([id])).get(id);
  const settledLag = () =>
    waitFor(
      'the bridge to commit every offset',
      async () => (await groupLag(kafka, topics.group, topics.payments)) === 0,
    );
  async function history(id: string) {
    const res = await stack.request('GET', `/v1/coupons/${id}/history`, ADMIN);
    return res.body.items.map(
      (h: { from: string; to: string; actor: string }) => `${h.from}>${h.to} ${h.actor}`,
    );
  }

  it('uses on PAYMENT_COMPLETED, ignores the same event again, restores on PAYMENT_CANCELLED', async () => {
    const id = await reservedCoupon(stack, policyId, 'p1', 'order-p1');
    const completed = paymentMessage('PAYMENT_COMPLETED', 'order-p1', 'p1');
    await sendPayments(producer, topics.payments, [completed]);
    await waitFor('USED', async () => (await statusOf(id)) === 'USED');
    // The event travelled as a PAYMENT job on the usage queue (bull-board lists it there); alone
    // in its chunk, its job's id is the event's.
    const { eventId } = JSON.parse(completed.value);
    const jobId = paymentJobId(eventId);
    await waitFor('the job to complete', async () => {
      const res = await stack.request('GET', `/v1/jobs/${jobId}`, ADMIN);
      return res.status === 200 && res.body.state === 'completed';
    });
    const job = await stack.request('GET', `/v1/jobs/${jobId}`, ADMIN);
    expect(job.body).toMatchObject({ jobId, type: 'PAYMENT', state: 'completed' });
    expect(job.body.result).toEqual({
      payments: [
        {
          eventId,
          orderId: 'order-p1',
          outcome: 'COUPON_USED',
          coupon: expect.objectContaining({ id, status: 'USED', orderId: 'order-p1' }),
        },
      ],
    });

    await sendPayments(producer, topics.payments, [completed]);
    await settledLag();
    await waitFor(
      'the duplicate job to finish',
      async () => (await stack.queues.usage.getJobCounts('active', 'waiting')).waiting === 0,
    );
    expect(await history(id)).toEqual([
      'null>ISSUED admin-1',
      'ISSUED>RESERVED admin-1',
      'RESERVED>USED system:payment',
    ]);

    await sendPayments(producer, topics.payments, [
      paymentMessage('PAYMENT_CANCELLED', 'order-p1', 'p1'),
    ]);
    await waitFor('restored', async () => (await statusOf(id)) === 'ISSUED');
    expect((await history(id)).at(-1)).toBe('USED>ISSUED system:payment');
    const [row] = await db().execute<{ n: number }[]>(
      "select count(*)::int as n from payment_events where order_id = 'order-p1'",
    );
    expect(row?.n).toBe(2);
  });

  it('releases the reservation on PAYMENT_FAILED and acknowledges orders with no coupon', async () => {
    const id = await reservedCoupon(stack, policyId, 'p2', 'order-p2');
    await sendPayments(producer, topics.payments, [
      paymentMessage('PAYMENT_FAILED', 'order-p2', 'p2'),
      paymentMessage('PAYMENT_COMPLETED', 'order-nobody-knows', 'nobody'),
    ]);
    await waitFor('released', async () => (await statusOf(id)) === 'ISSUED');
    expect((await history(id)).at(-1)).toBe('RESERVED>ISSUED system:payment');
    await settledLag();
    await waitFor('the unknown order to be applied', async () => {
      const [row] = await db().execute<{ outcome: string | null }[]>(
        "select outcome from payment_events where order_id = 'order-nobody-knows'",
      );
      return row?.outcome === 'NO_COUPON';
    });
  });

  it('leaves user A’s reserved coupon alone when user B pays for its order (USER_MISMATCH)', async () => {
    const id = await reservedCoupon(stack, policyId, 'owner-a', 'order-a');
    const foreign = paymentMessage('PAYMENT_COMPLETED', 'order-a', 'user-b');
    await sendPayments(producer, topics.payments, [foreign]);
    await waitFor('the foreign payment to be applied', async () => {
      const [row] = await db().execute<{ outcome: string | null }[]>(
        "select outcome from payment_events where order_id = 'order-a'",
      );
      return typeof row?.outcome === 'string';
    });
    const [row] = await db().execute<{ outcome: string }[]>(
      "select outcome from payment_events where order_id = 'order-a'",
    );
    expect(row?.outcome).toBe('USER_MISMATCH');
    expect(await statusOf(id)).toBe('RESERVED');
    expect((await history(id)).at(-1)).toBe('ISSUED>RESERVED admin-1');
  });

  it('applies COMPLETED then CANCELLED of one order in offset order (bridge and two worker processes running)', async () => {
    const orders = Array.from({ length: 20 }, (_, i) => `order-seq-${i}`);
    const ids = await Promise.all(
      orders.map((order, i) => reservedCoupon(stack, policyId, `seq-${i}`, order)),
    );
    await sendPayments(
      producer,
      topics.payments,
      orders.flatMap((order, i) => [
        paymentMessage('PAYMENT_COMPLETED', order, `seq-${i}`),
        paymentMessage('PAYMENT_CANCELLED', order, `seq-${i}`),
      ]),
    );
    await waitFor('every order restored', async () => {
      const rows = await db().execute<{ n: number }[]>(
        `select count(*)::int as n from payment_events
          where order_id in (select jsonb_array_elements_text(?::jsonb)) and applied_at is not null`,
        [JSON.stringify(orders)],
      );
      return rows[0]?.n === orders.length * 2;
    });
    for (const [id, status] of await statuses(ids)) {
      expect(status, id).toBe('ISSUED');
      expect((await history(id)).slice(2)).toEqual([
        'RESERVED>USED system:payment',
        'USED>ISSUED system:payment',
      ]);
    }
  });

  it('completes 1,000 reserved orders from one burst, and the consumer lag returns to 0', async () => {
    const orders = Array.from({ length: 1000 }, (_, i) => `order-burst-${i}`);
    const ids: string[] = [];
    for (let i = 0; i < orders.length; i += 100) {
      ids.push(
        ...(await Promise.all(
          orders
            .slice(i, i + 100)
            .map((order, j) => reservedCoupon(stack, policyId, `burst-${i + j}`, order)),
        )),
      );
    }
    const started = Date.now();
    await sendPayments(
      producer,
      topics.payments,
      orders.map((order, i) => paymentMessage('PAYMENT_COMPLETED', order, `burst-${i}`)),
    );
    await waitFor(
      '1,000 coupons USED',
      async () => [...(await statuses(ids)).values()].every((s) => s === 'USED'),
      120_000,
    );
    console.log(`1,000 payment events applied in ${Date.now() - started} ms`);
    await settledLag();
  });

  it('publishes exactly one COUPON_ISSUED, COUPON_RESERVED and COUPON_USED, in that order', async () => {
    const consumer: Consumer = kafka.consumer({
      groupId: uniqueName('test-reader'),
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.events, fromBeginning: true });
    const seen: { couponId: string; type: string; eventId: string }[] = [];
    await consumer.run({
      eachMessage: eachStoredMessageOnce(({ message }) => {
        seen.push(JSON.parse(message.value?.toString() ?? '{}'));
      }),
    });
    try {
      const id = await reservedCoupon(stack, policyId, 'story', 'order-story');
      const use = await stack.request('POST', `/v1/coupons/${id}/use`, ADMIN, {
        orderId: 'order-story',
        orderAmount: 30000,
      });
      expect((await settledJob(stack, use.body.jobId)).state).toBe('completed');
      await waitFor(
        'three events for the coupon',
        async () => seen.filter((e) => e.couponId === id).length >= 3,
      );
      // Nothing more may follow: wait until the relay has nothing left, then look again.
      await waitFor('an empty outbox', async () => {
        const [row] = await db().execute<{ n: number }[]>(
          'select count(*)::int as n from outbox where published_at is null',
        );
        return row?.n === 0;
      });
      const mine = seen.filter((e) => e.couponId === id);
      expect(mine.map((e) => e.type)).toEqual(['COUPON_ISSUED', 'COUPON_RESERVED', 'COUPON_USED']);
      expect(new Set(mine.map((e) => e.eventId)).size).toBe(3);
    } finally {
      await consumer.disconnect();
    }
  });

  it('counts applied events by type and outcome, and DLQ messages by reason, on /metrics', async () => {
    const used = 'coupon_payment_events_total{type="PAYMENT_COMPLETED",outcome="COUPON_USED"}';
    const noCoupon = 'coupon_payment_events_total{type="PAYMENT_FAILED",outcome="NO_COUPON"}';
    const invalid = 'coupon_kafka_dlq_total{reason="INVALID_EVENT"}';
    const mismatch = 'coupon_kafka_dlq_total{reason="KEY_MISMATCH"}';
    const before = await scrape(stack.app);
    expect(before.types.get('coupon_payment_events_total')).toBe('counter');
    expect(before.types.get('coupon_kafka_dlq_total')).toBe('counter');

    const id = await reservedCoupon(stack, policyId, 'metrics', 'order-metrics');
    const event = (type: string, orderId: string) => ({
      eventId: crypto.randomUUID(),
      type,
      orderId,
      userId: 'metrics',
      amount: 27000,
      occurredAt: new Date().toISOString(),
    });
    const nul = event('PAYMENT_COMPLETED', 'order\u0000metrics');
    await sendPayments(producer, topics.payments, [
      { key: nul.orderId, value: JSON.stringify(nul) },
      { key: 'order-metrics', value: JSON.stringify(event('PAYMENT_FAILED', 'order-other')) },
      { key: 'order-nobody', value: JSON.stringify(event('PAYMENT_FAILED', 'order-nobody')) },
      { key: 'order-metrics', value: JSON.stringify(event('PAYMENT_COMPLETED', 'order-metrics')) },
    ]);
    await waitFor('USED', async () => (await statusOf(id)) === 'USED');
    await settledLag();
    const delta = async (name: string) =>
      ((await scrape(stack.app)).samples.get(name) ?? 0) - (before.samples.get(name) ?? 0);
    // Counts reach Redis within a flush interval of the work.
    await waitFor(
      'the counts',
      async () => (await delta(used)) >= 1 && (await delta(mismatch)) >= 1,
      20_000,
    );
    expect(await delta(used)).toBe(1);
    expect(await delta(noCoupon)).toBe(1);
    expect(await delta(invalid)).toBe(1);
    expect(await delta(mismatch)).toBe(1);
  });

  it('money: a paid amount other than the payable one is AMOUNT_MISMATCH; refunds add up to a restore', async () => {
    const outcomeKey = (outcome: string) =>
      `coupon_payment_events_total{type="PAYMENT_COMPLETED",outcome="${outcome}"}`;
    const before = await scrape(stack.app);
    const paid = await reservedCoupon(stack, policyId, 'payer', 'order-short');
    // 27,000 is payable (30,000 less 10%); the payment service took 100.
    await sendPayments(producer, topics.payments, [
      paymentMessage('PAYMENT_COMPLETED', 'order-short', 'payer', crypto.randomUUID(), 100),
    ]);
    await waitFor('USED', async () => (await statusOf(paid)) === 'USED');
    /** The order's payment events once `n` of them are applied, as "TYPE amount OUTCOME". */
    async function applied(orderId: string, n: number): Promise<string[]> {
      let lines: string[] = [];
      await waitFor(`${n} applied events of ${orderId}`, async () => {
        const res = await stack.request('GET', `/v1/orders/${orderId}`, ADMIN);
        const payments: { type: string; amount: number; outcome: string | null }[] =
          res.body.payments;
        lines = payments.map((p) => `${p.type} ${p.amount} ${p.outcome}`);
        return payments.length === n && payments.every((p) => p.outcome !== null);
      });
      return lines;
    }
    expect(await applied('order-short', 1)).toEqual(['PAYMENT_COMPLETED 100 AMOUNT_MISMATCH']);
    await waitFor(
      'the count',
      async () => {
        const after = await scrape(stack.app);
        const delta =
          (after.samples.get(outcomeKey('AMOUNT_MISMATCH')) ?? 0) -
          (before.samples.get(outcomeKey('AMOUNT_MISMATCH')) ?? 0);
        return delta === 1;
      },
      20_000,
    );

    const refunded = await reservedCoupon(stack, policyId, 'refunder', 'order-refund');
    await sendPayments(producer, topics.payments, [
      paymentMessage('PAYMENT_COMPLETED', 'order-refund', 'refunder'),
      paymentMessage('PAYMENT_REFUNDED', 'order-refund', 'refunder', crypto.randomUUID(), 7000),
    ]);
    expect(await applied('order-refund', 2)).toEqual([
      'PAYMENT_COMPLETED 27000 COUPON_USED',
      'PAYMENT_REFUNDED 7000 PARTIAL_REFUND',
    ]);
    expect(await statusOf(refunded)).toBe('USED');
    await sendPayments(producer, topics.payments, [
      paymentMessage('PAYMENT_REFUNDED', 'order-refund', 'refunder', crypto.randomUUID(), 20000),
    ]);
    await waitFor('restored', async () => (await statusOf(refunded)) === 'ISSUED');
    expect(await applied('order-refund', 3)).toEqual([
      'PAYMENT_COMPLETED 27000 COUPON_USED',
      'PAYMENT_REFUNDED 7000 PARTIAL_REFUND',
      'PAYMENT_REFUNDED 20000 COUPON_RESTORED',
    ]);
    expect((await history(refunded)).at(-1)).toBe('USED>ISSUED system:payment');
  });
});
