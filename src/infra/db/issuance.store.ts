import type { EntityManager } from '@mikro-orm/postgresql';
import type { CodeRow, Grant, IssuanceStore, IssuanceTx, StoredPolicy } from '../../app/ports.js';
import { type Coupon, couponEvent } from '../../domain/index.js';
import { newId } from '../ids.js';
import { insertOutboxFrom } from './outbox.js';
import { COUPON_COLUMNS, POLICY_COLUMNS, toCoupon, toPolicy } from './row-to-domain.js';
import { inTransaction, json, pgArray, query } from './sql.js';

/**
 * The issuance unit of work in PostgreSQL: the codes, policies and earlier coupons of a group read
 * under their row locks, and the group's coupons written in one statement. The database refuses
 * what the code must never do: `issued_count > total_quantity`, two coupons for one code, two
 * coupons in one per-user slot, two coupons for one job.
 */
export function issuanceStore(fork: () => EntityManager): IssuanceStore {
  return {
    transaction: (work) => inTransaction(fork(), (tx) => work(issuanceTx(tx))),
  };
}

function issuanceTx(tx: EntityManager): IssuanceTx {
  return {
    lockCodes: (hashes) => lockCodes(tx, hashes),
    policiesByPublicCode: (hashes) => policiesByPublicCode(tx, hashes),
    lockPolicies: (ids) => lockPolicies(tx, ids),
    couponsOfJobs: (jobIds) => couponsOfJobs(tx, jobIds),
    countUserCoupons: (pairs) => countUserCoupons(tx, pairs),
    writeIssued: (granted, now) => writeIssued(tx, granted, now),
  };
}

async function lockCodes(tx: EntityManager, hashes: string[]): Promise<Map<string, CodeRow>> {
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

async function policiesByPublicCode(
  tx: EntityManager,
  hashes: string[],
): Promise<Map<string, string>> {
  if (hashes.length === 0) return new Map();
  const rows = await query<{ id: string; hash: string }>(
    tx,
    `select id, encode(public_code_hash, 'hex') as hash
       from coupon_policies
      where public_code_hash in (select decode(h, 'hex') from jsonb_array_elements_text(?::jsonb) h)`,
    [json(hashes)],
  );
  return new Map(rows.map((row) => [row.hash, row.id]));
}

async function lockPolicies(tx: EntityManager, ids: string[]): Promise<Map<string, StoredPolicy>> {
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

/** Coupons each (policy, user) of the group ever received, whatever their status now. */
async function countUserCoupons(
  tx: EntityManager,
  pairs: { policyId: string; userId: string }[],
): Promise<Map<string, number>> {
  if (pairs.length === 0) return new Map();
  // Both lists as arrays: the (policy_id, user_id, user_slot) index answers; pairs outside the
  // batch that the cross product also matches are counted too, and never looked up.
  const rows = await query<{ policyId: string; userId: string; n: number }>(
    tx,
    `select c.policy_id as "policyId", c.user_id as "userId", count(*)::int as n
       from coupons c
      where c.policy_id = any(?::uuid[]) and c.user_id = any(?::text[])
      group by c.policy_id, c.user_id`,
    [
      pgArray([...new Set(pairs.map((v) => v.policyId))]),
      pgArray([...new Set(pairs.map((v) => v.userId))]),
    ],
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
