import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * A DIRECT policy of 1,000 coupons (1,000 per user, 1,000 off, valid from an hour ago for a week),
 * inserted in SQL for the tests that work below the API. Returns its id.
 */
export async function insertPolicy(client: pg.Client, name: string): Promise<string> {
  const id = randomUUID();
  await client.query(
    `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                  total_quantity, per_user_limit, valid_from, valid_until)
     values ($1, $2, 'FIXED_AMOUNT', 1000, 'DIRECT', 1000, 1000,
             now() - interval '1 hour', now() + interval '7 days')`,
    [id, name],
  );
  return id;
}

/** An ISSUED coupon of `userId` in per-user slot `slot`, expiring `expiresInMs` from now. */
export async function insertIssuedCoupon(
  client: pg.Client,
  { policyId, userId, slot, expiresInMs = 7 * 86_400_000 }: IssuedCoupon,
): Promise<string> {
  const id = randomUUID();
  await client.query(
    `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                          issue_job_id)
     values ($1, $2, $3, $4, 'ISSUED', now(), now() + $5 * interval '1 millisecond', $6)`,
    [id, policyId, userId, slot, expiresInMs, `job-${id}`],
  );
  return id;
}

interface IssuedCoupon {
  policyId: string;
  userId: string;
  slot: number;
  expiresInMs?: number;
}
