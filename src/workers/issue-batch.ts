import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type Coupon,
  type CouponPolicy,
  checkIssuance,
  couponEvent,
  isSoldOut,
  newCoupon,
  type Outcome,
  ok,
  reject,
} from '../domain/index.js';
import { insertOutboxFrom } from '../infra/db/outbox.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from '../infra/db/rows.js';
import { inTransaction, json, pgArray, query } from '../infra/db/sql.js';
import { newId } from '../infra/ids.js';
import type { IssueJobData } from '../infra/queue/jobs.js';

export interface IssueRequest {
  jobId: string;
  data: IssueJobData;
  /**
   * The job runs for the first time (BullMQ's `attemptsStarted` is 1), so it cannot have issued a
   * coupon before and its earlier coupon is not looked up.
   */
  firstRun: boolean;
}

type Policy = CouponPolicy & { codesGenerated: number };

interface Grant {
  coupon: Coupon;
  slot: number;
  jobId: string;
  codeId: string | null;
  actor: string;
}

interface CodeRow {
  id: string;
  policyId: string;
  codeHash: string;
  redeemed: boolean;
}

/**
 * Issues a group of requests in ONE transaction, each with its own outcome, in arrival order.
 *
 * Exactness does not depend on how many workers run or how often a job is retried:
 * - the policy rows are locked (`FOR UPDATE`, in id order, after the code rows in hash order, so
 *   two batches never deadlock), so counts read under the lock stay true until commit;
 * - a job that already issued (a retry after a crash between commit and acknowledgement) gets its
 *   coupon back, found by the unique `issue_job_id`. Only jobs started before are looked up; should
 *   a job id ever be added afresh after its record expired, the unique `issue_job_id` refuses the
 *   group, and the worker runs the group without it and that job again with the lookup
 *   (`runIsolating`), which finds the coupon;
 * - the database refuses what the code must never do: `issued_count > total_quantity`, two coupons
 *   for one code, two coupons in one per-user slot, two coupons for one job.
 */
export interface IssueBatchResult {
  /** One per request, in order. */
  outcomes: Outcome<Coupon>[];
  /** Policies of the batch that were sold out at commit (see the domain's `isSoldOut`). */
  soldOut: { id: string; validUntil: Date }[];
}

export async function issueBatch(
  em: EntityManager,
  requests: IssueRequest[],
  now: Date,
): Promise<IssueBatchResult> {
  return inTransaction(em, async (tx) => {
    const codes = await lockCodes(tx, requests);
    const policyIds = new Set<string>();
    for (const { data } of requests) {
      const policyId = data.policyId ?? (data.codeHash && codes.get(data.codeHash)?.policyId);
      if (policyId) policyIds.add(policyId);
    }
    const policies = await lockPolicies(tx, [...policyIds]);
    const issuedBefore = await couponsOfJobs(
      tx,
      requests.filter((r) => !r.firstRun).map((r) => r.jobId),
    );
    const userCounts = await countUserCoupons(tx, requests, policies, codes);

    const outcomes: Outcome<Coupon>[] = [];
    const granted: Grant[] = [];
    const claimedCodes = new Set<string>();
    for (const { jobId, data } of requests) {
      const already = issuedBefore.get(jobId);
      if (already) {
        outcomes.push(ok(already));
        continue;
      }
      let code: CodeRow | undefined;
      if (data.codeHash !== undefined) {
        code = codes.get(data.codeHash);
        if (!code) {
          outcomes.push(reject('CODE_INVALID'));
          continue;
        }
        if (code.redeemed || claimedCodes.has(code.id)) {
          outcomes.push(reject('CODE_ALREADY_USED'));
          continue;
        }
      }
      const policy = policies.get(code?.policyId ?? data.policyId ?? '');
      if (!policy) {
        outcomes.push(reject('POLICY_NOT_FOUND'));
        continue;
      }
      if (!code && policy.issueType === 'CODE') {
        outcomes.push(reject('CODE_INVALID', 'This policy issues coupons only against a code.'));
        continue;
      }
      const userKey = `${policy.id}\n${data.userId}`;
      const userIssuedCount = userCounts.get(userKey) ?? 0;
      const rejection = checkIssuance(policy, { userIssuedCount, now });
      if (rejection) {
        outcomes.push(rejection);
        continue;
      }
      const coupon = newCoupon(policy, { id: newId(), userId: data.userId, now });
      policy.issuedCount += 1;
      userCounts.set(userKey, userIssuedCount + 1);
      if (code) claimedCodes.add(code.id);
      granted.push({
        coupon,
        slot: userIssuedCount + 1,
        jobId,
        codeId: code?.id ?? null,
        actor: data.actor,
      });
      outcomes.push(ok(coupon));
    }

    // A job id new to BullMQ may still have its coupon: added afresh after its Idempotency-Key
    // record and its job expired. Its repeat is refused by the rules its first run passed
    // (per-user limit, a sold-out quota); it is answered from its coupon instead. Looked up only
    // for the refused, so a group of first runs that all succeed pays nothing for it.
    const refusedFirstRuns = requests.flatMap((r, i) =>
      r.firstRun && !outcomes[i]?.ok ? [r.jobId] : [],
    );
    if (refusedFirstRuns.length > 0) {
      const found = await couponsOfJobs(tx, refusedFirstRuns);
      requests.forEach(({ jobId }, i) => {
        const coupon = found.get(jobId);
        if (coupon) outcomes[i] = ok(coupon);
      });
    }

    if (granted.length > 0) await writeIssued(tx, granted, now);
    const soldOut = [...policies.values()]
      .filter((policy) => isSoldOut(policy, now))
      .map(({ id, validUntil }) => ({ id, validUntil }));
    return { outcomes, soldOut };
  });
}

