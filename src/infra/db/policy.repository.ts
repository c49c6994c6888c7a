import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type CouponPolicy,
  type NewPolicyInput,
  newPolicy,
  type PolicyStatus,
} from '../../domain/index.js';
import { hashCode, newCode } from '../codes.js';
import { newId } from '../ids.js';
import { type AuditEntry, writeAudit } from './audit.js';
import { PolicyEntity, type PolicyRecord } from './entities.js';
import { inTransaction, json, query } from './sql.js';

export function policyView(policy: CouponPolicy) {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    discountType: policy.discountType,
    discountValue: policy.discountValue,
    maxDiscountAmount: policy.maxDiscountAmount,
    minOrderAmount: policy.minOrderAmount,
    issueType: policy.issueType,
    totalQuantity: policy.totalQuantity,
    perUserLimit: policy.perUserLimit,
    validFrom: policy.validFrom.toISOString(),
    validUntil: policy.validUntil.toISOString(),
    validDaysAfterIssue: policy.validDaysAfterIssue,
    status: policy.status,
    issuedCount: policy.issuedCount,
    createdAt: policy.createdAt.toISOString(),
  };
}

/** Who did it, for the audit log: written in the change's own transaction. */
export type AuditBy = Omit<AuditEntry, 'action' | 'target' | 'details'>;

export function createPolicy(
  em: EntityManager,
  input: NewPolicyInput,
  audit?: AuditBy,
): Promise<CouponPolicy> {
  const now = new Date();
  const record: PolicyRecord = {
    ...newPolicy(input, { id: newId(), now }),
    codesGenerated: 0,
    updatedAt: now,
  };
  return inTransaction(em, async (tx) => {
    tx.persist(tx.create(PolicyEntity, record));
    await tx.flush();
    if (audit) {
      await writeAudit(tx, {
        ...audit,
        action: 'policy.create',
        target: `policy:${record.id}`,
        details: {
          name: record.name,
          issueType: record.issueType,
          totalQuantity: record.totalQuantity,
        },
      });
    }
    return record;
  });
}

export function findPolicy(em: EntityManager, id: string): Promise<PolicyRecord | null> {
  return em.findOne(PolicyEntity, { id });
}

/** Newest first; ids are UUIDv7, so id order is creation order. */
export async function listPolicies(
  em: EntityManager,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<{ items: PolicyRecord[]; nextCursor: string | null }> {
  const rows = await em.find(PolicyEntity, cursor ? { id: { $lt: cursor } } : {}, {
    orderBy: { id: 'desc' },
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export function setPolicyStatus(
  em: EntityManager,
  id: string,
  status: PolicyStatus,
  audit?: AuditBy,
): Promise<PolicyRecord | null> {
  return inTransaction(em, async (tx) => {
    const policy = await tx.findOne(PolicyEntity, { id });
    if (!policy) return null;
    const from = policy.status;
    policy.status = status;
    policy.updatedAt = new Date();
    await tx.flush();
    if (audit) {
      await writeAudit(tx, {
        ...audit,
        action: 'policy.status',
        target: `policy:${id}`,
        details: { from, to: status },
      });
    }
    return policy;
  });
}

export type CodeGeneration =
  | { ok: true; codes: string[] }
  | { ok: false; reason: 'NOT_FOUND' | 'NOT_CODE_POLICY' | 'OVER_QUOTA'; available?: number };

/**
 * Makes `count` new single-use codes. The policy row is locked so concurrent calls cannot together
 * pass the quota; only the keyed hashes are stored, the plaintext is returned once.
 */
export function generateCodes(
  em: EntityManager,
  {
    policyId,
    count,
    secret,
    audit,
  }: { policyId: string; count: number; secret: string; audit?: AuditBy },
): Promise<CodeGeneration> {
  return inTransaction(em, async (tx) => {
    const [policy] = await query<{ issueType: string; total: number; generated: number }>(
      tx,
      `select issue_type as "issueType", total_quantity as total, codes_generated as generated
         from coupon_policies where id = ? for update`,
      [policyId],
    );
    if (!policy) return { ok: false, reason: 'NOT_FOUND' };
    if (policy.issueType !== 'CODE') return { ok: false, reason: 'NOT_CODE_POLICY' };
    if (policy.generated + count > policy.total) {
      return { ok: false, reason: 'OVER_QUOTA', available: policy.total - policy.generated };
    }
    const codes: string[] = [];
    while (codes.length < count) {
      const byHash = new Map(
        Array.from({ length: count - codes.length }, () => {
          const code = newCode();
          return [hashCode(secret, code), code] as const;
        }),
      );
      // A collision among 31^12 codes is astronomically rare; when it happens the loop draws again.
      const inserted = await query<{ hash: string }>(
        tx,
        `insert into coupon_codes (id, policy_id, code_hash)
         select x.id, ?, decode(x.hash, 'hex')
           from jsonb_to_recordset(?::jsonb) as x(id uuid, hash text)
         on conflict (code_hash) do nothing
         returning encode(code_hash, 'hex') as hash`,
        [policyId, json([...byHash.keys()].map((hash) => ({ id: newId(), hash })))],
      );
      for (const { hash } of inserted) codes.push(byHash.get(hash) as string);
    }
    await query(
      tx,
      'update coupon_policies set codes_generated = codes_generated + ? where id = ?',
      [count, policyId],
    );
    if (audit) {
      // The count only: the plaintext codes exist once, in the response.
      await writeAudit(tx, {
        ...audit,
        action: 'policy.codes',
        target: `policy:${policyId}`,
        details: { count },
      });
    }
    return { ok: true, codes };
  });
}
