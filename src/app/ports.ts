import type { Clock, CodeHasher, FailureKinds, NewId, Warn } from './ports/basics.js';
import type { CouponReader, CouponStore } from './ports/coupons.js';
import type { IssuanceStore } from './ports/issuance.js';
import type { OrderReader } from './ports/orders.js';
import type { PaymentEventStore, RetentionStore } from './ports/payment-events.js';
import type { AuditLog, CodeBatchStore, PolicyStore, Statistics } from './ports/policies.js';
import type { CodeAttempts, IntakeGate, JobQueue } from './ports/queues.js';

/**
 * The ports of the use cases: what they need of the world, as interfaces. `src/infra` implements
 * them; `src/wiring` hands the implementations to the use cases. Every store is a unit of work:
 * `transaction(work)` runs `work` in one database transaction (committed when it resolves, rolled
 * back when it throws), and the statements it offers are the set-based ones the service runs.
 */

export type * from './ports/basics.js';
export type * from './ports/coupons.js';
export type * from './ports/issuance.js';
export type * from './ports/orders.js';
export type * from './ports/payment-events.js';
export type * from './ports/policies.js';
export type * from './ports/queues.js';

/** Every port, as the composition root hands them out; each use case names the ones it needs. */
export interface Ports {
  clock: Clock;
  newId: NewId;
  policies: PolicyStore;
  codeBatches: CodeBatchStore;
  coupons: CouponStore;
  couponReader: CouponReader;
  orders: OrderReader;
  issuance: IssuanceStore;
  paymentEvents: PaymentEventStore;
  retention: RetentionStore;
  statistics: Statistics;
  audit: AuditLog;
  jobs: JobQueue;
  intake: IntakeGate;
  codeAttempts: CodeAttempts;
  hashCode: CodeHasher;
  /** The keyed hash of a public code (its own context: never a generated code's hash). */
  hashPublicCode: CodeHasher;
  failures: FailureKinds;
  log: Warn;
}
