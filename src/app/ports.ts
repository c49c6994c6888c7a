import type {
  BusinessCode,
  Coupon,
  CouponPolicy,
  CouponReservation,
  CouponStatus,
  DiscountTerms,
  ErrorCode,
  PaymentEventType,
  PolicyStatus,
  ReservationState,
  TimedOutReservation,
  Transition,
} from '../domain/index.js';

/**
 * The ports of the use cases: what they need of the world, as interfaces. `src/infra` implements
 * them; `src/wiring` hands the implementations to the use cases. Every store is a unit of work:
 * `transaction(work)` runs `work` in one database transaction (committed when it resolves, rolled
 * back when it throws), and the statements it offers are the set-based ones the service runs.
 */

/** The time, as the use cases read it. */
export interface Clock {
  now(): Date;
}

/** A new UUIDv7 (time-ordered). */
export type NewId = () => string;

/** A page of a list read newest first (or oldest first, as the list says), with the next cursor. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Who did a state-changing admin action, for the audit log. */
export interface AuditBy {
  /** The admin's `sub`, or the operator's Basic user. */
  actor: string;
  requestId: string | null;
}

/** One state-changing admin action, as the audit log keeps it. */
export interface AuditEntry extends AuditBy {
  /** `policy.create`, `policy.status`, `policy.codes`, `coupon.cancel`, `queues.write`. */
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

/** A policy with the count of codes generated for it. */
export type StoredPolicy = CouponPolicy & { codesGenerated: number };

export interface PolicyTx {
  insert(policy: StoredPolicy): Promise<void>;
  /** The policy, locked for the rest of the transaction. */
  lock(id: string): Promise<StoredPolicy | null>;
  setStatus(id: string, status: PolicyStatus, now: Date): Promise<void>;
  /**
   * Stores `count` new codes' keyed hashes for the policy and counts them as generated; returns
   * their plaintext (which exists nowhere else).
   */
  addCodes(policyId: string, count: number): Promise<string[]>;
  audit(entry: AuditEntry): Promise<void>;
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

export interface HistoryEntry {
  from: CouponStatus | null;
  to: CouponStatus;
  actor: string;
  reason: string | null;
  at: string;
}

/** Reads of coupons for the API. */
export interface CouponReader {
  find(id: string): Promise<Coupon | null>;
  /** Newest first, optionally one user's, optionally one status. */
  list(filter: {
    userId?: string | undefined;
    status?: CouponStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Coupon>>;
  /** Oldest first; `after` is the position of the last change of the previous page. */
  history(couponId: string, page: { limit: number; after?: string }): Promise<Page<HistoryEntry>>;
  /** Every reservation of the coupon, oldest first. */
  reservations(couponId: string): Promise<CouponReservation[]>;
}

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
}

/** A client's action on a coupon, as the usage queue carries it. */
export type CouponAction =
  | { type: 'RESERVE'; actor: string; couponId: string; orderId: string; orderAmount: number }
  | { type: 'USE'; actor: string; couponId: string; orderId: string; orderAmount: number }
  | { type: 'RELEASE'; actor: string; couponId: string; orderId: string }
  | { type: 'CANCEL'; actor: string; couponId: string; reason: string };

/** A payment event recorded and not yet applied, as a PAYMENT job names it. */
export interface PendingPayment {
  eventId: string;
  orderId: string;
}

/** What `GET /v1/jobs/:id` shows of a job. */
export interface JobStatus {
  jobId: string;
  type: 'ISSUE' | 'RESERVE' | 'USE' | 'RELEASE' | 'CANCEL' | 'PAYMENT';
  state: 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';
  result?: unknown;
  error?: { code: ErrorCode; message: string };
  createdAt: string;
  finishedAt: string | null;
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
  /** A job's state and outcome (also one decided at intake); null when unknown. */
  read(jobId: string): Promise<JobStatus | null>;
}

/**
 * The intake gate in Redis: policies known to be sold out are answered at intake, without a job.
 * Any doubt answers "not sold out": the request then takes the ordinary path.
 */
export interface IntakeGate {
  soldOut(policyId: string): Promise<boolean>;
  /** Records a request decided at intake; it reads like a failed job. Returns its job id. */
  refuse(refusal: { actor: string; code: BusinessCode; message: string }): Promise<string>;
  /** Marks policies sold out, after the commit that saw them so. */
  markSoldOut(policies: { id: string; validUntil: Date }[]): Promise<void>;
  /** Forgets a policy's mark (its status changed). */
  reopen(policyId: string): Promise<void>;
}

/** The keyed hash of a code a user typed, or null when it cannot be a code. */
export type CodeHasher = (typed: string) => string | null;

/** A coupon row locked for a change, with its policy's terms. */
export interface LockedCoupon {
  coupon: Coupon;
  policy: CouponPolicy & DiscountTerms;
  /** Orders whose latest reservation of this coupon timed out (a payment completing late). */
  late?: TimedOutReservation[];
}

/**
 * What a change does to the coupon's reservation records: `open` a new ACTIVE one (every reserve),
 * `close` the ACTIVE one in a given state, or `confirm` a TIMED_OUT one by id (a late payment).
 */
export type ReservationWrite =
  | { open: CouponReservation }
  | { close: ReservationState }
  | { confirm: string };

/** A status change the domain decided, to be written with its history, event and reservation. */
export interface Change {
  transition: Transition;
  actor: string;
  reason: string | null;
  /**
   * Left out: a change out of RESERVED closes the ACTIVE reservation as the domain's
   * `closingState` says; other changes touch none. A reserve must say `open`.
   */
  reservation?: ReservationWrite;
}

/** A payment event recorded and not yet applied, locked. */
export interface PendingPaymentEvent {
  eventId: string;
  type: PaymentEventType;
  orderId: string;
  userId: string;
}

/** A reservation past its expiry, as the timeout sweep reads it. */
export interface StaleReservation {
  couponId: string;
  orderId: string;
  /** The ACTIVE reservation record; null for a coupon reserved before records were kept. */
  reservationId: string | null;
  reservedAt: Date;
  extensions: number;
}

export interface CouponTx {
  /** The coupon row locked for the rest of the transaction, with its policy's terms. */
  lockCoupon(couponId: string): Promise<LockedCoupon | null>;
  /**
   * Coupons these orders' payment events can act on, locked in id order: those RESERVED or USED
   * for one of the orders, and the coupon of each order's latest TIMED_OUT reservation.
   */
  lockOrderCoupons(orderIds: string[]): Promise<LockedCoupon[]>;
  /** Writes status changes in one statement; throws when a row moved meanwhile. */
  saveChanges(changes: Change[], now: Date): Promise<void>;
  /** The coupon a usage job's committed change left, when the job ran before. */
  actionResult(jobId: string): Promise<Coupon | null>;
  storeActionResult(jobId: string, coupon: Coupon, now: Date): Promise<void>;
  /** Every pending event of these orders, locked, each order's oldest offset first. */
  lockPendingPayments(orderIds: string[]): Promise<PendingPaymentEvent[]>;
  markPaymentsApplied(
    outcomes: { id: string; outcome: string }[],
    orderIds: string[],
    now: Date,
  ): Promise<void>;
  /** ISSUED coupons past `expiresAt`, locked (SKIP LOCKED). */
  lockExpired(now: Date, limit: number): Promise<Coupon[]>;
  /** RESERVED coupons reserved before `staleBefore` whose record is not extended past `now`. */
  lockStaleReservations(staleBefore: Date, now: Date, limit: number): Promise<Coupon[]>;
  /**
   * Of these coupons, those still stale, locked (SKIP LOCKED), each with its ACTIVE reservation id
   * and its policy.
   */
  lockStillStale(
    couponIds: string[],
    staleBefore: Date,
    now: Date,
  ): Promise<{ coupon: Coupon; reservationId: string | null; policy: CouponPolicy | undefined }[]>;
  extendReservations(reservationIds: string[], until: Date): Promise<void>;
}

export interface CouponStore {
  transaction<T>(work: (tx: CouponTx) => Promise<T>): Promise<T>;
  /** Reservations past their expiry after `after` (keyset on reserved_at, coupon id). */
  staleReservations(
    staleBefore: Date,
    now: Date,
    after: [Date, string],
    limit: number,
  ): Promise<StaleReservation[]>;
  /** Orders with events recorded before `before` and still pending, after `after` (keyset). */
  pendingPaymentOrders(before: Date, after: string, limit: number): Promise<string[]>;
  /** The recorded outcome of each of these events that has been applied. */
  paymentOutcomes(eventIds: string[]): Promise<Map<string, string>>;
  findCoupons(ids: string[]): Promise<Coupon[]>;
}

/** A payment event accepted from the payment topic. */
export interface PaymentEvent {
  eventId: string;
  type: PaymentEventType;
  orderId: string;
  userId: string;
  amount: number;
  occurredAt: string;
}

/** Accepted events of one partition of `topic`, in offset order. */
export interface PaymentChunk {
  topic: string;
  partition: number;
  events: { event: PaymentEvent; offset: string }[];
}

export interface PaymentEventStore {
  /**
   * Records the chunk's events as pending (once per `eventId`) and returns those of the chunk still
   * pending, in offset order.
   */
  record(chunk: PaymentChunk): Promise<PendingPayment[]>;
}

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

/** Retention pruning. */
export interface RetentionStore {
  /** Deletes up to `limit` published outbox rows published before `before`; returns how many. */
  pruneOutbox(before: Date, limit: number): Promise<number>;
  /** Deletes up to `limit` payment events applied before `before`; returns how many. */
  prunePaymentEvents(before: Date, limit: number): Promise<number>;
  /** Forgets stored usage-job results from before `before`. */
  pruneActionResults(before: Date): Promise<void>;
}

/** Tells of things an operator should know (a late payment whose coupon was taken). */
export interface Warn {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Tells failures apart, as the adapters that raised them know them. */
export interface FailureKinds {
  /** A dependency is unreachable or overloaded: waited out, never blamed on the data. */
  isOutage(error: unknown): boolean;
  /** The rows a statement writes caused it (bad data, a constraint they break). */
  isItemCaused(error: unknown): boolean;
  /** The same rows fail the same way however often they are written again. */
  isPermanent(error: unknown): boolean;
  /** One short line fit for a log field: never the statement or its parameters. */
  describe(error: unknown): string;
}

/** Every port, as the composition root hands them out; each use case names the ones it needs. */
export interface Ports {
  clock: Clock;
  newId: NewId;
  policies: PolicyStore;
  coupons: CouponStore;
  couponReader: CouponReader;
  issuance: IssuanceStore;
  paymentEvents: PaymentEventStore;
  retention: RetentionStore;
  statistics: Statistics;
  audit: AuditLog;
  jobs: JobQueue;
  intake: IntakeGate;
  hashCode: CodeHasher;
  failures: FailureKinds;
  log: Warn;
}
