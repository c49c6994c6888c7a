import type { Coupon } from '../../domain/index.js';
import type { StoredPolicy } from './policies.js';

/** The unit of work of issuance. */

/** A policy's code, as issuance locks it. */
export interface CodeRow {
  id: string;
  policyId: string;
  codeHash: string;
  redeemed: boolean;
}

/** A coupon granted by a group, as it is written. */
export interface Grant {
  coupon: Coupon;
  slot: number;
  jobId: string;
  codeId: string | null;
  actor: string;
}

export interface IssuanceTx {
  /** Codes by hash, locked in hash order. */
  lockCodes(hashes: string[]): Promise<Map<string, CodeRow>>;
  /**
   * The ids of the policies whose public code has one of these keyed hashes, by hash; read without
   * a lock (a public code never changes), before {@link IssuanceTx.lockPolicies}.
   */
  policiesByPublicCode(hashes: string[]): Promise<Map<string, string>>;
  /** Policies by id, locked in id order (after the codes, so two groups never deadlock). */
  lockPolicies(ids: string[]): Promise<Map<string, StoredPolicy>>;
  /** The coupons these jobs issued before, by job id. */
  couponsOfJobs(jobIds: string[]): Promise<Map<string, Coupon>>;
  /** Coupons each (policy, user) ever received, keyed `policyId\nuserId`. */
  countUserCoupons(pairs: { policyId: string; userId: string }[]): Promise<Map<string, number>>;
  /** Writes a group's coupons in one statement; throws (rolling back) should a quota overshoot. */
  writeIssued(granted: Grant[], now: Date): Promise<void>;
}

export interface IssuanceStore {
  transaction<T>(work: (tx: IssuanceTx) => Promise<T>): Promise<T>;
}