async function lockCodes(
  tx: EntityManager,
  requests: IssueRequest[],
): Promise<Map<string, CodeRow>> {
  const hashes = [...new Set(requests.flatMap((r) => (r.data.codeHash ? [r.data.codeHash] : [])))];
  if (hashes.length === 0) return new Map();
  const rows = await query<CodeRow>(
    tx,
    `select id, policy_id as "policyId", encode(code_hash, 'hex') as "codeHash",
            redeemed_at is not null as redeemed
       from coupon_codes
      where code_hash in (select decode(h, 'hex') from jsonb_array_elements_text(?::jsonb) h)
      order by code_hash
        for update`,
    [json(hashes)],
  );
  return new Map(rows.map((row) => [row.codeHash, row]));
}

async function lockPolicies(tx: EntityManager, ids: string[]): Promise<Map<string, Policy>> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (valid.length === 0) return new Map();
  const rows = await query<Record<string, unknown>>(
    tx,
    `select ${POLICY_COLUMNS}
       from coupon_policies p
      where p.id = any(?::uuid[])
      order by p.id
        for update`,
    [pgArray(valid)],
  );
  return new Map(rows.map((row) => [row.id as string, toPolicy(row as never)]));
}

async function couponsOfJobs(tx: EntityManager, jobIds: string[]): Promise<Map<string, Coupon>> {
  if (jobIds.length === 0) return new Map();
  const rows = await query<Record<string, unknown>>(
    tx,
    `select ${COUPON_COLUMNS}
       from coupons c
      where c.issue_job_id = any(?::text[])`,
    [pgArray(jobIds)],
  );
  return new Map(rows.map((row) => [row.issueJobId as string, toCoupon(row as never)]));
}

/** Coupons each (policy, user) of the batch ever received, whatever their status now. */
async function countUserCoupons(
  tx: EntityManager,
  requests: IssueRequest[],
  policies: Map<string, Policy>,
  codes: Map<string, CodeRow>,
): Promise<Map<string, number>> {
  const pairs = new Map<string, { p: string; u: string }>();
  for (const { data } of requests) {
    const policyId = data.codeHash ? codes.get(data.codeHash)?.policyId : data.policyId;
    if (policyId && policies.has(policyId)) {
      pairs.set(`${policyId}\n${data.userId}`, { p: policyId, u: data.userId });
    }
  }
  if (pairs.size === 0) return new Map();
  const values = [...pairs.values()];
  // Both lists as arrays: the (policy_id, user_id, user_slot) index answers; pairs outside the
  // batch that the cross product also matches are counted too, and never looked up.
  const rows = await query<{ policyId: string; userId: string; n: number }>(
    tx,
    `select c.policy_id as "policyId", c.user_id as "userId", count(*)::int as n
       from coupons c
      where c.policy_id = any(?::uuid[]) and c.user_id = any(?::text[])
      group by c.policy_id, c.user_id`,
    [pgArray([...new Set(values.map((v) => v.p))]), pgArray([...new Set(values.map((v) => v.u))])],
  );
  return new Map(rows.map((row) => [`${row.policyId}\n${row.userId}`, row.n]));
}

/**
 * Writes a group's coupons in ONE statement (one round trip, whatever the group's size): the
 * conditional quota update, the coupons, redeemed codes, history and outbox rows. PostgreSQL runs
 * the foreign-key checks at the end of the statement, so history rows may name coupons inserted
 * beside them.
 */
async function writeIssued(tx: EntityManager, granted: Grant[], now: Date): Promise<void> {
  const [result] = await query<{ updated: number; expected: number }>(
    tx,
    `with x as (
       select * from jsonb_to_recordset(?::jsonb)
         as x(id uuid, policy_id uuid, user_id text, slot int, at timestamptz,
              expires_at timestamptz, job_id text, code_id uuid, actor text, event jsonb)
     ), per_policy as (
       select policy_id as id, count(*)::int as n from x group by policy_id
     ), quota as (
       -- Conditional even under the lock: a policy that would overshoot updates nothing, and the
       -- count check below turns that into an error that rolls the whole group back.
       update coupon_policies p
          set issued_count = p.issued_count + per_policy.n, updated_at = ?
         from per_policy
        where p.id = per_policy.id and p.issued_count + per_policy.n <= p.total_quantity
       returning p.id
     ), issued as (
       insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                            issue_job_id, code_id, updated_at)
       select id, policy_id, user_id, slot, 'ISSUED', at, expires_at, job_id, code_id, at from x
     ), redeemed as (
       update coupon_codes k set redeemed_at = ?, redeemed_by = x.user_id
         from x where x.code_id is not null and k.id = x.code_id
     ), history as (
       insert into coupon_history (coupon_id, from_status, to_status, actor, reason, at)
       select id, null, 'ISSUED', actor,
              case when code_id is null then 'issued' else 'code redeemed' end, ?
         from x
     ), events as (
       ${insertOutboxFrom('x')}
     )
     select (select count(*) from quota)::int as updated,
            (select count(*) from per_policy)::int as expected`,
    [
      json(
        granted.map(({ coupon, slot, jobId, codeId, actor }) => ({
          id: coupon.id,
          policy_id: coupon.policyId,
          user_id: coupon.userId,
          slot,
          at: coupon.issuedAt,
          expires_at: coupon.expiresAt,
          job_id: jobId,
          code_id: codeId,
          actor,
          event: couponEvent('COUPON_ISSUED', coupon, { eventId: newId(), now }),
        })),
      ),
      now,
      now,
      now,
    ],
  );
  if (!result || result.updated !== result.expected) {
    throw new Error('issued_count would pass total_quantity: the batch is rolled back');
  }
}
