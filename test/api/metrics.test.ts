import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheus as parse } from '../support/metrics.js';
import { ADMIN, createStack, drained, policyBody, type Stack, user } from '../support/stack.js';

describe('GET /metrics', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
    stack.startWorkers();
  });
  afterAll(() => stack.close());

  async function scrapeText() {
    const res = await stack.app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  }
  const scrape = async () => parse(await scrapeText());

  it('types the fleet-wide job totals as a counter, so rate() and increase() apply', async () => {
    const text = await scrapeText();
    expect(text.split('\n')).toContain('# TYPE coupon_jobs_total counter');
  });

  it('moves its counters by exactly the requests and jobs made', async () => {
    const { body: policy } = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ totalQuantity: 1 }),
    );
    const before = await scrape();
    const key = `http_requests_total{method="GET",route="/v1/policies/:policyId",status="200"}`;
    for (let i = 0; i < 3; i++) await stack.request('GET', `/v1/policies/${policy.id}`, user('m'));
    await stack.request('POST', '/v1/issuances', user('m1'), { policyId: policy.id });
    await stack.request('POST', '/v1/issuances', user('m2'), { policyId: policy.id });
    await drained(stack.queues.issuance, 2);
    // The worker counts an outcome just after BullMQ records it; wait for both counts to land.
    let after = await scrape();
    for (
      let i = 0;
      i < 100 &&
      (after.get('coupon_jobs_total{queue="issuance",outcome="QUOTA_EXHAUSTED"}') ?? 0) < 1;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await scrape();
    }
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta(key)).toBe(3);
    expect(
      delta(
        'http_request_duration_seconds_count{method="GET",route="/v1/policies/:policyId",status="200"}',
      ),
    ).toBe(3);
    expect(delta('coupon_jobs_total{queue="issuance",outcome="completed"}')).toBe(1);
    expect(delta('coupon_jobs_total{queue="issuance",outcome="QUOTA_EXHAUSTED"}')).toBe(1);
    expect(after.get('coupon_queue_depth{queue="issuance",state="completed"}')).toBe(1);
    expect(after.get('coupon_queue_depth{queue="issuance",state="failed"}')).toBe(1);
    const [outbox] = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>('select count(*)::int as n from outbox where published_at is null');
    expect(after.get('coupon_outbox_backlog')).toBe(outbox?.n);
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});
