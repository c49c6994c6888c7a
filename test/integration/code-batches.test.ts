import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pruneOldRecords } from '../../src/app/prune-old-records.js';
import { hashBatchCode } from '../../src/infra/codes.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { workerProcesses } from '../support/process.js';
import { ADMIN, createStack, type Stack, settledJob, user } from '../support/stack.js';
import { authHeaders, TEST_CODE_SECRET } from '../support/tokens.js';

/** Code batches on real PostgreSQL and Redis: made in chunks by a job, exported as CSV. */

async function codePolicy(stack: Stack, totalQuantity: number) {
  return stack.createPolicy({ issueType: 'CODE', totalQuantity });
}

async function exportCsv(stack: Stack, policyId: string, batchId: string) {
  const res = await stack.app.request(
    `/v1/policies/${policyId}/code-batches/${batchId}/codes.csv`,
    { headers: { ...(await authHeaders(...ADMIN)), 'X-Request-Id': `export-${batchId}` } },
  );
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function hashesOf(stack: Stack, policyId: string): Promise<Set<string>> {
  const rows = await stack.db.orm.em
    .getConnection()
    .execute<{ h: string }[]>(
      "select encode(code_hash, 'hex') as h from coupon_codes where policy_id = ?",
      [policyId],
    );
  return new Set(rows.map((row) => row.h));
}

describe('code batches', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  it('refuses a batch over the quota up front (409), also when two race, and a DIRECT policy', async () => {
    const policyId = await codePolicy(stack, 100);
    const [a, b] = await Promise.all(
      [60, 60].map((count) =>
        stack.request('POST', `/v1/policies/${policyId}/code-batches`, ADMIN, { count }),
      ),
    );
    expect([a?.status, b?.status].sort()).toEqual([202, 409]);
    const over = [a, b].find((res) => res?.status === 409);
    expect(over?.body.error.code).toBe('CONFLICT');
    const direct = await stack.createPolicy();
    const res = await stack.request('POST', `/v1/policies/${direct}/code-batches`, ADMIN, {
      count: 1,
    });
    expect(res.status).toBe(409);
    const bad = await stack.request('POST', `/v1/policies/${policyId}/code-batches`, ADMIN, {
      count: 1,
      prefix: 'bf_',
    });
    expect(bad.status).toBe(400);
    // No worker runs yet: the accepted batch is still being made.
    const accepted = [a, b].find((res) => res?.status === 202)?.body;
    expect(accepted).toMatchObject({ statusUrl: `/v1/jobs/${accepted.jobId}` });
    expect((await exportCsv(stack, policyId, accepted.batchId)).status).toBe(409);
    const unknown = await exportCsv(stack, policyId, '00000000-0000-7000-8000-000000000000');
    expect(unknown.status).toBe(404);
  });

  it('makes 25,000 codes in chunks, exports them as CSV (audited), each redeemable, then 410 after the TTL', async () => {
    stack.startWorkers();
    const policyId = await codePolicy(stack, 25_000);
    const created = await stack.request('POST', `/v1/policies/${policyId}/code-batches`, ADMIN, {
      count: 25_000,
      prefix: 'BF-',
    });
    expect(created.status).toBe(202);
    const { batchId, jobId } = created.body;
    const job = await settledJob(stack, jobId);
    expect(job).toMatchObject({
      type: 'CODE_BATCH',
      state: 'completed',
      progress: { done: 25_000, total: 25_000 },
      result: { batchId, done: 25_000, total: 25_000 },
    });

    const csv = await exportCsv(stack, policyId, batchId);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('code');
    const codes = lines.slice(1);
    expect(codes).toHaveLength(25_000);
    expect(new Set(codes).size).toBe(25_000);
    expect(codes.every((code) => /^BF-[A-Z2-9]{12}$/.test(code))).toBe(true);
    const hashes = await hashesOf(stack, policyId);
    expect(hashes.size).toBe(25_000);
    expect(codes.every((code) => hashes.has(hashBatchCode(TEST_CODE_SECRET, code)))).toBe(true);

    const audit = await stack.request('GET', '/v1/audit?limit=100', ADMIN);
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        action: 'policy.codes.export',
        target: `policy:${policyId}`,
        requestId: `export-${batchId}`,
        details: { batchId, count: 25_000 },
      }),
    );

    for (const [i, code] of codes.slice(0, 3).entries()) {
      const typed = i === 0 ? code.toLowerCase() : code;
      const res = await stack.request('POST', '/v1/issuances', user(`redeemer-${i}`), {
        code: typed,
      });
      expect(res.status).toBe(202);
      expect(await settledJob(stack, res.body.jobId, user(`redeemer-${i}`))).toMatchObject({
        state: 'completed',
      });
    }

    await stack.db.orm.em
      .getConnection()
      .execute(
        "update code_batches set export_expires_at = now() - interval '1 hour' where id = ?",
        [batchId],
      );
    const pruned = await pruneOldRecords(databasePorts(stack.db.orm), {
      now: new Date(),
      outboxDays: 7,
      paymentEventDays: 30,
    });
    expect(pruned.codeExports).toBe(25_000);
    const [left] = await stack.db.orm.em
      .getConnection()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from code_batch_codes where batch_id = ?',
        [batchId],
      );
    expect(left?.n).toBe(0);
    const gone = await exportCsv(stack, policyId, batchId);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.text).error.code).toBe('GONE');
    // The hashes stay: redemption never needed the plaintext.
    expect((await hashesOf(stack, policyId)).size).toBe(25_000);
  });
});

describe('a code batch across a killed worker process', () => {
  let stack: Stack;
  const workers = workerProcesses(() => stack.envVars);
  beforeAll(async () => {
    stack = await createStack();
  });
  afterEach(() => workers.stopAll());
  afterAll(() => stack.close());

  const worker = () => workers.start();

  it('goes on from the committed chunks after a SIGKILL and ends with exactly count distinct codes', async () => {
    const count = 150_000;
    const policyId = await codePolicy(stack, count);
    const first = await worker();
    const created = await stack.request('POST', `/v1/policies/${policyId}/code-batches`, ADMIN, {
      count,
    });
    expect(created.status).toBe(202);
    const { batchId, jobId } = created.body;

    let seen = { done: 0, total: count };
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const job = await stack.request('GET', `/v1/jobs/${jobId}`, ADMIN);
      seen = job.body.progress ?? seen;
      if (seen.done > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen.done).toBeGreaterThan(0);
    expect(seen.done).toBeLessThan(count);
    await first.stop('SIGKILL');
    const [atKill] = await stack.db.orm.em
      .getConnection()
      .execute<{ done: number }[]>('select done from code_batches where id = ?', [batchId]);
    expect(atKill?.done).toBeLessThan(count);

    await worker();
    const job = await settledJob(stack, jobId);
    expect(job).toMatchObject({ state: 'completed', progress: { done: count, total: count } });

    const csv = await exportCsv(stack, policyId, batchId);
    expect(csv.status).toBe(200);
    const codes = csv.text.trimEnd().split('\n').slice(1);
    expect(codes).toHaveLength(count);
    expect(new Set(codes).size).toBe(count);
    const hashes = await hashesOf(stack, policyId);
    expect(hashes.size).toBe(count);
    expect(codes.every((code) => hashes.has(hashBatchCode(TEST_CODE_SECRET, code)))).toBe(true);
  }, 120_000);
});
