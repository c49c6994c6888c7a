import type { CouponPolicy, PolicyStatus } from '../../domain/index.js';
import type { Page } from './basics.js';

/** Policies, their audit log and their statistics. */

/** Who did a state-changing admin action, for the audit log. */
export interface AuditBy {
  /** The admin's `sub`, or the operator's Basic user. */
  actor: string;
  requestId: string | null;
}

/** One state-changing admin action, as the audit log keeps it. */
export interface AuditEntry extends AuditBy {
  /**
   * `policy.create`, `policy.status`, `policy.codes`, `policy.code-batches`, `policy.codes.export`,
   * `coupon.cancel`, `queues.write`.
   */
  action: string;
  /** `policy:<id>`, `coupon:<id>`, `queue:<name>`. */
  target: string;
  /** What else tells the action apart (never a secret or a plaintext code). */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  actor: string;
  action: string;
  target: string;
  requestId: string | null;
  at: string;
  details: Record<string, unknown>;
}

export interface AuditLog {
  /** Writes the entry on its own (outside any change's transaction). */
  write(entry: AuditEntry): Promise<void>;
  /** Newest first; `cursor` is the id of the last record of the previous page. */
  list(page: { limit: number; cursor?: string }): Promise<Page<AuditRecord>>;
}

/**
 * A policy with the count of codes generated for it and what its budget has given (the discounts
 * of its RESERVED and USED coupons, kept for budgeted policies).
 */
export type StoredPolicy = CouponPolicy & { codesGenerated: number; budgetSpent: number };

export interface PolicyTx {
  /**
   * Inserts the policy with its public code's keyed hash, if any; false (nothing written) when
   * another policy has that public code.
   */
  insert(policy: StoredPolicy, publicCodeHash: string | null): Promise<boolean>;
  /** The policy, locked for the rest of the transaction. */
  lock(id: string): Promise<StoredPolicy | null>;
  setStatus(id: string, status: PolicyStatus, now: Date): Promise<void>;
  /**
   * Stores `count` new codes' keyed hashes for the policy and counts them as generated; returns
   * their plaintext (which exists nowhere else).
   */
  addCodes(policyId: string, count: number): Promise<string[]>;
  /** Records a code batch and counts its codes as generated (they are made later, by its job). */
  addBatch(batch: NewCodeBatch): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
}

export interface NewCodeBatch {
  id: string;
  policyId: string;
  count: number;
  /** Written before each code's random characters; `''` for none. */
  prefix: string;
  /** Random characters after the prefix. */
  length: number;
  /** Who asked for it: the only one besides admins who may read its job. */
  actor: string;
}

/** A code batch and how far its job got. */
export interface CodeBatch extends NewCodeBatch {
  /** Codes made and committed so far. */
  done: number;
  completedAt: Date | null;
  /** When its export ends and its encrypted plaintext is deleted; null until it is complete. */
  exportExpiresAt: Date | null;
}

/** Code batches in the database: their codes' keyed hashes and encrypted plaintext. */
export interface CodeBatchStore {
  find(batchId: string): Promise<CodeBatch | null>;
  /**
   * Makes the batch's next codes (up to `size`, never past its count) in one transaction: their
   * keyed hashes, their encrypted plaintext and the batch's new `done` commit together. Returns
   * the progress after it.
   */
  addChunk(batchId: string, size: number): Promise<{ done: number; total: number }>;
  /** Marks the batch complete (once) and sets when its export expires. */
  complete(batchId: string, now: Date, exportExpiresAt: Date): Promise<void>;
  /** The batch's codes after position `after` (1-based, in the order they were made), decrypted. */
  codes(batchId: string, after: number, limit: number): Promise<{ seq: number; code: string }[]>;
}

export interface PolicyStore {
  transaction<T>(work: (tx: PolicyTx) => Promise<T>): Promise<T>;
  find(id: string): Promise<StoredPolicy | null>;
  /** Newest first; `cursor` is the id of the last policy of the previous page. */
  list(page: { limit: number; cursor?: string }): Promise<Page<StoredPolicy>>;
}

/** Counts of a policy's coupons by status, as `GET /v1/policies/:id/statistics` shows them. */
export interface PolicyStatistics {
  policyId: string;
  totalQuantity: number;
  issuedCount: number;
  reservedCount: number;
  usedCount: number;
  expiredCount: number;
  cancelledCount: number;
  remainingQuantity: number;
  usageRate: number;
  totalDiscountAmount: number;
  /** The policy's spend budget; null without one. */
  budget: number | null;
  /** The discounts of its RESERVED and USED coupons. */
  budgetSpent: number;
  /** `budget − budgetSpent`, never below 0; null without a budget. */
  budgetRemaining: number | null;
}

/** The statistics: computed from PostgreSQL, kept in a cache that every committed change outdates. */
export interface Statistics {
  /** One aggregate query over the policy's coupons; null for an unknown policy. */
  compute(policyId: string): Promise<PolicyStatistics | null>;
  /** The cached value while current, else `compute()`'s, cached. */
  cached(
    policyId: string,
    compute: () => Promise<PolicyStatistics | null>,
  ): Promise<PolicyStatistics | null>;
  /** Outdates the cached values of these policies; called after every commit that changes coupons. */
  changed(policyIds: Iterable<string>): Promise<void>;
}
