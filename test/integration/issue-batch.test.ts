import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicy } from '../../src/app/create-policy.js';
import { type IssueRequest, issueGroup } from '../../src/app/issue-coupons.js';
import type { IssueJobData } from '../../src/infra/queue/jobs.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

/**
 * The crash-retry path of a group, on real PostgreSQL: a job whose group committed but whose
 * acknowledgement was lost runs again and must get the same coupon, never a second one.
 */
describe('issueBatch re-runs', () => {
  let db: TestDatabase;
  let policyId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    const now = Date.now();
    const created = await createPolicy(
      databasePorts(db.orm),
      {
        name: 'retry',
        discountType: 'FIXED_AMOUNT',
        discountValue: 1000,
        issueType: 'DIRECT',
        totalQuantity: 10,
        perUserLimit: 3,
        validFrom: new Date(now - 3_600_000),
        validUntil: new Date(now + 86_400_000),
      },
      { actor: 'admin', requestId: null },
    );
    if (!created.ok) throw new Error('the policy is not consistent');
    policyId = created.value.id;
  });
  afterAll(() => db.drop());

  const request = (jobId: string, userId: string, firstRun: boolean): IssueRequest => ({
    jobId,
    firstRun,
    data: {
      type: 'ISSUE',
      actor: userId,
      userId,
      policyId,
    } satisfies IssueJobData,
  });

  const coupons = async () =>
    (
      await db.orm.em
        .fork()
        .execute<{ n: number }[]>('select count(*)::int as n from coupons where policy_id = ?', [
          policyId,
        ])
    )[0]?.n;

  it('gives a job started again the coupon its first run committed', async () => {
    const first = await issueGroup(
      databasePorts(db.orm),
      [request('job-a', 'alice', true), request('job-b', 'bob', true)],
      new Date(),
    );
    expect(first.outcomes.every((o) => o.ok)).toBe(true);
    // The worker died before acknowledging job-a: it runs again, now in another group.
    const again = await issueGroup(
      databasePorts(db.orm),
      [request('job-c', 'carol', true), request('job-a', 'alice', false)],
      new Date(),
    );
    const [carol, alice] = again.outcomes;
    expect(carol?.ok).toBe(true);
    const issued = first.outcomes[0];
    expect(alice?.ok && issued?.ok && alice.value.id === issued.value.id).toBe(true);
    expect(await coupons()).toBe(3);
  });

  it('refuses a group naming an issued job as new, and its retry gets the coupon', async () => {
    // A job id added afresh after its record expired: the unique issue_job_id stops the group.
    await expect(
      issueGroup(
        databasePorts(db.orm),
        [request('job-d', 'dave', true), request('job-b', 'bob', true)],
        new Date(),
      ),
    ).rejects.toThrow(/issue_job/);
    expect(await coupons()).toBe(3);
    // Rolled back whole: the quota count and the outbox did not move either.
    const [after] = await db.orm.em.fork().execute<{ issued: number; events: number }[]>(
      `select (select issued_count from coupon_policies where id = ?) as issued,
                (select count(*)::int from outbox where payload->>'policyId' = ?) as events`,
      [policyId, policyId],
    );
    expect(after).toEqual({ issued: 3, events: 3 });
    const retry = await issueGroup(
      databasePorts(db.orm),
      [request('job-d', 'dave', false), request('job-b', 'bob', false)],
      new Date(),
    );
    expect(retry.outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(await coupons()).toBe(4);
  });
});
