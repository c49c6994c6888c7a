import type { BusinessCode, ErrorCode } from '../../domain/index.js';

/** The job queues and the intake gate in front of them. */

/** An issuance job's request, as the queue carries it. */
export interface IssueJobData {
  type: 'ISSUE';
  /** Who asked (the JWT `sub`); the only one besides admins who may read the job. */
  actor: string;
  /** Who receives the coupon. */
  userId: string;
  policyId?: string | undefined;
  /** HMAC of the normalised code; the plaintext code never reaches the queue. */
  codeHash?: string | undefined;
  /**
   * HMAC of the typed code as a public code (in its own context); the worker tries it before
   * `codeHash`. Absent when the typed code cannot be a public code.
   */
  publicCodeHash?: string | undefined;
}

/** A code batch's job: the batch row says what to make. */
export interface CodeBatchJobData {
  type: 'CODE_BATCH';
  actor: string;
  batchId: string;
}

/** A client's action on a coupon, as the usage queue carries it. */
export type CouponAction =
  | { type: 'RESERVE'; actor: string; couponId: string; orderId: string; orderAmount: number }
  | { type: 'USE'; actor: string; couponId: string; orderId: string; orderAmount: number }
  | { type: 'RELEASE'; actor: string; couponId: string; orderId: string }
  | {
      type: 'CANCEL';
      actor: string;
      couponId: string;
      reason: string;
      /** The admin request's `X-Request-Id`, for the audit record the cancel writes. */
      requestId?: string | null | undefined;
    };

/** A payment event recorded and not yet applied, as a PAYMENT job names it. */
export interface PendingPayment {
  eventId: string;
  orderId: string;
}

/** What `GET /v1/jobs/:id` shows of a job. */
export interface JobStatus {
  jobId: string;
  type: 'ISSUE' | 'RESERVE' | 'USE' | 'RELEASE' | 'CANCEL' | 'PAYMENT' | 'CODE_BATCH';
  state: 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';
  result?: unknown;
  error?: { code: ErrorCode; message: string };
  createdAt: string;
  finishedAt: string | null;
  /** How far a job that reports progress (a code batch) got. */
  progress?: { done: number; total: number };
  /** Who created it, for the ownership check. */
  actor: string;
}

export type Enqueued = { ok: true; jobId: string } | { ok: false; reason: 'KEY_REUSED' };

/** An add to a queue, once per Idempotency-Key (a repeat with another body is refused). */
export interface EnqueueOnce<D> {
  actor: string;
  idempotencyKey?: string | undefined;
  data: D;
  /** What identifies the request (its body); fingerprinted only with an Idempotency-Key. */
  request: unknown;
}

/** The job queues: issuance and usage (actions and payment events). */
export interface JobQueue {
  enqueueIssue(job: EnqueueOnce<IssueJobData>): Promise<Enqueued>;
  enqueueAction(job: EnqueueOnce<CouponAction>): Promise<Enqueued>;
  /** One PAYMENT job for these events, its id derived from them (the same events: one job). */
  enqueuePayments(events: PendingPayment[]): Promise<void>;
  /** The job that makes a recorded code batch's codes; its id is derived from the batch's. */
  enqueueCodeBatch(batch: CodeBatchJobData): Promise<string>;
  /** A job's state and outcome (also one decided at intake); null when unknown. */
  read(jobId: string): Promise<JobStatus | null>;
}

/** A policy seen sold out at commit; `validUntil` ends the mark's meaning. */
export interface SoldOutMark {
  id: string;
  validUntil: Date;
  /** Set for a CODE policy with a public code: the mark is then for that code alone. */
  publicCodeHash?: string | undefined;
}

/**
 * The intake gate in Redis: policies known to be sold out are answered at intake, without a job.
 * Any doubt answers "not sold out": the request then takes the ordinary path.
 */
export interface IntakeGate {
  soldOut(policyId: string): Promise<boolean>;
  /** Whether the policy of this public code (by its keyed hash) is marked sold out. */
  publicCodeSoldOut(publicCodeHash: string): Promise<boolean>;
  /** Records a request decided at intake; it reads like a failed job. Returns its job id. */
  refuse(refusal: { actor: string; code: BusinessCode; message: string }): Promise<string>;
  /**
   * Marks policies sold out, after the commit that saw them so: by id, or by their public code's
   * hash when given (a CODE policy is requested only by code).
   */
  markSoldOut(policies: SoldOutMark[]): Promise<void>;
  /** Forgets a policy's mark, and its public code's (its status changed). */
  reopen(policyId: string, publicCodeHash?: string | null): Promise<void>;
}

/**
 * Failed code redemptions per caller: past the limit, the caller's further code requests are
 * refused at intake, before any job is made, until the window passes.
 */
export interface CodeAttempts {
  /** Seconds until the caller may redeem a code again; null when not refused. */
  blockedFor(actor: string): Promise<number | null>;
  /** Counts one failed redemption (CODE_INVALID) for each of these callers (repeats count). */
  failed(actors: string[]): Promise<void>;
}
